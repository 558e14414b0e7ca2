// Starts the app: language and theme, the header (language and theme switches, and the
// account: sign in, or the signed-in email and sign out) and the privacy footer, then the page
// for the URL: `/` home, `/tool/{name}` a tool, `/organise` the page organiser, and the account
// pages (`/signin`, `/signup`, `/forgot-password`, `/reset-password`, `/verify-email`,
// `/account`, `/admin`). Switching language redraws everything from the pages' state, keeping focus.

import { AccountPage, AdminPage, ForgotPage, ResetPage, SignInPage, SignUpPage, VerifyPage, currentUser, signOut } from './account.js';
import { api } from './api.js';
import { loadCatalogue } from './catalogue.js';
import { announce, h, replaceChildren } from './dom.js';
import { errorBox } from './errors.js';
import { HomePage } from './home.js';
import { LANGUAGES, detectLanguage, language, setLanguage, t, tn } from './i18n.js';
import { OrganiserPage } from './organiser.js';
import { forgetFiles, forgetJobs, knownFiles } from './store.js';
import { ToolPage } from './tool.js';

const THEME_KEY = 'scanpro.theme';
let page = null;
let user = null;
const ACCOUNT_PAGES = {
  '/signin': SignInPage,
  '/signup': SignUpPage,
  '/forgot-password': ForgotPage,
  '/reset-password': ResetPage,
  '/verify-email': VerifyPage,
  '/account': AccountPage,
  '/admin': AdminPage,
};

function storedTheme() {
  try {
    return localStorage.getItem(THEME_KEY) || 'system';
  } catch {
    return 'system';
  }
}

/** Marks a device whose only pointer is a finger: nothing can be dropped on its pages. Set once,
 * at start, so the page does not change under a screenshot or a rotation. */
function markTouchOnly() {
  const touchOnly = window.matchMedia('(pointer: coarse)').matches && !window.matchMedia('(any-pointer: fine)').matches;
  document.documentElement.classList.toggle('touch-only', touchOnly);
}

function applyTheme(theme) {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function setTheme(theme) {
  applyTheme(theme);
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    /* the choice lasts for this page only */
  }
}

function renderHeader() {
  const header = document.getElementById('site-header');
  const languageSelect = h(
    'select',
    {
      id: 'language',
      onchange: (event) => {
        setLanguage(event.target.value, { remember: true });
        redraw();
      },
    },
    LANGUAGES.map(({ code, name }) => h('option', { value: code, lang: code, selected: code === language() }, name)),
  );
  const themeSelect = h(
    'select',
    { id: 'theme', onchange: (event) => setTheme(event.target.value) },
    ['system', 'light', 'dark'].map((theme) => h('option', { value: theme, selected: theme === storedTheme() }, t(`theme.${theme}`))),
  );
  replaceChildren(header,
    h('a', { class: 'skip-link', href: '#main' }, t('nav.skip')),
    h(
      'div',
      { class: 'header-inner' },
      h('a', { class: 'brand', href: '/' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), t('app.name')),
      h(
        'div',
        { class: 'header-controls' },
        h('div', { class: 'control' }, h('label', { for: 'language' }, t('header.language')), languageSelect),
        h('div', { class: 'control' }, h('label', { for: 'theme' }, t('header.theme')), themeSelect),
        accountControls(),
      ),
    ),
  );
}

/** Sign in, or the account's email (its page), the admin page for admins, and sign out. */
function accountControls() {
  if (!user) return h('nav', { class: 'account-nav', 'aria-label': t('nav.account') }, h('a', { href: '/signin', id: 'nav-signin' }, t('signin.title')));
  return h(
    'nav',
    { class: 'account-nav', 'aria-label': t('nav.account') },
    h('a', { href: '/account', id: 'nav-account' }, user.email),
    user.role === 'admin' ? h('a', { href: '/admin', id: 'nav-admin' }, t('admin.title')) : null,
    h('button', { type: 'button', class: 'button secondary', id: 'nav-signout', onclick: () => signOut() }, t('account.signOut')),
  );
}

