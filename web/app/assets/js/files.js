// The file list of a tool page: a drop zone and a picker; each file is uploaded at once with
// its own progress bar, then described by the server's own tools (`info` for the page count,
// `thumbnails` for the first page); files can be reordered by dragging or with arrow buttons.
// Files already on the server (a previous result, a resumed job) join the list by id.

import { api, runJob, uploadFile } from './api.js';
import { acceptAttribute, certainlyUnaccepted, formatList } from './catalogue.js';
import { announce, formatBytes, h, moveItem, replaceChildren } from './dom.js';
import { sortable } from './reorder.js';
import { describeError } from './errors.js';
import { language, t, tn } from './i18n.js';
import { rememberFiles } from './store.js';

const THUMB_WIDTH = 120;

/** The server's per-file upload limit, from the page shell. */
function maxUploadBytes() {
  const value = Number(document.querySelector('meta[name="scanpro-max-upload-bytes"]')?.content);
  return Number.isFinite(value) && value > 0 ? value : Infinity;
}
const BROWSER_IMAGES = new Set(['image/png', 'image/jpeg', 'image/webp']);
/** Files described at once: previews queue behind each other, not in front of the user's job. */
const DESCRIBING_AT_ONCE = 2;
let entryCounter = 0;
let describing = 0;
const waitingToDescribe = [];

/** Runs `task` when fewer than DESCRIBING_AT_ONCE others run. */
async function inTurn(task) {
  if (describing >= DESCRIBING_AT_ONCE) await new Promise((resolve) => waitingToDescribe.push(resolve));
  describing += 1;
  try {
    return await task();
  } finally {
    describing -= 1;
    waitingToDescribe.shift()?.();
  }
}

export class FileList {
  /**
   * @param tool the catalogue entry (its `inputs` rule decides how many and which files)
   * @param onChange called whenever the list or a file's state changes
   */
  constructor(tool, onChange) {
    this.tool = tool;
    this.onChange = onChange;
    this.entries = [];
    this.message = '';
    this.element = h('div', { class: 'files' });
    this.render();
  }

  get formats() {
    return this.tool.inputs?.formats || ['pdf'];
  }

  get max() {
    return this.tool.inputs?.max ?? Infinity;
  }

  get min() {
    return this.tool.inputs?.min ?? 1;
  }

  get multiple() {
    return this.max !== 1;
  }

  /** Every file uploaded and usable, and as many as the tool takes. */
  problem() {
    if (this.entries.some((e) => e.status === 'uploading')) return t('validation.waitUploads');
    if (this.entries.some((e) => e.status === 'rejected' || e.status === 'failed')) return t('validation.removeBadFiles');
    if (this.entries.length < this.min) return tn('files.needMin', this.min);
    if (this.entries.length > this.max) return tn('files.tooMany', this.max);
    return '';
  }

  ids() {
    return this.entries.map((e) => e.id);
  }

  /** Page count of the only file, for page-selection checks. */
  pageCount() {
    return this.entries.length === 1 ? this.entries[0].pages ?? null : null;
  }

  /** The first page of the first PDF as previews draw it: its thumbnail, its size in points as
   * shown (turned pages swap width and height) and the page count; null until known. */
  firstPage() {
    const entry = this.entries.find((e) => e.thumbUrl && e.firstPage);
    if (!entry) return null;
    const { width, height, rotation } = entry.firstPage;
    const turned = rotation === 90 || rotation === 270;
    return { url: entry.thumbUrl, width: turned ? height : width, height: turned ? width : height, count: entry.pages };
  }

  totalSize() {
    return this.entries.reduce((sum, e) => sum + (e.size || 0), 0);
  }

