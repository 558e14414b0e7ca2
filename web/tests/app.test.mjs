// The web app as a person uses it, in a real headless Chromium against a real `scanpro serve`:
// every result is downloaded and checked with pdfinfo, pdftotext and qpdf.

import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP,
  PHONE,
  catalogue,
  corpus,
  createUser,
  freePort,
  startOidcProvider,
  launchBrowser,
  newContext,
  open,
  pageCount,
  pageText,
  qpdfCheck,
  rotations,
  run,
  scratchDir,
  screenshot,
  seriousViolations,
  startServer,
} from './harness.mjs';

const TWO_PAGES = 'pdf-text/ltnews17.pdf';
const THREE_PAGES = 'pdf-text/lscape.pdf';
const FIVE_PAGES = 'pdf-text/pdfjs_file_pdfjs_test.pdf';
const IMAGE_HEAVY = 'pdf-text/pdfjs_images.pdf';
const SCANNED = 'pdf-scanned/ocrmypdf_multipage.pdf';
const DOCX = 'docx';

let server;
let browser;
let tools;
const scratch = scratchDir();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  tools = await catalogue(server);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs `body` with a fresh page (own guest, own localStorage); closes it afterwards. */
async function withPage(body, options = {}) {
  const context = await newContext(browser, server, options);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  // The content security policy must not block anything the app does.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  try {
    await body(page, context);
    assert.deepEqual(problems, [], 'the page raised script errors');
  } finally {
    await context.close();
  }
}

/** Clicks something that loads another page, and waits until that page is drawn. */
async function clickThrough(page, locator, url) {
  await Promise.all([page.waitForURL(url), locator.click()]);
  await page.waitForSelector('body[data-ready="true"]');
}

async function uploadFiles(page, paths) {
  await page.locator('input.file-input').setInputFiles(paths);
}

/** Waits until `count` files are uploaded and described (page counts and thumbnails for PDFs). */
async function waitForFiles(page, count) {
  await page.waitForFunction(
    (n) => {
      const rows = [...document.querySelectorAll('li.file-row')];
      return rows.length === n && rows.every((row) => row.classList.contains('status-ready') || row.classList.contains('status-rejected'));
    },
    count,
    { timeout: 60_000 },
  );
}

async function fileNames(page) {
  return page.locator('li.file-row .file-name').allTextContents();
}

async function waitForResult(page, timeout = 120_000) {
  await page.waitForSelector('#job .result, #job .alert-error', { timeout });
  const failure = await page.locator('#job .alert-error').count();
  if (failure) assert.fail(`the job failed: ${await page.locator('#job .alert-error').innerText()}`);
}

async function download(page, selector, name) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(selector).first().click()]);
  const path = join(scratch, name);
  await file.saveAs(path);
  return path;
}

function toolNamed(name) {
  const tool = tools.find((entry) => entry.name === name);
  assert.ok(tool, `the server's catalogue has no ${name} tool (it lists: ${tools.map((t) => t.name).join(', ')})`);
  return tool;
}

/** The catalogue's tool taking `format` files into PDF (office_to_pdf, convert, …). */
function toolConverting(format) {
  const tool = tools.find((entry) => (entry.inputs?.formats || []).includes(format) && entry.available !== false && /pdf/i.test(entry.name));
  assert.ok(tool, `no available tool in the catalogue converts ${format} to PDF (it lists: ${tools.map((t) => t.name).join(', ')})`);
  return tool;
}

describe('home page', () => {
  test('lists every tool of the catalogue by section, and search filters them', async () => {
    await withPage(async (page) => {
      await open(page, '/');
      assert.equal(await page.locator('h1').innerText(), 'Every tool for your documents');
      for (const tool of tools) {
        assert.equal(await page.locator(`li.tool-card[data-tool="${tool.name}"]`).count(), 1, `${tool.name} is listed`);
      }
      const sections = await page.locator('.tool-section h2').allTextContents();
      assert.ok(sections.includes('Organise'), `sections: ${sections}`);
      assert.ok(sections.includes('Security'), `sections: ${sections}`);
      assert.equal(await page.locator('.tool-section[data-section="organize"] li[data-tool="merge"]').count(), 1);
      for (const tool of tools.filter((t) => t.available === false)) {
        assert.match(await page.locator(`li.tool-card[data-tool="${tool.name}"]`).innerText(), /Unavailable/);
      }

      // Keyboard focus is visible: tabbing from the search lands on a tool, whose card is outlined.
      await page.focus('#tool-search');
      await page.keyboard.press('Tab');
      const ring = await page.evaluate(() => {
        const card = document.activeElement.closest('.tool-card');
        return card ? `${getComputedStyle(card).outlineStyle} ${getComputedStyle(card).outlineWidth}` : 'no card focused';
      });
      assert.equal(ring, 'solid 3px');

      await page.fill('#tool-search', 'password');
      await page.waitForFunction(() => document.querySelector('#search-count').textContent.includes('found'));
      const visible = await page.locator('li.tool-card:visible').evaluateAll((cards) => cards.map((c) => c.dataset.tool));
      assert.ok(visible.includes('protect') && visible.includes('unlock'), `visible: ${visible}`);
      assert.ok(!visible.includes('merge'), `merge should be filtered out: ${visible}`);
      // Everyday words find tools, by the start of a word: "lock" is Protect, not Rotate's
      // "clockwise".
      for (const [query, expected, absent] of [['join', 'merge', 'split'], ['shrink', 'compress', 'merge'], ['lock', 'protect', 'rotate'], ['jpg', 'pdf_to_image', 'merge']]) {
        await page.fill('#tool-search', query);
        const found = await page.locator('li.tool-card:visible').evaluateAll((cards) => cards.map((c) => c.dataset.tool));
        assert.ok(found.includes(expected) && !found.includes(absent), `${query}: ${found}`);
      }
      await page.fill('#tool-search', 'zzzz-no-such-tool');
      assert.match(await page.locator('#search-count').innerText(), /No tool matches/);
      await page.fill('#tool-search', '');

      await clickThrough(page, page.locator('li.tool-card[data-tool="merge"] a'), '**/tool/merge');
      // Arriving at a tool, focus is on the file picker.
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('file-input')), true);
    });
    await withPage(async (page) => {
      await open(page, '/');
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focus starts at the title');
      // Enter opens the only match, in the page's language too.
      await page.fill('#tool-search', 'shrink');
      await Promise.all([page.waitForURL('**/tool/compress'), page.press('#tool-search', 'Enter')]);
      await page.evaluate(() => localStorage.setItem('scanpro.language', 'de'));
      await open(page, '/');
      await page.fill('#tool-search', 'verkleinern');
      const found = await page.locator('li.tool-card:visible').evaluateAll((cards) => cards.map((c) => c.dataset.tool));
      assert.deepEqual(found, ['compress'], 'German everyday words find tools too');
    });
    await withPage(async (page) => {
      // A checkbox shows the default the server applies: bookmarks are exported unless unticked.
      await open(page, '/tool/office_to_pdf');
      assert.equal(await page.locator('#opt-export_bookmarks').isChecked(), true);
    });
  });

  test('screenshots at phone and desktop widths, light and dark', async () => {
    await withPage(async (page) => {
      for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
        await page.setViewportSize(viewport);
        await open(page, '/');
        await screenshot(page, `home-${label}`);
        await open(page, '/tool/watermark');
        await screenshot(page, `tool-watermark-${label}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${label}: the page scrolls sideways by ${overflow}px`);
      }
      await page.setViewportSize(DESKTOP);
      await page.emulateMedia({ colorScheme: 'dark' });
      await open(page, '/');
      await screenshot(page, 'home-desktop-dark');
    });
  });

  test('axe finds no serious or critical violation on the home page and every tool page', async () => {
    await withPage(async (page) => {
      const failures = [];
      const check = async (path, label = path) => {
        await open(page, path);
        for (const violation of await seriousViolations(page)) failures.push(`${label}: ${violation}`);
      };
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        await check('/', `/ (${scheme})`);
        await check('/tool/watermark', `/tool/watermark (${scheme})`);
      }
      await page.emulateMedia({ colorScheme: 'light' });
      for (const tool of tools) {
        await check(`/tool/${tool.name}`);
        // Folded options count too.
        const more = page.locator('details.more-options');
        if (await more.count()) {
          await more.first().evaluate((details) => {
            details.open = true;
          });
          for (const violation of await seriousViolations(page)) failures.push(`/tool/${tool.name} (more options): ${violation}`);
        }
      }
      await check('/organise');
      await page.setViewportSize(PHONE);
      await check('/', '/ (phone)');
      assert.deepEqual(failures, []);
    });
  });
});

