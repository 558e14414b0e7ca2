// One tool's page: its files, its options and the start button, then the job panel.
// `?files=ID,…` starts with files already on the server (a previous result: no re-upload);
// `?job=ID` shows a job of this browser again, with its live progress (a reload resumes).

import { api } from './api.js';
import { availability, sectionOf, toolHref, toolSummary, toolTitle } from './catalogue.js';
import { h, randomKey, replaceChildren } from './dom.js';
import { errorBox } from './errors.js';
import { FileList } from './files.js';
import { OptionsForm } from './form.js';
import { t } from './i18n.js';
import { JobPanel } from './job.js';
import { hasPreview, PlacementPreview } from './preview.js';
import { rememberStartedJob } from './store.js';

/** Parameters the page sets itself rather than asking for. */
function hiddenParams(tool) {
  const hidden = [];
  const order = tool.params_schema?.properties?.order;
  // Merge's input order comes from the file list, which the user reorders by dragging.
  if (order && /input/i.test(order.description || '') && (tool.inputs?.max ?? 2) !== 1) hidden.push('order');
  // A size given two ways (`target_size` as text, `target_size_mb` as a number): one control.
  const names = Object.keys(tool.params_schema?.properties || {});
  hidden.push(...names.filter((name) => names.includes(`${name}_mb`)));
  return hidden;
}

/** Parameters the page asks for although the API can do without: Protect is built around the
 * password to open (the API also takes an owner password alone, for restrictions only). */
function requiredParams(tool) {
  return tool.name === 'protect' ? ['user_password'] : [];
}

/** Options a job shows masked (`***`): they are typed again, never put back. */
const MASKED = new Set(['password', 'user_password', 'owner_password', 'extra_headers', 'cookies']);

/** A job's settings as this tool's form holds them. */
function settingsOf(job, tool) {
  const step = job.steps?.[0];
  if (step?.tool !== tool.name) return {};
  return Object.fromEntries(Object.entries(step.params || {}).filter(([name]) => !MASKED.has(name)));
}

export class ToolPage {
  constructor(tool, catalogue, main) {
    this.tool = tool;
    this.catalogue = catalogue;
    this.main = main;
    this.values = {};
    this.files = new FileList(tool, () => {
      this.refreshStart();
      this.preview?.update();
    });
    this.panel = null;
    this.submitError = null;
    this.submitting = false;
    // After a result the form folds away, until asked for again.
    this.collapsed = false;
  }

  /** Loads the files or job named in the URL. */
  async load() {
    const params = new URLSearchParams(window.location.search);
    const jobId = params.get('job');
    const fileIds = (params.get('files') || '').split(',').filter(Boolean);
    this.render();
    if (jobId) await this.resume(jobId);
    else if (fileIds.length) await this.addExisting(fileIds);
    // Arriving at a tool, the first thing to do is to choose files.
    else this.main.querySelector('.drop-zone input.file-input')?.focus();
  }

  async addExisting(ids) {
    const views = await Promise.all(ids.map((id) => api.file(id).catch(() => null)));
    const found = views.filter(Boolean);
    if (found.length) this.files.addExisting(found);
    if (found.length < ids.length) {
      this.submitError = { code: 'not_found', detail: '' };
      this.render();
    }
  }

  async resume(jobId) {
    let job;
    try {
      job = await api.job(jobId);
    } catch (error) {
      this.submitError = error;
      this.render();
      return;
    }
    // The form shows what the job runs with, not the defaults.
    Object.assign(this.values, settingsOf(job, this.tool));
    await this.addExisting(job.inputs || []);
    this.render();
    this.showJob(job.id);
  }