  render() {
    const inputId = `file-input-${this.tool.name}`;
    const input = h('input', {
      type: 'file',
      id: inputId,
      class: 'visually-hidden file-input',
      accept: acceptAttribute(this.formats),
      multiple: this.multiple,
      onchange: (event) => {
        this.add([...event.target.files]);
        event.target.value = '';
      },
    });
    const zone = h(
      'div',
      {
        class: 'drop-zone',
        ondragover: (event) => {
          if (!event.dataTransfer?.types?.includes('Files')) return;
          event.preventDefault();
          zone.classList.add('dragging');
        },
        ondragleave: () => zone.classList.remove('dragging'),
        ondrop: (event) => {
          if (!event.dataTransfer?.files?.length) return;
          event.preventDefault();
          zone.classList.remove('dragging');
          this.add([...event.dataTransfer.files]);
        },
      },
      h('p', { class: 'drop-title' }, this.multiple ? t('files.drop') : t('files.dropOne')),
      h('p', { class: 'muted drop-or' }, t('files.or')),
      input,
      h('label', { for: inputId, class: 'button primary' }, this.multiple ? t('files.choose') : t('files.chooseOne')),
      h('p', { class: 'muted small' }, t('files.accepts', { formats: formatList(this.formats) })),
    );
    const list = h(
      'ol',
      { class: 'file-list', 'aria-label': t('files.list') },
      this.entries.map((entry, index) => this.renderRow(entry, index)),
    );
    sortable(list, { selector: '.file-row', handle: '.drag-handle', onMove: (from, to) => this.move(from, to) });
    const hint = this.multiple && this.entries.length > 1 ? h('p', { class: 'muted small' }, t('files.dragHint')) : null;
    const message = this.message ? h('p', { class: 'field-error', role: 'alert' }, this.message) : null;
    const unusable = this.entries.filter((e) => e.status === 'rejected' || e.status === 'failed').length;
    const clear = unusable
      ? h('button', { type: 'button', class: 'button secondary', id: 'remove-unusable', onclick: () => this.removeUnusable() }, tn('files.removeUnusable', unusable))
      : null;
    replaceChildren(this.element, zone, message || '', hint || '', list, clear || '');
  }

  renderRow(entry, index) {
    const name = entry.name;
    const facts = [formatBytes(entry.size, language())];
    if (entry.pages) facts.push(tn('files.pages', entry.pages));
    const thumb = entry.thumbUrl
      ? h('img', { class: 'thumb', src: entry.thumbUrl, alt: t('files.preview', { name }), loading: 'lazy', draggable: 'false' })
      : h('span', { class: 'thumb thumb-empty', 'aria-hidden': 'true' }, (name.split('.').pop() || '').slice(0, 4).toUpperCase());
    let status = null;
    if (entry.status === 'uploading') {
      const percent = Math.round(entry.progress * 100);
      status = h(
        'div',
        { class: 'upload-progress' },
        h('progress', { max: 100, value: percent, 'aria-label': t('files.uploading', { percent }) }),
        h('span', { class: 'small' }, t('files.uploading', { percent })),
      );
    } else if (entry.status === 'rejected' || entry.status === 'failed') {
      status = h('p', { class: 'field-error' }, entry.error);
    } else if (entry.status === 'describing') {
      status = h('p', { class: 'muted small' }, t('files.preparing'));
    }
    const notes = [];
    if (entry.encrypted) notes.push(h('span', { class: 'badge' }, t('files.encrypted')));
    if (entry.warning) notes.push(h('p', { class: 'muted small' }, entry.warning));
    const canMove = this.multiple && this.entries.length > 1;
    const row = h(
      'li',
      {
        class: `file-row status-${entry.status}`,
        dataset: { key: entry.key, sortable: String(canMove) },
      },
      canMove ? h('span', { class: 'drag-handle', 'aria-hidden': 'true' }, '⠿') : null,
      thumb,
      h('div', { class: 'file-main' }, h('p', { class: 'file-name' }, name), h('p', { class: 'muted small' }, facts.join(' · ')), notes, status),
      h(
        'div',
        { class: 'file-actions' },
        canMove
          ? [
              h('button', { type: 'button', class: 'icon-button', 'aria-label': t('files.moveUp', { name }), title: t('files.moveUp', { name }), disabled: index === 0, dataset: { action: 'up' }, onclick: () => this.move(index, index - 1, 'up') }, '↑'),
              h('button', { type: 'button', class: 'icon-button', 'aria-label': t('files.moveDown', { name }), title: t('files.moveDown', { name }), disabled: index === this.entries.length - 1, dataset: { action: 'down' }, onclick: () => this.move(index, index + 1, 'down') }, '↓'),
            ]
          : null,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': t('files.remove', { name }), title: t('files.remove', { name }), dataset: { action: 'remove' }, onclick: () => this.remove(entry.key) }, '✕'),
      ),
    );
    return row;
  }