describe('tools', () => {
  test('merge two corpus PDFs after reordering them, then continue with rotate', async () => {
    await withPage(async (page, context) => {
      await open(page, '/tool/merge');
      // A slow uplink, so the upload progress bar is seen moving.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 96 * 1024 });
      await uploadFiles(page, [corpus(TWO_PAGES), corpus(THREE_PAGES)]);
      const bar = page.locator('li.file-row progress').first();
      await bar.waitFor({ state: 'visible' });
      assert.match(await page.locator('li.file-row .upload-progress').first().innerText(), /Uploading… \d+%/);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await waitForFiles(page, 2);
      assert.deepEqual(await fileNames(page), ['ltnews17.pdf', 'lscape.pdf']);
      const rows = page.locator('li.file-row');
      assert.match(await rows.nth(0).innerText(), /2 pages/);
      assert.match(await rows.nth(1).innerText(), /3 pages/);
      // First-page thumbnails, rendered by the server, load as images.
      await page.waitForFunction(() => {
        const thumbs = [...document.querySelectorAll('li.file-row img.thumb')];
        return thumbs.length === 2 && thumbs.every((img) => img.complete && img.naturalWidth > 0);
      });

      await rows.nth(1).dragTo(rows.nth(0));
      assert.deepEqual(await fileNames(page), ['lscape.pdf', 'ltnews17.pdf']);
      // The same with the keyboard: the arrow buttons move a file, and focus stays with it.
      const focusedFile = () => page.evaluate(() => document.activeElement.closest('li')?.querySelector('.file-name')?.textContent);
      await rows.nth(0).locator('[data-action="down"]').focus();
      await page.keyboard.press('Enter');
      assert.deepEqual(await fileNames(page), ['ltnews17.pdf', 'lscape.pdf']);
      assert.equal(await focusedFile(), 'lscape.pdf');
      await page.keyboard.press('Enter');
      assert.deepEqual(await fileNames(page), ['lscape.pdf', 'ltnews17.pdf']);
      assert.equal(await focusedFile(), 'lscape.pdf');
      // Grabbed by its thumbnail too (an image the browser would otherwise drag away), and back.
      for (const expected of [['ltnews17.pdf', 'lscape.pdf'], ['lscape.pdf', 'ltnews17.pdf']]) {
        await rows.nth(1).locator('img.thumb').dragTo(rows.nth(0));
        assert.deepEqual(await fileNames(page), expected);
      }
      await screenshot(page, 'tool-merge-desktop');

      await page.click('#start');
      await waitForResult(page);
      assert.equal(await page.locator('#job .sizes').count(), 0, 'sizes are compared for tools that make files smaller');
      await page.waitForSelector('#job figure.preview img');
      const merged = await download(page, '#job a.download', 'merged.pdf');
      qpdfCheck(merged);
      assert.equal(pageCount(merged), 5);
      assert.equal(pageText(merged, 1), pageText(corpus(THREE_PAGES), 1));
      assert.equal(pageText(merged, 4), pageText(corpus(TWO_PAGES), 1));
      assert.match(new URL(page.url()).search, /^\?job=/);

      // The result goes into the next tool by id: no upload, the file list starts with it.
      const uploads = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && request.url().endsWith('/api/v1/files')) uploads.push(request.url());
      });
      const offered = await page.locator('#next-tool option').allTextContents();
      assert.ok(!offered.includes('Merge PDFs'), `the tool that made the result is not offered again: ${offered}`);
      await page.selectOption('#next-tool', { label: 'Rotate pages' });
      await clickThrough(page, page.locator('#continue'), (url) => url.pathname === '/tool/rotate');
      await waitForFiles(page, 1);
      assert.match(await page.locator('li.file-row').innerText(), /5 pages/);
      await page.selectOption('#opt-angle', '90');
      await page.check('#opt-pages-custom');
      // Options are checked before anything runs, in plain words beside the option.
      for (const [pages, message] of [['2-x', /Write pages like 1-3,5,8-/], ['9', /The document has only 5 pages\./]]) {
        await page.fill('#opt-pages', pages);
        await page.click('#start');
        assert.match(await page.locator('#opt-pages-error').innerText(), message);
        assert.equal(await page.locator('#opt-pages').getAttribute('aria-invalid'), 'true');
        assert.equal(await page.locator('#job').count(), 0);
      }
      await page.fill('#opt-pages', '2');
      await page.click('#start');
      await waitForResult(page);
      const rotated = await download(page, '#job a.download', 'rotated.pdf');
      assert.deepEqual(rotations(rotated), [0, 90, 0, 0, 0]);
      assert.deepEqual(uploads, [], 'continuing must not upload the result again');
    });
  });

  test('a wrong-type upload and a wrong password are told in plain words', async () => {
    const notPdf = join(scratch, 'notes.pdf');
    writeFileSync(notPdf, 'These are notes, not a PDF.\n'.repeat(20));
    await withPage(async (page) => {
      await open(page, '/tool/merge');
      // Dropped onto the drop zone, as a person would.
      const dropped = await page.evaluateHandle((text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], 'notes.pdf', { type: 'application/pdf' }));
        return transfer;
      }, readFileSync(notPdf, 'utf8'));
      await page.locator('.drop-zone').dispatchEvent('dragover', { dataTransfer: dropped });
      await page.locator('.drop-zone').dispatchEvent('drop', { dataTransfer: dropped });
      await waitForFiles(page, 1);
      const row = page.locator('li.file-row');
      assert.match(await row.innerText(), /notes\.pdf is text, not a PDF file\./);
      await page.click('#start');
      assert.match(await page.locator('#form-problem').innerText(), /Remove the files that cannot be used/);
      assert.equal(await page.locator('#job').count(), 0, 'no job starts with an unusable file');
      for (const violation of await seriousViolations(page)) assert.fail(violation);
      // An empty file is told as such; one click removes every unusable file.
      const empty = join(scratch, 'empty.pdf');
      writeFileSync(empty, '');
      await uploadFiles(page, [empty]);
      await waitForFiles(page, 2);
      assert.match(await page.locator('li.file-row').nth(1).innerText(), /empty\.pdf is empty/);
      await page.click('#remove-unusable');
      assert.equal(await page.locator('li.file-row').count(), 0);
      assert.equal(await page.locator('#remove-unusable').count(), 0);
    });

    // A protected PDF opened with the wrong password: the API's `wrong_password`, in words.
    const protectedPdf = join(scratch, 'protected.pdf');
    const form = new FormData();
    form.append('file', new Blob([readFileSync(corpus(TWO_PAGES))]), 'protected.pdf');
    form.append('params', JSON.stringify({ user_password: 'right-one', owner_password: 'owner-secret' }));
    const response = await fetch(`${server.base}/api/v1/tools/protect`, { method: 'POST', body: form });
    assert.equal(response.status, 200, await response.clone().text());
    writeFileSync(protectedPdf, Buffer.from(await response.arrayBuffer()));
    await withPage(async (page) => {
      await open(page, '/tool/unlock');
      await uploadFiles(page, [protectedPdf]);
      await waitForFiles(page, 1);
      assert.match(await page.locator('li.file-row').innerText(), /Password-protected/);
      await page.fill('#opt-password', 'wrong-one');
      await page.click('#start');
      const alert = page.locator('#job [role="alert"]');
      await alert.waitFor({ timeout: 60_000 });
      assert.equal(await alert.getAttribute('data-code'), 'wrong_password');
      assert.match(await alert.innerText(), /The password is wrong\./);
      // The field is where to type it again: focused, its text selected.
      const selected = await page.evaluate(() => {
        const field = document.activeElement;
        return field?.id === 'opt-password' && field.selectionStart === 0 && field.selectionEnd === field.value.length;
      });
      assert.equal(selected, true, 'the password field is focused with its text selected');
      assert.doesNotMatch(await alert.innerText(), /panick|stack|backtrace|at .*\.rs:\d+/i);
    });
  });

  test('sign a PDF with a certificate file, and the signature holds', async () => {
    toolNamed('digital_sign');
    const key = join(scratch, 'signer.key');
    const certificate = join(scratch, 'signer.pem');
    const p12 = join(scratch, 'signer.p12');
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificate, '-days', '30', '-subj', '/CN=Web Signer']);
    run('openssl', ['pkcs12', '-export', '-inkey', key, '-in', certificate, '-passout', 'pass:web secret', '-out', p12]);
    await withPage(async (page) => {
      await open(page, '/tool/digital_sign');
      await uploadFiles(page, [corpus(TWO_PAGES), p12]);
      await waitForFiles(page, 2);
      await page.fill('#opt-password', 'web secret');
      await page.fill('#opt-reason', 'Approved in the browser');
      await page.click('#start');
      await waitForResult(page, 120_000);
      const signed = await download(page, '#job a.download', 'signed.pdf');
      const report = run('pdfsig', [signed]);
      assert.match(report, /Signature is Valid/);
      assert.match(report, /Web Signer/);

      // Deleting asks first: declined, nothing happens; accepted, the page says the files are gone.
      page.once('dialog', (dialog) => dialog.dismiss());
      await page.click('#delete-result');
      assert.equal(await page.locator('#delete-result').count(), 1, 'declined: the files stay');
      page.once('dialog', (dialog) => {
        assert.match(dialog.message(), /cannot be undone/);
        dialog.accept();
      });
      await page.click('#delete-result');
      await page.waitForFunction(() => document.querySelector('#job')?.textContent.includes('deleted from the server'));
    });
  });

  test('split into single pages: every page, and all of them in one zip', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/split');
      await uploadFiles(page, [corpus(THREE_PAGES)]);
      await waitForFiles(page, 1);
      // What a choice does is said under the list, when its name does not say it all.
      await page.selectOption('#opt-mode', 'every');
      assert.match(await page.locator('[data-path="mode"] .choice-help').innerText(), /A new file after the number of pages you give/);
      await page.selectOption('#opt-mode', 'each');
      assert.ok(await page.locator('[data-path="ranges"]').isHidden(), 'page ranges only show for mode = ranges');
      await page.click('#start');
      await waitForResult(page);
      assert.equal(await page.locator('#job .result-files li').count(), 3);
      const zip = await download(page, '#download-all', 'pages.zip');
      const listing = run('unzip', ['-Z1', zip]).trim().split('\n');
      assert.equal(listing.length, 3, listing.join(', '));
      const single = await download(page, '#job a.download', 'page1.pdf');
      assert.equal(pageCount(single), 1);
      assert.equal(pageText(single, 1), pageText(corpus(THREE_PAGES), 1));
    });
  });

  test('a text watermark placed with the position grid and the colour picker', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/watermark');
      await uploadFiles(page, [corpus(THREE_PAGES)]);
      await waitForFiles(page, 1);
      await page.fill('#opt-text', 'DRAFT 2026');
      await page.locator('label[for="opt-position-top_left"]').click();
      assert.ok(await page.locator('#opt-position-top_left').isChecked());
      await page.locator('#opt-color').fill('#c01c28');
      await page.click('#start');
      await waitForResult(page);
      const marked = await download(page, '#job a.download', 'watermarked.pdf');
      qpdfCheck(marked);
      const layout = run('pdftotext', ['-bbox', '-f', '1', '-l', '1', marked, '-']);
      const pageBox = /<page width="([\d.]+)" height="([\d.]+)"/.exec(layout);
      const word = /<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>DRAFT<\/word>/.exec(layout);
      assert.ok(pageBox && word, `no DRAFT on page 1:\n${layout.slice(0, 2000)}`);
      const [width, height] = [Number(pageBox[1]), Number(pageBox[2])];
      assert.ok(Number(word[1]) < width / 3 && Number(word[2]) < height / 3, `DRAFT is not at the top left: ${word[0]}`);
      // The colour picked shows: red pixels where there were none.
      const reddish = (pdf) => {
        const prefix = join(scratch, `render-${Date.now()}`);
        run('pdftoppm', ['-r', '40', '-f', '1', '-l', '1', '-singlefile', pdf, prefix]);
        const ppm = readFileSync(`${prefix}.ppm`);
        const headerEnd = ppm.indexOf('\n255\n') + 5;
        let count = 0;
        for (let i = headerEnd; i + 2 < ppm.length; i += 3) if (ppm[i] > ppm[i + 1] + 60 && ppm[i] > ppm[i + 2] + 60) count += 1;
        return count;
      };
      assert.equal(reddish(corpus(THREE_PAGES)), 0);
      assert.ok(reddish(marked) > 20, 'the watermark is not drawn in the colour picked');
    });
  });

  test('images to PDF: a page per image, in the order of the list', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/images_to_pdf');
      await uploadFiles(page, [corpus('images/ocrmypdf_baiona.png'), corpus('images/tesseract_eurotext.tif')]);
      await waitForFiles(page, 2);
      // PNG previews come straight from the browser; TIFF shows its type instead.
      assert.equal(await page.locator('li.file-row').nth(0).locator('img.thumb').count(), 1);
      assert.match(await page.locator('li.file-row').nth(1).locator('.thumb-empty').innerText(), /TIF/);
      await page.locator('li.file-row').nth(1).locator('[data-action="up"]').click();
      assert.deepEqual(await fileNames(page), ['tesseract_eurotext.tif', 'ocrmypdf_baiona.png']);
      await page.click('#start');
      await waitForResult(page);
      const pdf = await download(page, '#job a.download', 'images.pdf');
      qpdfCheck(pdf);
      assert.equal(pageCount(pdf), 2);
      // The TIFF (1024 × 800, landscape) comes first, then the PNG (640 × 682, portrait).
      const shapes = [...run('pdfinfo', ['-f', '1', '-l', '2', pdf]).matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)/gm)].map((m) =>
        Number(m[1]) > Number(m[2]) ? 'landscape' : 'portrait',
      );
      assert.deepEqual(shapes, ['landscape', 'portrait']);
    });
  });

  test('repair a damaged PDF and see the sizes before and after', async () => {
    const damaged = corpus('pdf-broken/qpdf_bad-xref.pdf');
    await withPage(async (page) => {
      await open(page, '/tool/repair');
      await uploadFiles(page, [damaged]);
      await waitForFiles(page, 1);
      await page.click('#start');
      await waitForResult(page);
      assert.match(await page.locator('#job .sizes').innerText(), /^Before: \d+ B · After: \d+ B \((\d+% (smaller|larger)|Same size)\)$/);
      const repaired = await download(page, '#job a.download', 'repaired.pdf');
      qpdfCheck(repaired);
      assert.equal(pageCount(repaired), 1);
    });
  });

  test('a file over the upload limit is refused before a byte is sent', async () => {
    const small = await startServer({ SCANPRO_MAX_UPLOAD_MB: '1' });
    try {
      await withPage(async (page) => {
        const uploads = [];
        page.on('request', (request) => {
          if (request.method() === 'POST' && request.url().endsWith('/api/v1/files')) uploads.push(request.url());
        });
        await open(page, '/tool/merge');
        await uploadFiles(page, [corpus(IMAGE_HEAVY)]);
        const row = page.locator('li.file-row');
        await row.waitFor();
        assert.match(await row.innerText(), /pdfjs_images\.pdf is larger than the upload limit of 1\.0 MB\./);
        assert.deepEqual(uploads, []);
      }, { baseURL: small.base });
    } finally {
      await small.stop();
    }
  });

  test('organise pages: drag, rotate and delete, applied as one job', async () => {
    await withPage(async (page) => {
      await open(page, '/organise');
      await uploadFiles(page, [corpus(FIVE_PAGES)]);
      const cards = page.locator('li.page-card');
      await page.waitForFunction(() => document.querySelectorAll('li.page-card img').length === 5, null, { timeout: 60_000 });
      await page.waitForFunction(() => [...document.querySelectorAll('li.page-card img')].every((img) => img.complete && img.naturalWidth > 0));
      // Page 3 dragged to the front with the mouse, a line showing where it lands: 3, 1, 2, 4, 5.
      await cards.nth(0).evaluate((card) => card.scrollIntoView({ block: 'center' }));
      const [from, to] = [await cards.nth(2).boundingBox(), await cards.nth(0).boundingBox()];
      await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await page.mouse.down();
      await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 });
      assert.equal(await cards.nth(0).evaluate((card) => card.classList.contains('drop-before')), true, 'the drop line shows');
      await page.mouse.up();
      assert.equal(await page.locator('.drop-before, .drop-after').count(), 0);
      assert.deepEqual(await cards.evaluateAll((items) => items.map((item) => Number(item.dataset.page))), [3, 1, 2, 4, 5]);
      // Page 1 (now second) turned right; page 4 deleted, with the keyboard.
      await page.locator('li.page-card[data-page="1"] [data-action="rotate-right"]').click();
      await page.locator('li.page-card[data-page="4"] [data-action="delete"]').focus();
      await page.keyboard.press('Enter');
      assert.match(await page.locator('#organise-summary').innerText(), /4 of 5 pages kept/);
      // The zoom makes the pages bigger to look at.
      const narrow = (await cards.nth(0).locator('img').boundingBox()).width;
      await page.locator('#page-zoom').evaluate((slider) => {
        slider.value = slider.max;
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      });
      const wide = (await cards.nth(0).locator('img').boundingBox()).width;
      assert.ok(wide > narrow * 1.4, `zooming in did not enlarge the pages: ${narrow} → ${wide}`);
      for (const violation of await seriousViolations(page)) assert.fail(violation);
      await screenshot(page, 'organise-desktop');

      await page.click('#apply-organise');
      await waitForResult(page);
      const organised = await download(page, '#job a.download', 'organised.pdf');
      qpdfCheck(organised);
      const original = corpus(FIVE_PAGES);
      assert.equal(pageCount(organised), 4);
      assert.deepEqual(rotations(organised), [0, 90, 0, 0]);
      const expected = [3, 1, 2, 5].map((n) => pageText(original, n));
      assert.deepEqual([1, 2, 3, 4].map((n) => pageText(organised, n)), expected);
    });
  });

  test('the language follows the browser and can be switched', async () => {
    await withPage(
      async (page) => {
        await open(page, '/');
        assert.equal(await page.locator('h1').innerText(), 'Tous les outils pour vos documents');
        assert.equal(await page.getAttribute('html', 'lang'), 'fr');
      },
      { locale: 'fr-FR' },
    );
    await withPage(async (page) => {
      await open(page, '/tool/merge');
      assert.equal(await page.locator('h1').innerText(), 'Merge PDFs');
      await page.focus('#language');
      await page.selectOption('#language', 'de');
      await page.waitForFunction(() => document.documentElement.lang === 'de');
      assert.equal(await page.locator('h1').innerText(), 'PDFs zusammenfügen');
      assert.equal(await page.locator('#files-heading').innerText(), 'Dateien');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'language', 'focus stays on the switch');
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(await page.locator('h1').innerText(), 'PDFs zusammenfügen');
      await page.selectOption('#language', 'es');
      assert.equal(await page.locator('h1').innerText(), 'Unir PDF');
      // The theme switch, kept across reloads.
      await page.selectOption('#theme', 'dark');
      assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(background, 'rgb(17, 20, 26)');
      await open(page, '/');
      assert.equal(await page.locator('h1').innerText(), 'Todas las herramientas para tus documentos');
      for (const violation of await seriousViolations(page)) assert.fail(violation);
    });
  });

  test('recent jobs of this browser survive a reload', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/rotate');
      await uploadFiles(page, [corpus(THREE_PAGES)]);
      await waitForFiles(page, 1);
      await page.selectOption('#opt-angle', '180');
      await page.click('#start');
      await waitForResult(page);
      const jobUrl = page.url();

      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      await waitForResult(page);
      assert.equal(await page.locator('li.file-row').count(), 1, 'the job page shows its input again');

      await open(page, '/');
      const recent = page.locator('#recent-jobs li.recent-job');
      await recent.first().waitFor();
      assert.equal(await recent.count(), 1);
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      await page.waitForSelector('#recent-jobs li.recent-job[data-status="succeeded"]');
      assert.match(await recent.first().innerText(), /Rotate pages[\s\S]*lscape\.pdf[\s\S]*Done/);
      await clickThrough(page, recent.first().locator('a'), jobUrl);
      await waitForResult(page);

      // "Delete my files now" removes this browser's files from the server.
      const output = await page.locator('#job a.download').first().getAttribute('href');
      await clickThrough(page, page.locator('#delete-all'), (url) => url.pathname === '/tool/rotate' && !url.search);
      assert.match(await page.locator('#privacy-status').innerText(), /files? deleted/);
      assert.equal((await page.request.get(output)).status(), 404);
    });
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('tools that need external engines', () => {
  test('a tool whose engine is down says so, and cannot be started', async () => {
    const down = await startServer({ SCANPRO_LIBREOFFICE_URL: `http://127.0.0.1:${await closedPort()}` });
    try {
      const unavailable = (await catalogue(down)).filter((tool) => tool.available === false);
      assert.ok(unavailable.length > 0, 'with the LibreOffice service unreachable, no tool is reported unavailable');
      const tool = unavailable[0];
      await withPage(async (page) => {
        await open(page, '/');
        const card = page.locator(`li.tool-card[data-tool="${tool.name}"]`);
        assert.match(await card.innerText(), /Unavailable/);
        await clickThrough(page, card.locator('a'), `**/tool/${tool.name}`);
        assert.match(await page.locator('.alert-warning').innerText(), /unavailable on this server/);
        assert.ok(await page.locator('#start').isDisabled());
      }, { baseURL: down.base });
    } finally {
      await down.stop();
    }
  });

  test('compress and see the sizes before and after', async () => {
    toolNamed('compress');
    await withPage(async (page) => {
      await open(page, '/tool/compress');
      await uploadFiles(page, [corpus(IMAGE_HEAVY)]);
      await waitForFiles(page, 1);
      await page.click('#start');
      await waitForResult(page, 300_000);
      const sizes = await page.locator('#job .sizes').innerText();
      assert.match(sizes, /Before: .* · After: .*% smaller/);
      const compressed = await download(page, '#job a.download', 'compressed.pdf');
      qpdfCheck(compressed);
      assert.equal(pageCount(compressed), pageCount(corpus(IMAGE_HEAVY)));
      const before = statSync(corpus(IMAGE_HEAVY)).size;
      const afterSize = statSync(compressed).size;
      assert.ok(afterSize < before, `compressed ${afterSize} bytes, input ${before}`);
    });
  });

  test('convert a docx to PDF', async () => {
    const tool = toolConverting(DOCX);
    const docx = run('sh', ['-c', `ls "${corpus(DOCX)}"/*.docx | head -n 1`]).trim();
    await withPage(async (page) => {
      await open(page, `/tool/${tool.name}`);
      await uploadFiles(page, [docx]);
      await waitForFiles(page, 1);
      await page.click('#start');
      await waitForResult(page, 300_000);
      const pdf = await download(page, '#job a.download', 'converted.pdf');
      qpdfCheck(pdf);
      assert.ok(pageCount(pdf) >= 1);
      assert.ok(run('pdftotext', [pdf, '-']).trim().length > 0, 'the converted PDF has text');
    });
  });

  test('convert offers its formats as a list, named as people write them', async () => {
    toolNamed('convert');
    await withPage(async (page) => {
      await open(page, '/tool/convert');
      await page.waitForSelector('#opt-to', { state: 'attached' });
      const labels = await page.locator('#opt-to option').allInnerTexts();
      // Named in words, with the format as people write it: "Word document (DOCX)".
      for (const format of ['PDF', 'DOCX', 'XLSX', 'PNG', 'JPEG']) assert.ok(labels.some((label) => label === format || label.endsWith(`(${format})`)), `${format} among ${labels.join(', ')}`);
    });
  });

  test('a reload during a long OCR job resumes its progress', async () => {
    toolNamed('ocr');
    await withPage(async (page) => {
      await open(page, '/tool/ocr');
      await uploadFiles(page, [corpus(SCANNED)]);
      await waitForFiles(page, 1);
      // German as well as English, and straightened pages.
      await page.check('#opt-languages-deu');
      await page.check('#opt-languages-eng');
      await page.check('#opt-deskew');
      await page.click('#start');
      await page.waitForSelector('#job .job-status');
      await page.waitForFunction(() => /\?job=/.test(window.location.search));
      const jobUrl = page.url();

      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(page.url(), jobUrl);
      // The form shows what the job runs with, not the defaults.
      await page.waitForSelector('li.file-row');
      assert.equal(await page.locator('#opt-languages-deu').isChecked(), true);
      assert.equal(await page.locator('#opt-languages-eng').isChecked(), true);
      assert.equal(await page.locator('#opt-deskew').isChecked(), true);
      const resumed = await page.waitForSelector('#job .job-status, #job .result', { timeout: 30_000 });
      const seen = await resumed.innerText();
      assert.ok(seen.length > 0, 'the job panel shows its state after the reload');
      if (await page.locator('#job .job-status').count()) {
        // Progress keeps arriving after the reload: pages done of total, then the result.
        await page.waitForFunction(() => /Page \d+ of \d+|% done|ready/.test(document.querySelector('#job')?.innerText || ''), null, { timeout: 120_000 });
      }
      await waitForResult(page, 300_000);
      const pdf = await download(page, '#job a.download', 'ocr.pdf');
      assert.equal(pageCount(pdf), pageCount(corpus(SCANNED)));
      assert.ok(run('pdftotext', [pdf, '-']).trim().length > 20, 'the OCR result has a text layer');
    });
  });

  test('a running OCR job can be cancelled', async () => {
    toolNamed('ocr');
    await withPage(async (page) => {
      await open(page, '/tool/ocr');
      await uploadFiles(page, [corpus(SCANNED)]);
      await waitForFiles(page, 1);
      await page.click('#start');
      await page.click('#cancel-job');
      await page.waitForFunction(() => document.querySelector('#job h2')?.textContent === 'Cancelled', null, { timeout: 60_000 });
      assert.equal(await page.locator('#job [role="alert"]').getAttribute('data-code'), 'cancelled');
      assert.match(await page.locator('#job [role="alert"]').innerText(), /The job was cancelled\./);
    });
  });
});