  render() {
    const tool = this.tool;
    const { available, reason } = availability(tool);
    this.form = new OptionsForm(tool, { values: this.values, pageCount: () => this.files.pageCount(), hidden: hiddenParams(tool), required: requiredParams(tool), onChange: () => this.preview?.update() });
    this.preview = hasPreview(tool) ? new PlacementPreview(tool, { valueAt: (name) => this.form.valueAt([name]), page: () => this.files.firstPage() }) : null;
    this.files.render();
    const organiserLink = ['reorder', 'remove_pages', 'rotate', 'extract_pages'].includes(tool.name) && this.catalogue.some((entry) => entry.name === 'extract_pages')
      ? h('p', { class: 'small' }, h('a', { href: '/organise' }, t('tool.organiseLink')))
      : null;
    this.startButton = h('button', { type: 'submit', class: 'button primary large', id: 'start' }, toolTitle(tool));
    this.problem = h('p', { class: 'form-problem', id: 'form-problem', 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'tool-form', novalidate: true, hidden: this.collapsed, onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      h('section', { class: `panel${this.form.isEmpty ? ' wide' : ''}`, 'aria-labelledby': 'files-heading' }, h('h2', { id: 'files-heading' }, t('files.title')), this.files.element),
      this.form.isEmpty ? null : h('section', { class: 'panel', 'aria-labelledby': 'options-heading' }, h('h2', { id: 'options-heading' }, t('options.title')), this.preview?.element, this.form.element),
      h('div', { class: 'actions start-actions' }, this.startButton, this.problem),
      this.submitError ? errorBox(this.submitError, { onRetry: () => this.submit(), id: 'submit-error', tool: this.tool.name }) : null,
    );
    replaceChildren(this.main,
      h('nav', { class: 'breadcrumb', 'aria-label': t('nav.home') }, h('a', { href: '/' }, t('nav.home'))),
      h('h1', {}, toolTitle(tool)),
      h('p', { class: 'lead' }, toolSummary(tool)),
      organiserLink,
      available ? null : h('div', { class: 'alert alert-warning', role: 'alert' }, h('p', {}, t('tool.unavailable')), reason ? h('p', { class: 'small' }, t('tool.unavailableReason', { reason })) : null),
      available && tool.limited_reason ? h('div', { class: 'alert alert-warning', role: 'status' }, h('p', {}, t('tool.limited')), h('p', { class: 'small' }, t('tool.unavailableReason', { reason: tool.limited_reason }))) : null,
      this.collapsed ? this.collapsedView() : null,
      form,
      this.panel ? this.panel.element : null,
    );
    if (this.panel) this.panel.render();
    this.refreshStart();
  }

  /** The folded form: what went in, and a way back to the options. */
  collapsedView() {
    const names = this.files.entries.map((entry) => entry.name).join(', ');
    return h(
      'div',
      { class: 'collapsed-form panel' },
      h('p', {}, names),
      h('button', { type: 'button', class: 'button secondary', id: 'change-options', onclick: () => { this.collapsed = false; this.render(); this.main.querySelector('.options :is(input, select, textarea), .tool-form input.file-input')?.focus(); } }, t('options.change')),
    );
  }

  refreshStart() {
    if (!this.startButton) return;
    const { available } = availability(this.tool);
    // One job at a time from this page: a second click while one runs is almost always a slip.
    this.startButton.disabled = !available || this.submitting || Boolean(this.panel?.running);
    this.problem.textContent = this.files.entries.length ? this.files.problem() : '';
  }

  async submit() {
    const problem = this.files.problem();
    if (problem) {
      this.problem.textContent = problem;
      this.main.querySelector('.drop-zone input.file-input')?.focus();
      return;
    }
    const { ok, params } = this.form.validate();
    if (!ok) {
      this.problem.textContent = t('validation.fixErrors');
      return;
    }
    this.submitting = true;
    this.submitError = null;
    this.main.querySelector('#submit-error')?.remove();
    this.refreshStart();
    try {
      const job = await api.createJob(this.files.ids(), [{ tool: this.tool.name, params }], randomKey());
      rememberStartedJob(job, {
        tool: this.tool.name,
        page: toolHref(this.tool),
        files: this.files.entries.map((e) => e.name),
      });
      this.showJob(job.id);
    } catch (error) {
      this.submitError = error;
      if (error.code === 'invalid_params') this.form.showServerError(error.detail);
      const box = errorBox(error, { onRetry: () => this.submit(), id: 'submit-error', tool: this.tool.name });
      this.main.querySelector('.start-actions').after(box);
    } finally {
      this.submitting = false;
      this.refreshStart();
    }
  }

  showJob(jobId) {
    this.panel?.stop();
    this.panel?.element.remove();
    this.panel = new JobPanel({
      jobId,
      catalogue: this.catalogue,
      inputSize: () => this.files.totalSize(),
      showSizes: sectionOf(this.tool) === 'optimize',
      onRetry: () => this.submit(),
      onStartOver: () => window.location.assign(toolHref(this.tool)),
      onEnd: (job) => {
        if (job.status === 'succeeded' && !this.collapsed) {
          this.collapsed = true;
          this.render();
          this.panel.element.querySelector('h2')?.focus();
        }
        this.refreshStart();
        // A wrong password is typed again where it was typed: the field, its text selected.
        const password = this.main.querySelector('#opt-password');
        if (job.error?.code === 'wrong_password' && password) {
          password.focus();
          password.select();
        }
      },
    });
    this.main.append(this.panel.element);
    this.panel.start();
    this.refreshStart();
    this.panel.element.scrollIntoView({ block: 'nearest' });
  }

  destroy() {
    this.panel?.stop();
  }
}
