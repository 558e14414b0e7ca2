// The visual page organiser: one PDF's pages as a grid of thumbnails rendered by the server
// (`thumbnails`), which the user reorders by dragging (or with buttons), rotates page by page
// and deletes; the result is applied as one job: `extract_pages` in the new order without the
// deleted pages, then one `rotate` step per angle over the pages turned by it.

import { api, runJob } from './api.js';
import { ORGANISER, organiserEntry } from './catalogue.js';
import { announce, h, moveItem, randomKey, replaceChildren } from './dom.js';
import { sortable } from './reorder.js';
import { errorBox } from './errors.js';
import { FileList } from './files.js';
import { t } from './i18n.js';
import { JobPanel } from './job.js';
import { rememberFiles, rememberStartedJob } from './store.js';

const THUMB_WIDTH = 160;

/** The job steps that turn the original document into the organised one. */
export function organiseSteps(pages) {
  const kept = pages.filter((page) => !page.deleted);
  const steps = [{ tool: 'extract_pages', params: { pages: kept.map((page) => page.n).join(',') } }];
  for (const angle of [90, 180, 270]) {
    const positions = kept.map((page, index) => (page.rotation === angle ? index + 1 : null)).filter(Boolean);
    if (positions.length) steps.push({ tool: 'rotate', params: { angle, pages: positions.join(',') } });
  }
  return steps;
}

export class OrganiserPage {
  constructor(catalogue, main) {
    this.catalogue = catalogue;
    this.main = main;
    this.entry = organiserEntry(catalogue);
    this.files = new FileList(this.entry || { name: ORGANISER.name, inputs: { min: 1, max: 1, formats: ['pdf'] } }, () => this.onFilesChanged());
    this.fileId = null;
    this.pages = [];
    this.loading = false;
    this.error = null;
    this.panel = null;
    // Thumbnail width in rem, from the zoom slider.
    this.zoom = 11;
  }

  async load() {
    const params = new URLSearchParams(window.location.search);
    const fileIds = (params.get('files') || '').split(',').filter(Boolean).slice(0, 1);
    const jobId = params.get('job');
    this.render();
    if (jobId) {
      try {
        const job = await api.job(jobId);
        const input = await api.file(job.inputs[0]).catch(() => null);
        if (input) this.files.addExisting([input]);
        this.showJob(job.id);
      } catch (error) {
        this.error = error;
        this.render();
      }
    } else if (fileIds.length) {
      const view = await api.file(fileIds[0]).catch(() => null);
      if (view) this.files.addExisting([view]);
    }
  }

  onFilesChanged() {
    const entry = this.files.entries[0];
    const ready = entry && entry.status === 'ready' && entry.id;
    if (!entry) {
      this.fileId = null;
      this.pages = [];
      this.renderGrid();
    } else if (ready && entry.id !== this.fileId) {
      this.fileId = entry.id;
      this.loadPages();
    }
  }

  async loadPages() {
    const fileId = this.fileId;
    this.loading = true;
    this.error = null;
    this.pages = [];
    this.renderGrid();
    try {
      const job = await runJob([fileId], [{ tool: 'thumbnails', params: { width: THUMB_WIDTH } }]);
      if (fileId !== this.fileId) return;
      rememberFiles(job?.outputs || []);
      if (job?.status !== 'succeeded') throw job?.error ? { code: job.error.code, detail: job.error.message } : { code: 'unknown' };
      const urls = new Map(job.outputs.map((file) => [file.filename, file.url]));
      const rendered = job.steps[0]?.report?.pages || [];
      this.pages = rendered.map((page) => ({ n: page.page, rotation: 0, deleted: false, url: urls.get(page.filename), ratio: page.height / page.width }));
    } catch (error) {
      this.error = error;
    } finally {
      this.loading = false;
      this.renderGrid();
    }
  }

  render() {
    this.files.render();
    this.grid = h('div', { class: 'organiser' });
    replaceChildren(this.main,
      h('nav', { class: 'breadcrumb', 'aria-label': t('nav.home') }, h('a', { href: '/' }, t('nav.home'))),
      h('h1', {}, t('organiser.title')),
      h('p', { class: 'lead' }, t('organiser.summary')),
      this.entry && !this.entry.available ? h('div', { class: 'alert alert-warning', role: 'alert' }, t('tool.unavailable')) : null,
      h('section', { class: 'panel', 'aria-labelledby': 'files-heading' }, h('h2', { id: 'files-heading' }, t('files.title')), this.files.element),
      this.grid,
      this.panel ? this.panel.element : null,
    );
    this.renderGrid();
    if (this.panel) this.panel.render();
  }