describe('accounts', () => {
  const PASSWORD = 'correct horse battery staple';

  async function signIn(page, email, password = PASSWORD) {
    await open(page, '/signin');
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL('**/account'), page.click('#signin-submit')]);
    await page.waitForSelector('body[data-ready="true"]');
  }

  test('sign up keeps the guest files; the account page shows usage and an API key once', async () => {
    await withPage(async (page) => {
      // As a guest: a file uploaded before signing up stays with the account.
      await open(page, '/');
      const guestFile = await page.evaluate(async () => {
        const form = new FormData();
        form.append('file', new Blob(['%PDF-1.4 not really'], { type: 'application/pdf' }), 'guest.pdf');
        const response = await fetch('/api/v1/files', { method: 'POST', body: form });
        return (await response.json()).files[0].id;
      });
      assert.equal(await page.locator('#nav-signin').innerText(), 'Sign in');
      await open(page, '/signup');
      await page.fill('#email', 'ada@example.com');
      await page.fill('#password', 'password123');
      await page.click('#signup-submit');
      await page.waitForSelector('#form-error');
      assert.equal(await page.locator('#form-error').getAttribute('data-code'), 'invalid_params', 'a common password is refused');
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL('**/account'), page.click('#signup-submit')]);
      await page.waitForSelector('body[data-ready="true"]');
      await page.waitForSelector('#usage-text');
      assert.equal(await page.locator('#nav-account').innerText(), 'ada@example.com');
      assert.match(await page.locator('#usage-text').innerText(), /^0 of 500 operations used$/);
      const status = await page.evaluate(async (id) => (await fetch(`/api/v1/files/${id}`)).status, guestFile);
      assert.equal(status, 200, 'the guest file is the account’s');

      // An API key, shown once, that works against the API and is revoked from the list.
      await page.fill('#key-name', 'laptop');
      await page.uncheck('input[name="scope"][value="files:write"]');
      await page.click('#create-key');
      await page.waitForSelector('#new-key-value');
      const key = await page.locator('#new-key-value').innerText();
      assert.match(key, /^sk_[A-Za-z0-9_-]{43}$/);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'copy-key');
      const row = page.locator('#key-list tbody tr');
      assert.equal(await row.count(), 1);
      assert.match(await row.innerText(), /laptop/);
      assert.ok(!(await row.innerText()).includes(key), 'the list never shows the key itself');
      const read = await fetch(`${server.base}/api/v1/files/${guestFile}`, { headers: { 'X-API-Key': key } });
      assert.equal(read.status, 200);
      const write = await fetch(`${server.base}/api/v1/files/${guestFile}`, { method: 'DELETE', headers: { 'X-API-Key': key } });
      assert.equal(write.status, 403, 'files:write was left out');
      for (const violation of await seriousViolations(page)) assert.fail(violation);
      await screenshot(page, 'account-desktop');
      await page.reload();
      await page.waitForSelector('#key-list');
      assert.equal(await page.locator('#new-key-value').count(), 0, 'shown once');
      page.once('dialog', (dialog) => dialog.accept());
      await page.click('#key-list button');
      await page.waitForSelector('#no-keys');
      assert.equal((await fetch(`${server.base}/api/v1/files/${guestFile}`, { headers: { 'X-API-Key': key } })).status, 401);

      // Sign out: the session cookie no longer works.
      await Promise.all([page.waitForURL(`${server.base}/`), page.click('#nav-signout')]);
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(await page.locator('#nav-signin').innerText(), 'Sign in');
      assert.equal(await page.evaluate(async () => (await fetch('/api/v1/me')).status), 401);

      // Wrong password, then the right one; then delete the account from its page.
      await open(page, '/signin');
      await page.fill('#email', 'ada@example.com');
      await page.fill('#password', 'not my password');
      await page.click('#signin-submit');
      await page.waitForSelector('#form-error');
      assert.equal(await page.locator('#form-error').getAttribute('data-code'), 'invalid_credentials');
      await signIn(page, 'ada@example.com');
      page.once('dialog', (dialog) => dialog.accept());
      await Promise.all([page.waitForURL(`${server.base}/`), page.click('#delete-account')]);
      await page.waitForSelector('body[data-ready="true"]');
      assert.match(await page.locator('#privacy-status').innerText(), /deleted/);
      const gone = await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }) });
      assert.equal(gone.status, 401);
    });
  });

  test('single sign-on through a real OpenID Connect provider', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const provider = await startOidcProvider(`${base}/api/v1/auth/oidc/callback`);
    const sso = await startServer(
      {
        SCANPRO_OIDC_ISSUER: provider.issuer,
        SCANPRO_OIDC_CLIENT_ID: 'scanpro',
        SCANPRO_OIDC_CLIENT_SECRET: 'scanpro-secret',
        SCANPRO_OIDC_NAME: 'Example ID',
        SCANPRO_PUBLIC_URL: base,
      },
      { listen: `127.0.0.1:${port}` },
    );
    try {
      const context = await newContext(browser, sso);
      const page = await context.newPage();
      await open(page, '/signin');
      assert.equal(await page.locator('#sso').innerText(), 'Sign in with Example ID');
      await page.click('#sso');
      await page.waitForURL(`${provider.issuer}/interaction/**`);
      await page.fill('input[name="login"]', 'grace');
      await page.fill('input[name="password"]', 'anything');
      await page.click('button[type="submit"]');
      await page.waitForURL(`${provider.issuer}/interaction/**`);
      await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type="submit"]')]);
      await page.waitForSelector('#usage-text');
      assert.equal(await page.locator('#nav-account').innerText(), 'grace@example.org');
      await context.close();
    } finally {
      await sso.stop();
      provider.stop();
    }
  });

  test('the account pages speak the four languages', async () => {
    const titles = { en: 'Sign in', de: 'Anmelden', fr: 'Se connecter', es: 'Iniciar sesión' };
    for (const [code, title] of Object.entries(titles)) {
      await withPage(async (page) => {
        await open(page, '/signin');
        assert.equal(await page.locator('h1').innerText(), title);
        assert.equal(await page.getAttribute('html', 'lang'), code);
        await open(page, '/signup');
        assert.ok((await page.locator('#password-hint').innerText()).includes('10'), `${code}: the password hint`);
        for (const violation of await seriousViolations(page)) assert.fail(violation);
      }, { locale: code });
    }
  });

  test('an administrator switches a tool off, changes a quota and disables an account', async () => {
    createUser(server, 'root@example.com', PASSWORD, 'admin');
    createUser(server, 'bob@example.com', PASSWORD);
    await withPage(async (page) => {
      await signIn(page, 'root@example.com');
      await Promise.all([page.waitForURL('**/admin'), page.click('#nav-admin')]);
      await page.waitForSelector('#user-list');
      const bob = page.locator('#user-list tr[data-user="bob@example.com"]');
      await bob.locator('input[type="number"]').fill('7');
      await bob.locator('button[data-action="save"]').click();
      await page.waitForFunction(() => document.querySelector('#user-list tr[data-user="bob@example.com"] input[type="number"]')?.value === '7');
      await page.uncheck('#tool-switches input[value="rotate"]');
      await page.waitForFunction(() => [...document.querySelectorAll('#audit-log td')].some((cell) => cell.textContent === 'admin_tool_disabled'));
      for (const violation of await seriousViolations(page)) assert.fail(violation);
      await screenshot(page, 'admin-desktop');
    });
    await withPage(async (page) => {
      await signIn(page, 'bob@example.com');
      await page.waitForSelector('#usage-text');
      assert.match(await page.locator('#usage-text').innerText(), /^0 of 7 operations used$/);
      await open(page, '/');
      assert.equal(await page.locator('a[href="/tool/rotate"]').count(), 0, 'the switched-off tool is hidden');
      assert.equal(await page.locator('a[href="/tool/merge"]').count() > 0, true);
    });
    await withPage(async (page) => {
      await signIn(page, 'root@example.com');
      await open(page, '/admin');
      await page.waitForSelector('#user-list');
      await page.check('#tool-switches input[value="rotate"]');
      const bob = page.locator('#user-list tr[data-user="bob@example.com"]');
      await bob.locator('input[type="checkbox"]').check();
      await bob.locator('button[data-action="save"]').click();
      await page.waitForFunction(() => document.querySelector('#user-list tr[data-user="bob@example.com"] input[type="checkbox"]')?.checked === true);
    });
    const refused = await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'bob@example.com', password: PASSWORD }) });
    assert.equal((await refused.json()).code, 'account_disabled');
  });
});