  /** Redraws one file's row in place (progress, description), keeping focus elsewhere intact. */
  update(entry) {
    const index = this.entries.indexOf(entry);
    const old = this.element.querySelector(`li[data-key="${entry.key}"]`);
    if (index < 0 || !old) return;
    const hadFocus = old.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    const row = this.renderRow(entry, index);
    old.replaceWith(row);
    if (hadFocus) row.querySelector(`[data-action="${hadFocus}"]`)?.focus();
    this.onChange();
  }

  move(from, to, focusAction) {
    if (to < 0 || to >= this.entries.length) return;
    const entry = this.entries[from];
    this.entries = moveItem(this.entries, from, to);
    this.render();
    if (focusAction) {
      const row = this.element.querySelector(`li[data-key="${entry.key}"]`);
      const button = row?.querySelector(`[data-action="${focusAction}"]:not([disabled])`) || row?.querySelector('[data-action]:not([disabled])');
      button?.focus();
    }
    announce(t('files.moved', { name: entry.name, position: to + 1 }));
    this.onChange();
  }

  remove(key) {
    const index = this.entries.findIndex((e) => e.key === key);
    if (index < 0) return;
    const [entry] = this.entries.splice(index, 1);
    entry.upload?.abort();
    if (entry.origin === 'upload' && entry.id) api.deleteFile(entry.id).catch(() => {});
    if (entry.objectUrl) URL.revokeObjectURL(entry.objectUrl);
    this.message = '';
    this.render();
    const rows = this.element.querySelectorAll('li.file-row');
    (rows[Math.min(index, rows.length - 1)]?.querySelector('[data-action="remove"]') || this.element.querySelector('input.file-input'))?.focus();
    announce(t('files.removed', { name: entry.name }));
    this.onChange();
  }

  /** Adds picked or dropped files and uploads them. */
  add(files) {
    this.message = '';
    let accepted = files;
    const room = this.max - this.entries.length;
    if (accepted.length > room) {
      if (this.max === 1 && this.entries.length === 1) {
        // A single-file tool swaps the file rather than refusing the new one.
        this.remove(this.entries[0].key);
        accepted = accepted.slice(0, 1);
      } else {
        accepted = accepted.slice(0, Math.max(room, 0));
        this.message = tn('files.tooMany', this.max);
      }
    }
    for (const file of accepted) {
      const entry = { key: `f${(entryCounter += 1)}`, origin: 'upload', name: file.name, size: file.size, status: 'uploading', progress: 0 };
      if (BROWSER_IMAGES.has(file.type)) {
        entry.objectUrl = URL.createObjectURL(file);
        entry.thumbUrl = entry.objectUrl;
      }
      // Read now, to say "this is text" of a file the server cannot place.
      entry.looksText = file.slice(0, 1024).arrayBuffer().then(looksLikeText, () => false);
      this.entries.push(entry);
      if (file.size > maxUploadBytes()) {
        // Refused here rather than after sending it all: the server would refuse it anyway.
        entry.status = 'failed';
        entry.error = t('files.tooLarge', { name: file.name, limit: formatBytes(maxUploadBytes(), language()) });
      } else {
        this.startUpload(entry, file);
      }
    }
    this.render();
    if (accepted.length) announce(tn('files.added', accepted.length));
    this.onChange();
  }

  startUpload(entry, file) {
    entry.upload = uploadFile(file, (loaded, total) => {
      entry.progress = total ? loaded / total : 0;
      this.updateProgress(entry);
    });
    entry.upload.promise.then(
      async (view) => {
        entry.upload = null;
        rememberFiles([view]);
        entry.looksText = await entry.looksText;
        this.accept(entry, view);
      },
      (error) => {
        entry.upload = null;
        if (!this.entries.includes(entry)) return;
        entry.status = 'failed';
        const described = describeError(error);
        entry.error = described.detail ? `${described.message} (${described.detail})` : described.message;
        this.update(entry);
      },
    );
  }

  /** Moves the bar without redrawing the row, so a screen reader is not flooded. */
  updateProgress(entry) {
    const row = this.element.querySelector(`li[data-key="${entry.key}"]`);
    const bar = row?.querySelector('progress');
    if (!bar) return;
    const percent = Math.round(entry.progress * 100);
    bar.value = percent;
    bar.setAttribute('aria-label', t('files.uploading', { percent }));
    row.querySelector('.upload-progress span').textContent = t('files.uploading', { percent });
  }