  renderGrid() {
    if (!this.grid) return;
    if (this.loading) {
      replaceChildren(this.grid, h('p', { role: 'status', class: 'muted' }, t('organiser.loading')));
      return;
    }
    if (this.error && !this.pages.length) {
      replaceChildren(this.grid, errorBox(this.error, { onRetry: () => this.loadPages() }));
      return;
    }
    if (!this.pages.length) {
      replaceChildren(this.grid);
      return;
    }
    const kept = this.pages.filter((page) => !page.deleted).length;
    this.applyButton = h('button', { type: 'button', class: 'button primary large', id: 'apply-organise', disabled: kept === 0, onclick: () => this.apply() }, t('organiser.apply'));
    const grid = h('ol', { class: 'page-grid', style: { '--page-width': `${this.zoom}rem` } }, this.pages.map((page, index) => this.renderPage(page, index)));
    sortable(grid, { selector: '.page-card', handle: '.drag-handle', onMove: (from, to) => this.move(from, to) });
    replaceChildren(this.grid,
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'pages-heading' },
        h('h2', { id: 'pages-heading' }, t('organiser.grid')),
        h('p', { class: 'muted small' }, t('organiser.hint')),
        h('div', { class: 'zoom' }, h('label', { for: 'page-zoom' }, t('organiser.zoom')), h('input', { type: 'range', id: 'page-zoom', min: 8, max: 20, step: 2, value: this.zoom, oninput: (e) => { this.zoom = Number(e.target.value); grid.style.setProperty('--page-width', `${this.zoom}rem`); } })),
        grid,
        // Apply and Undo stay in reach however far down the pages go.
        h(
          'div',
          { class: 'actions organise-bar' },
          this.applyButton,
          h('button', { type: 'button', class: 'button secondary', id: 'reset-organise', onclick: () => this.reset() }, t('organiser.reset')),
          h('p', { class: `form-problem${kept ? ' neutral' : ''}`, 'aria-live': 'polite', id: 'organise-summary' }, kept === 0 ? t('organiser.keepOne') : t('organiser.kept', { kept, total: this.pages.length })),
        ),
      ),
    );
  }

  renderPage(page, index) {
    const n = page.n;
    const button = (action, label, text, onclick, disabled = false) =>
      h('button', { type: 'button', class: 'icon-button', 'aria-label': label, title: label, dataset: { action }, disabled, onclick }, text);
    const item = h(
      'li',
      {
        class: `page-card${page.deleted ? ' deleted' : ''}`,
        dataset: { page: n },
      },
      h('span', { class: 'drag-handle', 'aria-hidden': 'true' }, '⠿'),
      h(
        'div',
        { class: 'page-thumb' },
        h('img', { src: page.url, alt: t('organiser.page', { n }), class: `rot-${page.rotation}`, draggable: 'false' }),
        page.deleted ? h('span', { class: 'deleted-mark' }, t('organiser.deleted')) : null,
      ),
      h('p', { class: 'page-label' }, t('organiser.page', { n })),
      h(
        'div',
        { class: 'page-actions' },
        button('earlier', t('organiser.earlier', { n }), '←', () => this.move(index, index - 1, 'earlier'), index === 0),
        button('later', t('organiser.later', { n }), '→', () => this.move(index, index + 1, 'later'), index === this.pages.length - 1),
        button('rotate-left', t('organiser.rotateLeft', { n }), '↶', () => this.rotate(index, -90)),
        button('rotate-right', t('organiser.rotateRight', { n }), '↷', () => this.rotate(index, 90)),
        page.deleted
          ? button('restore', t('organiser.restore', { n }), '↺', () => this.toggleDelete(index))
          : button('delete', t('organiser.delete', { n }), '✕', () => this.toggleDelete(index)),
      ),
    );
    return item;
  }

  /** Redraws the grid, keeping focus on the same control of the same page. */
  redraw(page, action) {
    this.renderGrid();
    if (!action) return;
    const card = this.grid.querySelector(`li[data-page="${page.n}"]`);
    const target = card?.querySelector(`[data-action="${action}"]:not([disabled])`) || card?.querySelector('[data-action]:not([disabled])');
    target?.focus();
  }

  move(from, to, action) {
    if (to < 0 || to >= this.pages.length) return;
    const page = this.pages[from];
    this.pages = moveItem(this.pages, from, to);
    this.redraw(page, action);
    announce(t('organiser.moved', { n: page.n, position: to + 1 }));
  }

  rotate(index, delta) {
    const page = this.pages[index];
    page.rotation = (((page.rotation + delta) % 360) + 360) % 360;
    this.redraw(page, delta > 0 ? 'rotate-right' : 'rotate-left');
  }

  toggleDelete(index) {
    const page = this.pages[index];
    page.deleted = !page.deleted;
    this.redraw(page, page.deleted ? 'restore' : 'delete');
  }

  reset() {
    this.pages = this.pages
      .map((page) => ({ ...page, rotation: 0, deleted: false }))
      .sort((a, b) => a.n - b.n);
    this.renderGrid();
  }

  async apply() {
    if (!this.pages.some((page) => !page.deleted)) return;
    this.applyButton.disabled = true;
    this.main.querySelector('#apply-error')?.remove();
    try {
      const job = await api.createJob([this.fileId], organiseSteps(this.pages), randomKey());
      rememberStartedJob(job, {
        tool: ORGANISER.name,
        page: ORGANISER.href,
        files: this.files.entries.map((e) => e.name),
      });
      this.showJob(job.id);
    } catch (error) {
      this.grid.append(errorBox(error, { onRetry: () => this.apply(), id: 'apply-error' }));
    } finally {
      if (this.applyButton) this.applyButton.disabled = false;
    }
  }

  showJob(jobId) {
    this.panel?.stop();
    this.panel?.element.remove();
    this.panel = new JobPanel({
      jobId,
      catalogue: this.catalogue,
      inputSize: () => this.files.totalSize(),
      onRetry: () => this.apply(),
      onStartOver: () => window.location.assign(ORGANISER.href),
    });
    this.main.append(this.panel.element);
    this.panel.start();
    this.panel.element.scrollIntoView({ block: 'nearest' });
  }

  destroy() {
    this.panel?.stop();
  }
}
