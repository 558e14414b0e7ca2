// "Your recent jobs": the jobs this browser started (kept in localStorage), each with its state
// read from the server and, while it runs, its live progress; a reload finds them again.

import { followJob, api, isTerminal } from './api.js';
import { h, replaceChildren } from './dom.js';
import { language, t } from './i18n.js';
import { forgetJobs, recentJobs, updateJob } from './store.js';

/** Jobs followed over the event stream at once; the rest are polled (browsers cap connections). */
const STREAMED = 2;
const SHOWN = 10;

export class RecentJobs {
  constructor(catalogueTitles) {
    this.titles = catalogueTitles;
    this.entries = recentJobs().slice(0, SHOWN);
    this.views = new Map();
    this.followers = [];
    this.element = h('section', { class: 'panel recent', 'aria-labelledby': 'recent-heading', id: 'recent-jobs' });
  }

  async load() {
    this.render();
    await Promise.all(
      this.entries.map(async (entry) => {
        try {
          this.views.set(entry.id, await api.job(entry.id));
        } catch (error) {
          this.views.set(entry.id, error.code === 'not_found' ? 'gone' : null);
        }
      }),
    );
    this.render();
    let streamed = 0;
    for (const entry of this.entries) {
      const view = this.views.get(entry.id);
      if (!view || view === 'gone' || isTerminal(view)) continue;
      const stream = streamed < STREAMED;
      streamed += 1;
      this.followers.push(followJob(entry.id, (job) => this.receive(entry, job), { stream }));
    }
  }

  receive(entry, job) {
    this.views.set(entry.id, job);
    updateJob(entry.id, { status: job.status });
    const row = this.element.querySelector(`li[data-job="${entry.id}"]`);
    if (row) row.replaceWith(this.renderRow(entry));
  }

  render() {
    if (!this.entries.length) {
      this.element.hidden = true;
      return;
    }
    this.element.hidden = false;
    replaceChildren(this.element,
      h('h2', { id: 'recent-heading' }, t('recent.title')),
      h('p', { class: 'muted small' }, t('recent.hint')),
      h('ul', { class: 'recent-list' }, this.entries.map((entry) => this.renderRow(entry))),
      h('button', { type: 'button', class: 'button secondary small', id: 'clear-recent', onclick: () => this.clear() }, t('recent.clear')),
    );
  }

  renderRow(entry) {
    const view = this.views.get(entry.id);
    const status = view === 'gone' ? 'gone' : view?.status || entry.status || 'queued';
    const title = this.titles(entry.tool);
    const started = entry.created_at ? new Date(entry.created_at).toLocaleString(language()) : '';
    const running = view && view !== 'gone' && !isTerminal(view);
    const percent = running ? view.progress?.percent ?? 0 : null;
    const pages = running && view.progress?.pages_total ? t('job.pages', { done: view.progress.pages_done ?? 0, total: view.progress.pages_total }) : '';
    const statusText = status === 'gone' ? t('recent.gone') : t(`job.${status}`);
    return h(
      'li',
      { class: `recent-job status-${status}`, dataset: { job: entry.id, status } },
      h(
        'div',
        { class: 'recent-main' },
        h('a', { href: `${entry.page}?job=${encodeURIComponent(entry.id)}`, class: 'recent-link' }, title),
        h('p', { class: 'muted small' }, (entry.files || []).join(', ')),
        h('p', { class: 'muted small' }, t('recent.started', { time: started })),
      ),
      h(
        'div',
        { class: 'recent-state' },
        h('span', { class: `badge badge-${status}` }, statusText),
        running ? h('progress', { max: 100, value: percent, 'aria-label': `${title}: ${t('job.percent', { percent })}` }) : null,
        running ? h('span', { class: 'small recent-progress' }, [t('job.percent', { percent }), pages].filter(Boolean).join(' · ')) : null,
      ),
    );
  }

  clear() {
    this.stop();
    forgetJobs();
    this.entries = [];
    this.render();
  }

  stop() {
    for (const follower of this.followers) follower.close();
    this.followers = [];
  }
}
