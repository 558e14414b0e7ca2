// The home page: every tool by section, a search that filters as you type (in the page's
// language and in English), the unavailable ones marked with the server's reason, and this
// browser's recent jobs.

import { availability, organiserEntry, sectionTitle, sections, toolHref, toolKeywords, toolSummary, toolTitle } from './catalogue.js';
import { h, replaceChildren } from './dom.js';
import { toolIcon } from './icons.js';
import { t, tn } from './i18n.js';
import { RecentJobs } from './recent.js';

export class HomePage {
  constructor(catalogue, main) {
    this.catalogue = catalogue;
    this.main = main;
    this.query = '';
    this.recent = new RecentJobs((name) => this.titleOf(name));
  }

  get tools() {
    const organiser = organiserEntry(this.catalogue);
    return organiser ? [...this.catalogue, organiser] : this.catalogue;
  }

  titleOf(name) {
    const tool = this.tools.find((entry) => entry.name === name);
    if (!tool) return name;
    return tool.href ? tool.title : toolTitle(tool);
  }

  async load() {
    this.render();
    // Arriving, a screen reader starts at the page's title.
    this.main.querySelector('h1')?.focus();
    await this.recent.load();
  }

  render() {
    const search = h('input', {
      type: 'search',
      id: 'tool-search',
      value: this.query,
      placeholder: t('home.searchPlaceholder'),
      autocomplete: 'off',
      'aria-describedby': 'search-count',
      oninput: (event) => {
        this.query = event.target.value;
        this.filter();
      },
      // Enter opens the tool when the search leaves exactly one.
      onkeydown: (event) => {
        if (event.key !== 'Enter') return;
        const shown = [...this.sectionsElement.querySelectorAll('.tool-card:not([hidden]) a.tool-link')];
        if (shown.length === 1) window.location.assign(shown[0].getAttribute('href'));
      },
    });
    this.sectionsElement = h(
      'div',
      { class: 'tool-sections' },
      sections(this.tools).map(({ section, tools }) =>
        h(
          'section',
          { class: 'tool-section', 'aria-labelledby': `section-${section}`, dataset: { section } },
          h('h2', { id: `section-${section}` }, sectionTitle(section)),
          h('ul', { class: 'tool-grid' }, tools.map((tool) => this.card(tool))),
        ),
      ),
    );
    this.count = h('p', { id: 'search-count', class: 'muted small', 'aria-live': 'polite' });
    replaceChildren(this.main,
      h('div', { class: 'hero' }, h('h1', { tabindex: '-1' }, t('home.title')), h('p', { class: 'lead' }, t('home.lead'))),
      h('div', { class: 'search' }, h('label', { for: 'tool-search' }, t('home.search')), search, this.count),
      this.recent.element,
      this.sectionsElement,
    );
    this.recent.render();
    this.filter();
  }

  card(tool) {
    const title = tool.href ? tool.title : toolTitle(tool);
    const summary = tool.href ? tool.summary : toolSummary(tool);
    const { available, reason } = availability(tool);
    const words = [title, summary, tool.name.replaceAll('_', ' '), tool.title, tool.summary, tool.href ? '' : toolKeywords(tool)]
      .join(' ')
      .toLowerCase();
    return h(
      'li',
      { class: `tool-card${available ? '' : ' unavailable'}`, dataset: { tool: tool.name, words } },
      toolIcon(tool.name),
      h('a', { href: toolHref(tool), class: 'tool-link' }, h('span', { class: 'tool-title' }, title)),
      h('p', { class: 'tool-summary' }, summary),
      available ? null : h('p', { class: 'badge badge-unavailable', title: reason }, t('home.unavailable'), reason ? h('span', { class: 'visually-hidden' }, `: ${reason}`) : null),
    );
  }

  /** Hides the cards (and emptied sections) where some word of the query begins no word of the
   * card ("lock" finds Protect by its keywords, not Rotate by "clockwise"). */
  filter() {
    const words = this.query.toLowerCase().split(/\s+/).filter(Boolean);
    const starts = (card, word) => card.dataset.words.split(/[^\p{L}\p{N}]+/u).some((cardWord) => cardWord.startsWith(word));
    let shown = 0;
    for (const section of this.sectionsElement.querySelectorAll('.tool-section')) {
      let inSection = 0;
      for (const card of section.querySelectorAll('.tool-card')) {
        const match = words.every((word) => starts(card, word));
        card.hidden = !match;
        if (match) inSection += 1;
      }
      section.hidden = inSection === 0;
      shown += inSection;
    }
    this.count.textContent = words.length ? (shown ? tn('home.results', shown) : t('home.noResults', { query: this.query })) : '';
  }

  destroy() {
    this.recent.stop();
  }
}
