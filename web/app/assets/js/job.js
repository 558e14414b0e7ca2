// A running job and then its result: live progress from the event stream (status, steps, pages
// done of total, percent), cancel; on success the result files with downloads (a zip for
// several), sizes before and after, a preview of the first page and "continue with another
// tool", which hands the result's file ids to the next tool without uploading them again;
// on failure the error in plain words.

import { api, followJob, isTerminal, runJob } from './api.js';
import { availability, organiserEntry, toolHref, toolTitle, toolsTaking } from './catalogue.js';
import { announce, formatBytes, h, replaceChildren } from './dom.js';
import { errorBox } from './errors.js';
import { language, t } from './i18n.js';
import { forgetFiles, rememberFiles, updateJob } from './store.js';

const PREVIEW_WIDTH = 240;
/** A result this many times its input's size is worth a word, and an offer to compress it. */
const LARGER_WORTH_SAYING = 1.5;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

export class JobPanel {
  /**
   * @param options.jobId the job to follow
   * @param options.catalogue every tool (for "continue with another tool")
   * @param options.inputSize () => total bytes of the inputs, when known
   * @param options.showSizes compare sizes before and after (for tools that make files smaller)
   * @param options.onRetry called by "try again" after a failure that may pass
   * @param options.onStartOver called by "start over"
   * @param options.onEnd called once the job has ended
   */
  constructor({ jobId, catalogue, inputSize = () => 0, showSizes = false, onRetry, onStartOver, onEnd }) {
    this.onEnd = onEnd;
    this.jobId = jobId;
    this.catalogue = catalogue;
    this.inputSize = inputSize;
    this.showSizes = showSizes;
    this.onRetry = onRetry;
    this.onStartOver = onStartOver;
    this.job = null;
    this.previewUrl = null;
    this.deleted = false;
    this.element = h('section', { class: 'panel job-panel', 'aria-labelledby': 'job-heading', id: 'job' });
    this.render();
  }

  start() {
    this.follower = followJob(this.jobId, (job) => this.receive(job));
    this.follower.done.then((job) => {
      if (job === null) this.receive({ status: 'failed', error: { code: 'not_found', message: '' }, steps: [], progress: { percent: 0 }, outputs: [] });
    });
    return this;
  }

  stop() {
    this.follower?.close();
  }

  /** Whether the job is still queued or running. */
  get running() {
    return !isTerminal(this.job);
  }

  receive(job) {
    const wasTerminal = isTerminal(this.job);
    this.job = job;
    updateJob(this.jobId, { status: job.status });
    if (!isTerminal(job)) {
      this.updateProgress();
      return;
    }
    if (wasTerminal) return;
    if (job.status === 'succeeded') {
      rememberFiles(job.outputs || []);
      this.loadPreview();
    }
    this.render();
    this.element.querySelector('h2')?.focus();
    announce(t(`job.${job.status}`));
    // Last, so the page may move focus where the person can act (a wrong password's field).
    this.onEnd?.(job);
  }

  render() {
    const job = this.job;
    if (!job || !isTerminal(job)) {
      replaceChildren(this.element, ...this.progressView());
      return;
    }
    if (job.status === 'succeeded') replaceChildren(this.element, ...this.resultView());
    else replaceChildren(this.element, ...this.failureView());
  }

  progressView() {
    const job = this.job;
    const percent = job?.progress?.percent ?? 0;
    return [
      h('h2', { id: 'job-heading', tabindex: '-1' }, t('job.title')),
      h('p', { class: 'job-status', role: 'status', 'aria-live': 'polite' }, this.statusText()),
      h('progress', { class: 'job-progress', max: 100, value: percent, 'aria-labelledby': 'job-heading' }),
      this.stepsView(),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button secondary', id: 'cancel-job', onclick: () => this.cancel() }, t('action.cancel'))),
    ];
  }

  statusText() {
    const job = this.job;
    const status = job?.status || 'queued';
    const parts = [t(`job.${status}`)];
    const progress = job?.progress || {};
    if (status === 'running') {
      if (progress.pages_total) parts.push(t('job.pages', { done: progress.pages_done ?? 0, total: progress.pages_total }));
      parts.push(t('job.percent', { percent: progress.percent ?? 0 }));
    }
    return parts.join(' · ');
  }