describe('the app speaks to people', () => {
  /** Texts of the options panel a person reads: labels, help, choices and hints. */
  const optionTexts = (page) =>
    page.evaluate(() => {
      for (const details of document.querySelectorAll('details.more-options')) details.open = true;
      const panel = document.querySelector('.options');
      if (!panel) return [];
      return [...panel.querySelectorAll('label, legend, .help, option, .hint, .position-chosen, summary, output')]
        .filter((node) => !node.closest('[hidden]'))
        .map((node) => node.textContent.trim())
        .filter(Boolean);
    });

  /** Options labelled with their API name made readable ("Target size mb"): no label was written
   * for them. */
  const unlabelled = (page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('.options .field[data-path]')]
        .map((field) => {
          const name = field.dataset.path.split('.').pop();
          const label = field.querySelector(':scope > label, :scope > legend, :scope > .check > label')?.firstChild?.textContent?.trim() || '';
          const made = name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
          return name.includes('_') && label === made ? `${field.dataset.path} (“${label}”)` : null;
        })
        .filter(Boolean),
    );

  /** Options drawn without a help line under them. */
  const withoutHelp = (page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('.options .field')]
        .filter((field) => !field.querySelector(':scope > .help, :scope > .select > .help:not(.choice-help)'))
        .map((field) => field.dataset.path),
    );

  for (const code of ['en', 'de', 'fr']) {
    test(`${code}: every tool's options are explained, and options and errors read in ${code}, in plain words`, async () => {
      const { default: english } = await import('../app/assets/js/locales/en.js');
      const { default: local } = await import(`../app/assets/js/locales/${code}.js`);
      // English texts that this language words differently: none may show.
      // (Texts a language lacks read the same everywhere: the locale test allows only those.)
      // (An English word the language also uses for something else, like French "Plan", is not.)
      const localTexts = new Set(Object.values(local));
      const untranslated = new Set(
        Object.entries(english)
          .filter(([key, text]) => key in local && local[key] !== text && text.length > 3 && !localTexts.has(text))
          .map(([, text]) => text),
      );
      await withPage(async (page) => {
        const problems = [];
        for (const tool of tools) {
          await open(page, `/tool/${tool.name}`);
          for (const path of await withoutHelp(page)) problems.push(`${tool.name}: the option ${path} has no help`);
          // (In English a written label may read like the name: "Page size".)
          if (code !== 'en') for (const path of await unlabelled(page)) problems.push(`${tool.name}: the option ${path} has no label of its own`);
          for (const text of await optionTexts(page)) {
            // API words: parameter names, code spans, JSON, "Default false".
            if (untranslated.has(text) || /\b[a-z]+_[a-z_]+\b|`|\[".*"\]|\bDefault:? *(true|false|\[|-?\d)|\b(true|false)\b/.test(text)) problems.push(`${tool.name}: “${text}”`);
          }
        }
        assert.deepEqual(problems, [], `English or API words in the ${code} forms`);

        // An error in words of the page's language: a wrong password.
        const protectedPdf = await protectedCopy('right-one');
        await open(page, '/tool/unlock');
        await uploadFiles(page, [protectedPdf]);
        await waitForFiles(page, 1);
        // Sizes in the language's units (Ko in French).
        assert.match(await page.locator('li.file-row').innerText(), code === 'fr' ? /\d+(,\d)? Ko/ : /\d+(,\d)? KB/);
        await page.fill('#opt-password', 'wrong-one');
        await page.click('#start');
        const alert = page.locator('#job [role="alert"]');
        await alert.waitFor({ timeout: 60_000 });
        const said = await alert.innerText();
        assert.equal(said.trim().split('\n')[0], local['error.wrong_password']);
        if (code !== 'en') assert.doesNotMatch(said, /password|steps\[|does not|\(unlock\)/i, `English in the ${code} error: ${said}`);
      }, { locale: { en: 'en-GB', de: 'de-DE', fr: 'fr-FR' }[code] });
    });
  }

  /** A copy of a corpus PDF that opens with `password`. */
  async function protectedCopy(password) {
    const path = join(scratch, `protected-${password}.pdf`);
    const form = new FormData();
    form.append('file', new Blob([readFileSync(corpus(TWO_PAGES))]), 'protected.pdf');
    form.append('params', JSON.stringify({ user_password: password }));
    const response = await fetch(`${server.base}/api/v1/tools/protect`, { method: 'POST', body: form });
    assert.equal(response.status, 200, await response.clone().text());
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    return path;
  }

  test('Protect asks for one password, typed twice; the rest waits under More options', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/protect');
      await uploadFiles(page, [corpus(TWO_PAGES)]);
      await waitForFiles(page, 1);
      assert.match(await page.locator('label[for="opt-user_password"]').innerText(), /Password to open \(required\)/);
      assert.equal(await page.locator('details.more-options #opt-owner_password').count(), 1, 'the owner password is under More options');
      assert.equal(await page.locator('details.more-options [data-path="permissions"]').count(), 1, 'permissions are under More options');
      assert.equal(await page.locator('details.more-options').evaluate((details) => details.open), false);
      // Nothing typed, then two different passwords: told beside the field, nothing runs.
      await page.click('#start');
      assert.match(await page.locator('#opt-user_password-error').innerText(), /Please fill in this field/);
      await page.fill('#opt-user_password', 'open-sesame');
      await page.fill('#opt-user_password-again', 'open-sesam');
      await page.click('#start');
      assert.match(await page.locator('#opt-user_password-error').innerText(), /The two passwords are not the same/);
      assert.equal(await page.locator('#job').count(), 0);
      await page.fill('#opt-user_password-again', 'open-sesame');
      await page.click('#start');
      await waitForResult(page);
      const locked = await download(page, '#job a.download', 'locked.pdf');
      assert.throws(() => run('qpdf', ['--check', locked]), 'the result needs its password');
      run('qpdf', ['--password=open-sesame', '--check', locked]);
      assert.match(run('qpdf', ['--password=open-sesame', '--show-encryption', locked]), /AESv3|R = 6/);
      // After the result the form folds away, and comes back on request.
      assert.equal(await page.locator('form.tool-form').isVisible(), false);
      await page.click('#change-options');
      assert.equal(await page.locator('form.tool-form').isVisible(), true);
    });
  });

  test('a server refusal names the option, never the step', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/protect');
      await uploadFiles(page, [corpus(TWO_PAGES)]);
      await waitForFiles(page, 1);
      // 128 bytes: longer than AES-256 passwords may be, which only the server checks.
      const long = 'x'.repeat(128);
      await page.fill('#opt-user_password', long);
      await page.fill('#opt-user_password-again', long);
      await page.click('#start');
      const alert = page.locator('#submit-error');
      await alert.waitFor();
      const said = await alert.innerText();
      assert.doesNotMatch(said, /steps\[|\(protect\)|user_password/, said);
      assert.match(await page.locator('#opt-user_password-error').innerText(), /longer than 127 bytes/);
    });
    // In German the option is named by its German label, and nothing English shows.
    await withPage(async (page) => {
      await open(page, '/tool/protect');
      await uploadFiles(page, [corpus(TWO_PAGES)]);
      await waitForFiles(page, 1);
      const long = 'x'.repeat(128);
      await page.fill('#opt-user_password', long);
      await page.fill('#opt-user_password-again', long);
      await page.click('#start');
      await page.locator('#submit-error').waitFor();
      assert.match(await page.locator('#submit-error').innerText(), /Prüfen Sie die Option „Passwort zum Öffnen“/);
      assert.equal(await page.locator('#opt-user_password-error').innerText(), 'Dieser Wert ist hier nicht zulässig.');
    }, { locale: 'de-DE' });
  });

  test('a result much larger than its input says so, and offers to compress it', async () => {
    toolNamed('ocr');
    await withPage(async (page) => {
      await open(page, '/tool/ocr');
      // A 42 KB JBIG2 scan comes back at about four times its size once straightened.
      await uploadFiles(page, [corpus('pdf-scanned/ocrmypdf_jbig2.pdf')]);
      await waitForFiles(page, 1);
      await page.check('#opt-deskew');
      await page.click('#start');
      await waitForResult(page, 300_000);
      const offer = page.locator('#compress-offer');
      assert.match(await offer.innerText(), /The result \(\d+ KB\) is \d(\.\d)? times the size of the original \(41\.8 KB\)/);
      await clickThrough(page, offer.locator('a'), (url) => url.pathname === '/tool/compress');
      await waitForFiles(page, 1);
      assert.match(await page.locator('li.file-row .file-name').innerText(), /^ocrmypdf_jbig2_ocr\.pdf$/);
    });
  });

  test('compress offers one target-size control', async () => {
    await withPage(async (page) => {
      await open(page, '/tool/compress');
      assert.equal(await page.locator('[data-path="target_size"]').count(), 0);
      assert.equal(await page.locator('[data-path="target_size_mb"]').count(), 1);
    });
  });

  test('watermark, page numbers and signature placement are previewed on the first page', async () => {
    /** The first mark's box relative to the page drawn under it (the page may scroll). */
    const markBox = async (page, mark = page.locator('.live-preview .preview-mark').first()) => {
      const [box, stage] = await Promise.all([mark.boundingBox(), page.locator('.live-preview .preview-stage').boundingBox()]);
      return { x: box.x - stage.x, y: box.y - stage.y, width: box.width, height: box.height, stageWidth: stage.width, stageHeight: stage.height };
    };
    await withPage(async (page) => {
      await open(page, '/tool/watermark');
      await uploadFiles(page, [corpus(THREE_PAGES)]);
      await waitForFiles(page, 1);
      await page.locator('.live-preview:not([hidden]) .preview-mark').first().waitFor();
      await page.fill('#opt-text', 'DRAFT');
      assert.equal(await page.locator('.live-preview .preview-mark').first().innerText(), 'DRAFT');
      const centred = await markBox(page);
      await page.locator('label[for="opt-position-top_left"]').click();
      // The grid says in words where the mark goes.
      assert.equal(await page.locator('.position-chosen').innerText(), 'Top left');
      const topLeft = await markBox(page);
      assert.ok(topLeft.x < centred.x && topLeft.y < centred.y, `the preview did not move: ${JSON.stringify({ centred, topLeft })}`);
      assert.ok(topLeft.x < topLeft.stageWidth / 4 && topLeft.y < topLeft.stageHeight / 4, 'the mark is at the top left of the page');
      await page.locator('label[for="opt-position-bottom_right"]').click();
      const bottomRight = await markBox(page);
      assert.ok(bottomRight.x > centred.x && bottomRight.y > centred.y, 'the mark moved to the bottom right');
      await page.fill('#opt-font_size', '96');
      assert.ok((await markBox(page)).height > bottomRight.height * 1.5, 'a larger text size shows larger');
      // Turned 45° at the top left, the turned outline keeps the margin (36 pt of a 595 pt wide
      // page), as the server places it.
      await page.fill('#opt-font_size', '48');
      await page.fill('#opt-rotation', '45');
      await page.locator('label[for="opt-position-top_left"]').click();
      const turned = await markBox(page);
      const margin = (36 / 595.276) * turned.stageWidth;
      assert.ok(Math.abs(turned.x - margin) < 2 && Math.abs(turned.y - (36 / 841.89) * turned.stageHeight) < 2, `the turned mark is not at the margin: ${JSON.stringify({ turned, margin })}`);
      await screenshot(page, 'preview-watermark-desktop');
    });
    await withPage(async (page) => {
      await open(page, '/tool/page_numbers');
      await uploadFiles(page, [corpus(THREE_PAGES)]);
      await waitForFiles(page, 1);
      const mark = page.locator('.live-preview .preview-mark').first();
      await mark.waitFor();
      assert.equal(await mark.innerText(), '1');
      await page.selectOption('#opt-format', 'roman_upper');
      await page.fill('#opt-template', '{n} / {total}');
      assert.equal(await mark.innerText(), 'I / III');
      const before = await markBox(page, mark);
      await page.locator('label[for="opt-position-top_right"]').click();
      const after = await markBox(page, mark);
      assert.ok(after.y < before.y && after.x > before.x, 'the number moved to the top right');
    });
    toolNamed('digital_sign');
    await withPage(async (page) => {
      await open(page, '/tool/digital_sign');
      await uploadFiles(page, [corpus(THREE_PAGES)]);
      await waitForFiles(page, 1);
      await page.waitForSelector('.live-preview:not([hidden])');
      assert.equal(await page.locator('.live-preview .preview-mark').count(), 0, 'an invisible signature draws nothing');
      await page.check('#opt-visible');
      const box = await markBox(page);
      assert.ok(box.x > box.stageWidth / 2 && box.y > box.stageHeight / 2, 'the signature box is at the bottom right by default');
      // A box typed in points from the top left: there it is drawn, at its size.
      await page.evaluate(() => {
        for (const details of document.querySelectorAll('details.more-options')) details.open = true;
      });
      await page.fill('#opt-area', '60, 80, 200, 60');
      const typed = await markBox(page);
      const scale = typed.stageWidth / 595.276;
      assert.ok(Math.abs(typed.x - 60 * scale) < 2 && Math.abs(typed.y - 80 * scale) < 2 && Math.abs(typed.width - 200 * scale) < 2, `the typed box is not drawn: ${JSON.stringify(typed)}`);
    });
  });

  test('a finger drags files and pages into a new order; targets are large enough to touch', async () => {
    const touch = { viewport: PHONE, hasTouch: true, isMobile: true };
    /** A finger pressed on `from`, moved in steps onto `to`, lifted; `during` runs before lifting. */
    async function fingerDrag(page, from, to, during = async () => {}) {
      const cdp = await page.context().newCDPSession(page);
      const start = await from.boundingBox();
      const end = await to.boundingBox();
      const point = (box) => ({ x: box.x + box.width / 2, y: box.y + box.height / 2 });
      const [a, b] = [point(start), point(end)];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [a] });
      for (let step = 1; step <= 8; step += 1) {
        const at = { x: a.x + ((b.x - a.x) * step) / 8, y: a.y + ((b.y - a.y) * step) / 8 };
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at] });
      }
      await during();
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    }
    await withPage(async (page) => {
      await open(page, '/tool/merge');
      // Nothing can be dropped on a phone: the page does not say to.
      assert.equal(await page.locator('.drop-title').isVisible(), false);
      await uploadFiles(page, [corpus(TWO_PAGES), corpus(THREE_PAGES)]);
      await waitForFiles(page, 2);
      const rows = page.locator('li.file-row');
      await fingerDrag(page, rows.nth(1).locator('.drag-handle'), rows.nth(0), async () => {
        assert.equal(await rows.nth(0).evaluate((row) => row.classList.contains('drop-before')), true, 'a line shows where the file will land');
      });
      assert.deepEqual(await fileNames(page), ['lscape.pdf', 'ltnews17.pdf']);
      // Every control a finger uses is at least 44 px high (and icon buttons as wide).
      const small = await page.evaluate(() =>
        [...document.querySelectorAll('button, input:not(.visually-hidden), select, .drag-handle, label.button')]
          .filter((node) => node.offsetParent !== null && !node.closest('.check, .chip'))
          .map((node) => [node, node.getBoundingClientRect()])
          .filter(([node, box]) => box.height < 44 || (node.classList.contains('icon-button') && box.width < 44))
          .map(([node, box]) => `${node.tagName.toLowerCase()}#${node.id}.${node.className} ${Math.round(box.width)}×${Math.round(box.height)}`),
      );
      assert.deepEqual(small, [], 'touch targets under 44 px');
    }, touch);
    await withPage(async (page) => {
      await open(page, '/organise');
      await uploadFiles(page, [corpus(FIVE_PAGES)]);
      await page.waitForFunction(() => document.querySelectorAll('li.page-card img').length === 5, null, { timeout: 60_000 });
      const cards = page.locator('li.page-card');
      await cards.nth(3).scrollIntoViewIfNeeded();
      await fingerDrag(page, cards.nth(3).locator('.drag-handle'), cards.nth(2));
      assert.deepEqual(await cards.evaluateAll((items) => items.map((item) => Number(item.dataset.page))), [1, 2, 4, 3, 5]);
      // Apply stays in reach at the bottom of the screen while the pages scroll under it.
      await page.evaluate(() => document.querySelector('#pages-heading').scrollIntoView());
      const bar = await page.locator('.organise-bar').boundingBox();
      const lastPage = await cards.nth(4).boundingBox();
      const screenHeight = await page.evaluate(() => window.innerHeight);
      assert.ok(bar.y + bar.height <= screenHeight + 1 && bar.y < lastPage.y, `the Apply bar is not in reach (${screenHeight}px high): ${JSON.stringify({ bar, lastPage })}`);
      await page.click('#apply-organise');
      await waitForResult(page);
      const names = await page.locator('#job .result-files .file-name').allTextContents();
      assert.deepEqual(names, ['pdfjs_file_pdfjs_test_extract.pdf'], 'the result is named after the file, one suffix');
    }, touch);
  });

  test('the home page shows an icon on every tool, as a compact grid on a phone', async () => {
    await withPage(async (page) => {
      await open(page, '/');
      const cards = await page.locator('li.tool-card').count();
      assert.equal(await page.locator('li.tool-card svg.tool-icon').count(), cards);
      await page.setViewportSize(PHONE);
      await open(page, '/');
      const perRow = await page.evaluate(() => {
        const tops = [...document.querySelectorAll('.tool-section:first-of-type li.tool-card')].map((card) => card.getBoundingClientRect().top);
        return tops.filter((top) => top === tops[0]).length;
      });
      assert.ok(perRow >= 3, `a phone shows ${perRow} tools per row`);
    });
  });

  test('screenshots of the home page and three tools, phone and desktop, English and German', async () => {
    const devices = { desktop: { viewport: DESKTOP }, phone: { viewport: PHONE, hasTouch: true, isMobile: true } };
    for (const [label, device] of Object.entries(devices)) {
      for (const [language, locale] of [['en', 'en-GB'], ['de', 'de-DE']]) {
        await withPage(async (page) => {
          await open(page, '/');
          await screenshot(page, `people-home-${language}-${label}`);
          for (const tool of ['watermark', 'protect', 'compress']) {
            await open(page, `/tool/${tool}`);
            if (tool === 'watermark') {
              await uploadFiles(page, [corpus(THREE_PAGES)]);
              await waitForFiles(page, 1);
              await page.fill('#opt-text', language === 'de' ? 'ENTWURF' : 'DRAFT');
              await page.locator('.live-preview:not([hidden])').waitFor();
            }
            await screenshot(page, `people-${tool}-${language}-${label}`);
          }
        }, { ...device, locale });
      }
    }
  });
});