  /** Adds files already on the server, by their API views (a previous result, a resumed job). */
  addExisting(views) {
    for (const view of views) {
      const entry = { key: `f${(entryCounter += 1)}`, origin: 'server', name: view.filename, size: view.size, status: 'ready' };
      if (BROWSER_IMAGES.has(view.content_type)) entry.thumbUrl = view.url;
      this.entries.push(entry);
      this.accept(entry, view, { redraw: false });
    }
    this.render();
    this.onChange();
  }

  accept(entry, view, { redraw = true } = {}) {
    if (!this.entries.includes(entry)) {
      api.deleteFile(view.id).catch(() => {});
      return;
    }
    Object.assign(entry, { id: view.id, size: view.size, contentType: view.content_type, expiresAt: view.expires_at });
    if (view.size === 0 || certainlyUnaccepted(view.content_type, this.formats)) {
      entry.status = 'rejected';
      entry.error = this.whyUnaccepted(entry.name, view);
    } else if (view.content_type === 'application/pdf') {
      entry.status = 'describing';
      inTurn(() => this.describe(entry));
    } else {
      entry.status = 'ready';
    }
    if (redraw) this.update(entry);
  }

  /** Why a file cannot be used, as specifically as its type tells: empty, text, or another kind. */
  whyUnaccepted(name, view) {
    const formats = formatList(this.formats);
    if (view.size === 0) return t('files.empty', { name });
    if (view.content_type?.startsWith('text/') || this.entries.find((e) => e.name === name)?.looksText === true) {
      return t('files.isText', { name, formats });
    }
    return t('files.wrongType', { name, formats });
  }

  /** Removes every file that cannot be used, at once. */
  removeUnusable() {
    const unusable = this.entries.filter((e) => e.status === 'rejected' || e.status === 'failed');
    for (const entry of unusable) {
      entry.upload?.abort();
      if (entry.origin === 'upload' && entry.id) api.deleteFile(entry.id).catch(() => {});
      if (entry.objectUrl) URL.revokeObjectURL(entry.objectUrl);
    }
    this.entries = this.entries.filter((e) => !unusable.includes(e));
    this.message = '';
    this.render();
    this.element.querySelector('input.file-input')?.focus();
    announce(tn('files.removedUnusable', unusable.length));
    this.onChange();
  }

  /** Page count and first-page thumbnail, from the server's `info` and `thumbnails` tools. */
  async describe(entry) {
    if (!this.entries.includes(entry)) return;
    const info = runJob([entry.id], [{ tool: 'info', params: {} }]).then((job) => {
      rememberFiles(job?.outputs || []);
      if (job?.status === 'succeeded') {
        const report = job.steps?.[0]?.report || {};
        entry.pages = report.pages;
        entry.firstPage = report.page_sizes?.[0] || null;
        entry.encrypted = Boolean(report.encrypted);
      } else if (job?.error) {
        this.noteProblem(entry, job.error);
      }
    });
    const thumb = runJob([entry.id], [{ tool: 'thumbnails', params: { pages: '1', width: THUMB_WIDTH } }]).then((job) => {
      rememberFiles(job?.outputs || []);
      if (job?.status === 'succeeded' && job.outputs?.length) entry.thumbUrl = job.outputs[0].url;
      else if (job?.error) this.noteProblem(entry, job.error);
    });
    await Promise.allSettled([info, thumb]);
    if (entry.status === 'describing') entry.status = 'ready';
    this.update(entry);
  }

  /** A file the preview tools could not read is still offered (repair and unlock take such files). */
  noteProblem(entry, error) {
    if (error.code === 'encrypted_input' || error.code === 'wrong_password') entry.encrypted = true;
    else if (error.code === 'unsupported_format') {
      entry.status = 'rejected';
      entry.error = this.whyUnaccepted(entry.name, { size: entry.size, content_type: entry.contentType });
    } else entry.warning = describeError(error).message;
  }
}

/** Whether the first bytes of a file read as text: no control characters but tabs and line
 * ends, and not a PDF's header. */
function looksLikeText(buffer) {
  const bytes = new Uint8Array(buffer);
  if (!bytes.length || String.fromCharCode(...bytes.slice(0, 5)) === '%PDF-') return false;
  return bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127));
}