  stepsView() {
    const steps = this.job?.steps || [];
    if (steps.length < 2) return null;
    return h(
      'ol',
      { class: 'steps', 'aria-label': t('job.steps') },
      steps.map((step) => h('li', { class: `step step-${step.status}` }, `${this.toolName(step.tool)} — ${t(`step.${step.status}`)}`)),
    );
  }

  toolName(name) {
    const tool = this.catalogue.find((entry) => entry.name === name);
    return tool ? toolTitle(tool) : name;
  }

  /** Progress moves in place: redrawing would steal focus from the cancel button. */
  updateProgress() {
    const status = this.element.querySelector('.job-status');
    const bar = this.element.querySelector('.job-progress');
    if (!status || !bar) {
      this.render();
      return;
    }
    const text = this.statusText();
    if (status.textContent !== text) status.textContent = text;
    bar.value = this.job.progress?.percent ?? 0;
    const steps = this.stepsView();
    const old = this.element.querySelector('.steps');
    if (old && steps) old.replaceWith(steps);
    else if (steps) bar.after(steps);
  }

  async cancel() {
    const button = this.element.querySelector('#cancel-job');
    if (button) button.disabled = true;
    try {
      await api.cancelJob(this.jobId);
    } catch (error) {
      this.element.append(errorBox(error));
      if (button) button.disabled = false;
    }
  }