function retentionText() {
  const minutes = Number(document.querySelector('meta[name="scanpro-retention-minutes"]')?.content);
  if (!Number.isFinite(minutes) || minutes <= 0) return null;
  if (minutes % 1440 === 0) return tn('duration.days', minutes / 1440);
  if (minutes % 60 === 0) return tn('duration.hours', minutes / 60);
  return tn('duration.minutes', minutes);
}

function renderFooter(message = '') {
  const footer = document.getElementById('site-footer');
  const duration = retentionText();
  replaceChildren(footer,
    h(
      'section',
      { class: 'privacy', 'aria-labelledby': 'privacy-heading' },
      h('h2', { id: 'privacy-heading' }, t('privacy.title')),
      duration ? h('p', {}, t('privacy.retention', { duration })) : null,
      h('button', { type: 'button', class: 'button secondary', id: 'delete-all', onclick: deleteAll }, t('privacy.deleteAll')),
      h('p', { class: 'privacy-status', role: 'status', id: 'privacy-status' }, message),
    ),
  );
}

/** Deletes every file this browser put on the server (uploads, results, previews). */
async function deleteAll() {
  const ids = knownFiles().map((file) => file.id);
  if (!ids.length) {
    renderFooter(t('privacy.nothing'));
    document.getElementById('delete-all')?.focus();
    return;
  }
  const results = await Promise.allSettled(ids.map((id) => api.deleteFile(id)));
  const deleted = results.filter((result) => result.status === 'fulfilled' && result.value).length;
  forgetFiles(ids);
  forgetJobs();
  const message = tn('privacy.deleted', deleted);
  announce(message);
  // The page may show files that are gone now: start it afresh, keeping the message.
  sessionStorage.setItem('scanpro.flash', message);
  window.location.assign(window.location.pathname);
}

function redraw() {
  const focusedId = document.activeElement?.id;
  renderHeader();
  renderFooter(document.getElementById('privacy-status')?.textContent || '');
  page?.render();
  document.title = titleFor();
  if (focusedId) document.getElementById(focusedId)?.focus();
}

function titleFor() {
  const heading = document.querySelector('main h1')?.textContent;
  return heading ? `${heading} · ${t('app.name')}` : t('app.name');
}

async function route(main) {
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  const AccountPageOf = ACCOUNT_PAGES[path];
  if (AccountPageOf) return new AccountPageOf(main);
  let catalogue;
  try {
    catalogue = await loadCatalogue();
  } catch (error) {
    replaceChildren(main, h('h1', {}, t('app.name')), h('p', {}, t('home.loadFailed')), errorBox(error, { onRetry: () => window.location.reload() }));
    return null;
  }
  if (path === '/') return new HomePage(catalogue, main);
  if (path === '/organise') return new OrganiserPage(catalogue, main);
  const match = /^\/tool\/([^/]+)$/.exec(path);
  const tool = match && catalogue.find((entry) => entry.name === decodeURIComponent(match[1]));
  if (tool) return new ToolPage(tool, catalogue, main);
  replaceChildren(main,
    h('h1', {}, t('tool.notFound', { name: match ? decodeURIComponent(match[1]) : path })),
    h('p', {}, h('a', { href: '/' }, t('nav.home'))),
  );
  return null;
}

async function start() {
  setLanguage(detectLanguage());
  applyTheme(storedTheme());
  markTouchOnly();
  user = await currentUser();
  renderHeader();
  const flash = sessionStorage.getItem('scanpro.flash') || '';
  sessionStorage.removeItem('scanpro.flash');
  renderFooter(flash);
  const main = document.getElementById('main');
  replaceChildren(main, h('p', { class: 'muted', role: 'status' }, t('page.loading')));
  page = await route(main);
  if (page) await page.load();
  document.title = titleFor();
  document.body.dataset.ready = 'true';
}

window.addEventListener('pagehide', () => page?.destroy?.());
start();