  resultView() {
    const job = this.job;
    const outputs = job.outputs || [];
    const locale = language();
    const after = outputs.reduce((sum, file) => sum + file.size, 0);
    const before = this.inputSize();
    const views = [h('h2', { id: 'job-heading', tabindex: '-1' }, t('result.title'))];
    if (this.deleted) {
      views.push(h('p', { class: 'alert alert-info', role: 'status' }, t('result.deleted')));
      views.push(this.startOverButton());
      return views;
    }
    const list = h(
      'ul',
      { class: 'result-files', 'aria-label': t('result.files') },
      outputs.map((file) =>
        h(
          'li',
          {},
          h('span', { class: 'file-name' }, file.filename),
          h('span', { class: 'muted small' }, formatBytes(file.size, locale)),
          h('a', { class: 'button primary download', href: file.url, download: file.filename }, t('action.download'), h('span', { class: 'visually-hidden' }, ` ${file.filename}`)),
        ),
      ),
    );
    const body = [list];
    if (outputs.length > 1) {
      body.push(h('p', {}, h('a', { class: 'button primary', href: job.links.outputs_zip, download: `scanpro-${job.id}.zip`, id: 'download-all' }, t('action.downloadAll'))));
    }
    if (this.showSizes && before > 0 && after > 0) {
      const change = Math.round((1 - after / before) * 100);
      const verdict = change > 0 ? t('result.smaller', { percent: change }) : change < 0 ? t('result.larger', { percent: -change }) : t('result.same');
      body.push(
        h(
          'p',
          { class: 'sizes' },
          h('span', { class: 'size-before-after' }, t('result.sizes', { before: formatBytes(before, locale), after: formatBytes(after, locale) })),
          ' ',
          h('strong', { class: change > 0 ? 'saving' : '' }, `(${verdict})`),
        ),
      );
    }
    body.push(this.compressOffer(outputs, before, after));
    const expires = outputs[0]?.expires_at;
    if (expires) body.push(h('p', { class: 'muted small' }, t('result.expires', { time: new Date(expires).toLocaleString(locale) })));
    const preview = this.previewUrl
      ? h('figure', { class: 'preview' }, h('img', { src: this.previewUrl, alt: t('result.preview', { name: outputs[0].filename }), width: PREVIEW_WIDTH }))
      : null;
    views.push(h('div', { class: 'result' }, h('div', { class: 'result-main' }, body), preview));
    views.push(this.continueView(outputs));
    views.push(
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'button secondary', id: 'delete-result', onclick: () => this.deleteFiles() }, t('action.deleteNow')),
        this.startOverButton(),
      ),
    );
    return views;
  }

  /** A result much larger than its input (an OCR'd or straightened scan) says so, and offers to
   * compress it. */
  compressOffer(outputs, before, after) {
    const compress = this.catalogue.find((tool) => tool.name === 'compress');
    const ran = (this.job.steps || []).map((step) => step.tool);
    const allPdf = outputs.every((file) => file.content_type === 'application/pdf');
    if (!compress || !availability(compress).available || ran.includes('compress') || !allPdf) return null;
    if (!(before > 0 && after > before * LARGER_WORTH_SAYING && after - before > 100 * 1024)) return null;
    const locale = language();
    const ids = outputs.map((file) => file.id).join(',');
    return h(
      'div',
      { class: 'alert alert-info', id: 'compress-offer' },
      h('p', {}, t('result.muchLarger', { before: formatBytes(before, locale), after: formatBytes(after, locale), times: (after / before).toLocaleString(locale, { maximumFractionDigits: 1 }) })),
      h('a', { class: 'button secondary', href: `${toolHref(compress)}?files=${encodeURIComponent(ids)}` }, t('result.compressIt')),
    );
  }

  continueView(outputs) {
    // The tools the result can go on to, not the ones that just made it.
    const ran = new Set((this.job.steps || []).map((step) => step.tool));
    const candidates = toolsTaking(this.catalogue, outputs.map((file) => file.content_type)).filter((tool) => !ran.has(tool.name));
    const organiser = organiserEntry(this.catalogue);
    if (organiser && organiser.available && outputs.length === 1 && outputs[0].content_type === 'application/pdf') candidates.push(organiser);
    if (!candidates.length) return null;
    const ids = outputs.map((file) => file.id).join(',');
    const select = h(
      'select',
      { id: 'next-tool' },
      candidates.filter((tool) => availability(tool).available).map((tool) => h('option', { value: `${toolHref(tool)}?files=${encodeURIComponent(ids)}` }, tool.href ? tool.title : toolTitle(tool))),
    );
    return h(
      'div',
      { class: 'continue' },
      h('h3', {}, t('result.continue')),
      h('p', { class: 'muted small' }, t('result.continueHint')),
      h(
        'div',
        { class: 'inline-form' },
        h('label', { for: 'next-tool' }, t('result.nextTool')),
        select,
        h('button', { type: 'button', class: 'button secondary', id: 'continue', onclick: () => window.location.assign(select.value) }, t('action.continue')),
      ),
    );
  }

  failureView() {
    const job = this.job;
    const error = job.status === 'cancelled' ? { code: 'cancelled', message: '' } : job.error || { code: 'unknown', message: '' };
    return [
      h('h2', { id: 'job-heading', tabindex: '-1' }, t(`job.${job.status}`)),
      errorBox({ code: error.code, detail: error.message }, { onRetry: this.onRetry, tool: job.steps?.[0]?.tool }),
      h('div', { class: 'actions' }, this.startOverButton()),
    ];
  }

  startOverButton() {
    return h('button', { type: 'button', class: 'button secondary', id: 'start-over', onclick: () => this.onStartOver?.() }, t('action.startOver'));
  }

  /** A look at the first page: the image itself, or a thumbnail the server renders of a PDF. */
  async loadPreview() {
    const first = this.job.outputs?.[0];
    if (!first) return;
    if (IMAGE_TYPES.has(first.content_type)) {
      this.previewUrl = first.url;
      this.render();
      return;
    }
    if (first.content_type !== 'application/pdf') return;
    try {
      const preview = await runJob([first.id], [{ tool: 'thumbnails', params: { pages: '1', width: PREVIEW_WIDTH } }]);
      rememberFiles(preview?.outputs || []);
      if (preview?.status === 'succeeded' && preview.outputs?.length) {
        this.previewUrl = preview.outputs[0].url;
        const focused = document.activeElement?.id;
        this.render();
        if (focused) document.getElementById(focused)?.focus();
      }
    } catch {
      /* no preview is no failure: the result is there to download */
    }
  }

  async deleteFiles() {
    // Deleting cannot be undone: asked first.
    if (!window.confirm(t('result.confirmDelete'))) return;
    const ids = [...(this.job.inputs || []), ...(this.job.outputs || []).map((file) => file.id)];
    await Promise.allSettled(ids.map((id) => api.deleteFile(id)));
    forgetFiles(ids);
    this.deleted = true;
    this.render();
    this.element.querySelector('h2')?.focus();
    announce(t('result.deleted'));
  }
}
