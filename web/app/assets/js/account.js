// Account pages: sign in, sign up, forgotten and reset passwords, email confirmation, the
// account (usage against the quota, API keys shown once, deleting the account) and the
// administration (users, tool switches, usage, audit log). The session lives in an HttpOnly
// cookie the page never sees: who is signed in is asked of `GET /api/v1/me`.

import { api } from './api.js';
import { announce, h, replaceChildren } from './dom.js';
import { errorBox } from './errors.js';
import { t, tn } from './i18n.js';

const SCOPES = ['files:read', 'files:write', 'jobs:read', 'jobs:write'];

/** The signed-in account, or null for guests (asked once per page load). */
let signedIn;
export async function currentUser() {
  if (signedIn === undefined) {
    try {
      signedIn = await api.me();
    } catch {
      signedIn = null;
    }
  }
  return signedIn;
}

/** The token of an emailed link: `…#token=…` (a fragment never reaches server logs). */
function linkToken() {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') || '';
}

function field(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, required: true, ...attrs }));
}

function value(id) {
  return document.getElementById(id)?.value || '';
}

/** A form page: heading, fields, one submit button, and a place for the outcome. */
class FormPage {
  constructor(main) {
    this.main = main;
    this.outcome = null;
  }

  async load() {
    this.render();
  }

  render() {
    const form = h(
      'form',
      { class: 'account-form', id: `${this.name}-form`, onsubmit: (event) => this.submit(event) },
      this.fields(),
      h('button', { type: 'submit', class: 'button primary', id: `${this.name}-submit` }, t(`${this.name}.submit`)),
    );
    replaceChildren(this.main, h('h1', {}, t(`${this.name}.title`)), this.intro?.() || null, form, h('div', { id: 'outcome', 'aria-live': 'polite' }, this.outcome), this.links?.() || null);
  }

  show(outcome) {
    this.outcome = outcome;
    replaceChildren(document.getElementById('outcome'), outcome);
    outcome?.focus?.();
  }

  async submit(event) {
    event.preventDefault();
    const button = document.getElementById(`${this.name}-submit`);
    button.disabled = true;
    try {
      await this.send();
    } catch (error) {
      this.show(errorBox(error, { id: 'form-error' }));
    } finally {
      button.disabled = false;
    }
  }
}

function success(text) {
  return h('div', { class: 'alert alert-success', role: 'status', id: 'form-success' }, h('p', {}, text));
}

export class SignInPage extends FormPage {
  name = 'signin';
  providers = [];

  async load() {
    // Single sign-on comes back here with `?error=code` when it did not succeed.
    const code = new URLSearchParams(window.location.search).get('error');
    if (code) this.outcome = errorBox({ code }, { id: 'form-error' });
    try {
      this.providers = (await api.providers()).providers;
    } catch {
      this.providers = [];
    }
    this.render();
  }

  intro() {
    if (!this.providers.length) return null;
    return h('div', { class: 'sso' },
      this.providers.map((provider) => h('p', {}, h('a', { class: 'button secondary', href: provider.login_url, id: 'sso' }, t('signin.with', { name: provider.name })))),
      h('p', { class: 'muted small' }, t('signin.or')));
  }

  fields() {
    return [field('email', t('account.email'), { type: 'email', autocomplete: 'username' }), field('password', t('account.password'), { type: 'password', autocomplete: 'current-password' })];
  }
  links() {
    return h('p', { class: 'account-links' }, h('a', { href: '/signup' }, t('signup.title')), ' · ', h('a', { href: '/forgot-password' }, t('forgot.title')));
  }
  async send() {
    await api.signIn(value('email'), value('password'));
    window.location.assign('/account');
  }
}

export class SignUpPage extends FormPage {
  name = 'signup';
  fields() {
    return [
      field('email', t('account.email'), { type: 'email', autocomplete: 'username' }),
      field('password', t('account.newPassword'), { type: 'password', autocomplete: 'new-password', minlength: 10, 'aria-describedby': 'password-hint' }),
      h('p', { id: 'password-hint', class: 'muted small' }, t('account.passwordHint')),
    ];
  }
  intro() {
    return h('p', {}, t('signup.intro'));
  }
  async send() {
    const email = value('email');
    const password = value('password');
    const user = await api.register(email, password);
    if (!user.email_verified) {
      this.show(success(t('signup.checkEmail', { email })));
      return;
    }
    await api.signIn(email, password);
    window.location.assign('/account');
  }
}

export class ForgotPage extends FormPage {
  name = 'forgot';
  fields() {
    return [field('email', t('account.email'), { type: 'email', autocomplete: 'username' })];
  }
  async send() {
    await api.forgotPassword(value('email'));
    this.show(success(t('forgot.sent')));
  }
}

export class ResetPage extends FormPage {
  name = 'reset';
  fields() {
    return [field('password', t('account.newPassword'), { type: 'password', autocomplete: 'new-password', minlength: 10 })];
  }
  async send() {
    await api.resetPassword(linkToken(), value('password'));
    this.show(h('div', { class: 'alert alert-success', role: 'status', id: 'form-success' }, h('p', {}, t('reset.done')), h('p', {}, h('a', { href: '/signin' }, t('signin.title')))));
  }
}

export class VerifyPage {
  constructor(main) {
    this.main = main;
    this.outcome = h('p', { role: 'status' }, t('page.loading'));
  }
  async load() {
    this.render();
    try {
      await api.verifyEmail(linkToken());
      this.outcome = h('div', { class: 'alert alert-success', role: 'status', id: 'form-success' }, h('p', {}, t('verify.done')), h('p', {}, h('a', { href: '/signin' }, t('signin.title'))));
    } catch (error) {
      this.outcome = errorBox(error, { id: 'form-error' });
    }
    this.render();
  }
  render() {
    replaceChildren(this.main, h('h1', {}, t('verify.title')), this.outcome);
  }
}

/** Bytes as MB with one decimal. */
function megabytes(bytes) {
  return (bytes / (1024 * 1024)).toFixed(1);
}

export class AccountPage {
  constructor(main) {
    this.main = main;
    this.user = null;
    this.usage = null;
    this.keys = [];
    this.newKey = null;
    this.error = null;
  }

  async load() {
    this.user = await currentUser();
    if (!this.user) {
      window.location.assign('/signin');
      return;
    }
    await this.refresh();
  }

  async refresh() {
    try {
      [this.usage, { api_keys: this.keys }] = await Promise.all([api.usage(), api.apiKeys()]);
      this.error = null;
    } catch (error) {
      this.error = error;
    }
    this.render();
  }

  render() {
    if (!this.user) return;
    const usage = this.usage;
    replaceChildren(this.main,
      h('h1', {}, t('account.title')),
      h('p', { id: 'account-email' }, t('account.signedInAs', { email: this.user.email })),
      this.error ? errorBox(this.error) : null,
      usage ? this.usageSection(usage) : null,
      this.keysSection(),
      h('section', { 'aria-labelledby': 'danger-heading' },
        h('h2', { id: 'danger-heading' }, t('account.leave')),
        h('button', { type: 'button', class: 'button secondary', id: 'sign-out', onclick: () => signOut() }, t('account.signOut')),
        ' ',
        h('button', { type: 'button', class: 'button danger', id: 'delete-account', onclick: () => this.deleteAccount() }, t('account.delete')),
      ),
    );
  }

  usageSection(usage) {
    const limit = usage.operations_limit;
    return h('section', { 'aria-labelledby': 'usage-heading' },
      h('h2', { id: 'usage-heading' }, t('account.usage')),
      limit == null ? null : h('progress', { id: 'usage-bar', max: limit, value: Math.min(usage.operations_used, limit), 'aria-label': t('account.usage') }),
      h('p', { id: 'usage-text' }, limit == null ? tn('account.operationsUnmetered', usage.operations_used) : t('account.operations', { used: usage.operations_used, limit })),
      h('p', { class: 'muted small' }, t('account.resets', { date: new Date(usage.period_end).toLocaleDateString() })),
      h('p', {}, t('account.storage', { used: megabytes(usage.storage_bytes), limit: usage.storage_limit ? megabytes(usage.storage_limit) : '∞' })),
    );
  }

  keysSection() {
    const created = this.newKey
      ? h('div', { class: 'alert alert-success', role: 'status', id: 'new-key' },
          h('p', {}, t('keys.shownOnce')),
          h('code', { id: 'new-key-value' }, this.newKey),
          ' ',
          h('button', { type: 'button', class: 'button secondary', id: 'copy-key', onclick: () => this.copyKey() }, t('keys.copy')))
      : null;
    const form = h('form', { id: 'key-form', onsubmit: (event) => this.createKey(event) },
      field('key-name', t('keys.name'), { maxlength: 100 }),
      h('fieldset', {}, h('legend', {}, t('keys.scopes')),
        SCOPES.map((scope) => h('label', { class: 'checkbox' }, h('input', { type: 'checkbox', name: 'scope', value: scope, checked: true }), ` ${t(`scope.${scope}`)}`))),
      h('button', { type: 'submit', class: 'button primary', id: 'create-key' }, t('keys.create')),
    );
    return h('section', { 'aria-labelledby': 'keys-heading' },
      h('h2', { id: 'keys-heading' }, t('keys.title')),
      h('p', { class: 'muted small' }, t('keys.intro')),
      created,
      this.keys.length
        ? h('table', { id: 'key-list' },
            h('thead', {}, h('tr', {}, [t('keys.name'), t('keys.prefix'), t('keys.scopes'), t('keys.lastUsed'), ''].map((title) => h('th', { scope: 'col' }, title)))),
            h('tbody', {}, this.keys.map((key) => h('tr', { dataset: { key: key.id } },
              h('td', {}, key.name),
              h('td', {}, h('code', {}, `${key.prefix}…`)),
              h('td', {}, key.scopes.join(', ')),
              h('td', {}, key.last_used_at ? new Date(key.last_used_at).toLocaleString() : t('keys.never')),
              h('td', {}, h('button', { type: 'button', class: 'button secondary', onclick: () => this.revoke(key) }, t('keys.revoke')))))))
        : h('p', { id: 'no-keys' }, t('keys.none')),
      form,
    );
  }

  async createKey(event) {
    event.preventDefault();
    const scopes = [...document.querySelectorAll('input[name="scope"]:checked')].map((box) => box.value);
    try {
      const key = await api.createApiKey(value('key-name'), scopes);
      this.newKey = key.key;
      announce(t('keys.created'));
    } catch (error) {
      this.error = error;
    }
    await this.refresh();
    document.getElementById('copy-key')?.focus();
  }

  async copyKey() {
    try {
      await navigator.clipboard.writeText(this.newKey);
      announce(t('keys.copied'));
    } catch {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('new-key-value'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
  }

  async revoke(key) {
    if (!window.confirm(t('keys.confirmRevoke', { name: key.name }))) return;
    try {
      await api.revokeApiKey(key.id);
      this.newKey = null;
    } catch (error) {
      this.error = error;
    }
    await this.refresh();
  }

  async deleteAccount() {
    if (!window.confirm(t('account.confirmDelete'))) return;
    try {
      await api.deleteAccount();
      sessionStorage.setItem('scanpro.flash', t('account.deleted'));
      window.location.assign('/');
    } catch (error) {
      this.error = error;
      this.render();
    }
  }
}

export async function signOut() {
  try {
    await api.signOut();
  } finally {
    window.location.assign('/');
  }
}

export class AdminPage {
  constructor(main) {
    this.main = main;
    this.users = [];
    this.tools = [];
    this.audit = [];
    this.search = '';
    this.error = null;
  }

  async load() {
    const user = await currentUser();
    if (!user || user.role !== 'admin') {
      replaceChildren(this.main, h('h1', {}, t('admin.title')), h('p', { role: 'alert' }, t('admin.only')));
      return;
    }
    await this.refresh();
  }

  async refresh() {
    try {
      const [users, tools, audit, usage] = await Promise.all([api.adminUsers(this.search), api.adminTools(), api.adminAudit(), api.adminUsage()]);
      this.users = users.users;
      this.tools = tools.tools;
      this.audit = audit.entries;
      this.usage = usage;
      this.error = null;
    } catch (error) {
      this.error = error;
    }
    this.render();
  }

  render() {
    const search = h('form', { role: 'search', onsubmit: (event) => { event.preventDefault(); this.search = value('user-search'); this.refresh(); } },
      h('label', { for: 'user-search' }, t('admin.search')), ' ',
      h('input', { id: 'user-search', type: 'search', value: this.search }), ' ',
      h('button', { type: 'submit', class: 'button secondary' }, t('admin.searchButton')));
    replaceChildren(this.main,
      h('h1', {}, t('admin.title')),
      this.error ? errorBox(this.error) : null,
      h('section', { 'aria-labelledby': 'users-heading' },
        h('h2', { id: 'users-heading' }, t('admin.users')), search,
        h('table', { id: 'user-list' },
          h('thead', {}, h('tr', {}, [t('account.email'), t('admin.role'), t('admin.plan'), t('admin.operationsLimit'), t('admin.disabled'), ''].map((title) => h('th', { scope: 'col' }, title)))),
          h('tbody', {}, this.users.map((user) => this.userRow(user))))),
      h('section', { 'aria-labelledby': 'tools-heading' },
        h('h2', { id: 'tools-heading' }, t('admin.tools')),
        h('ul', { id: 'tool-switches', class: 'switches' }, this.tools.map((tool) => h('li', {},
          h('label', { class: 'checkbox' }, h('input', { type: 'checkbox', name: 'tool', value: tool.name, checked: tool.enabled, onchange: (event) => this.switchTool(tool.name, event.target.checked) }), ` ${tool.name}`))))),
      h('section', { 'aria-labelledby': 'usage-heading' },
        h('h2', { id: 'usage-heading' }, t('admin.usage')),
        h('p', {}, h('a', { href: '/api/v1/admin/usage?format=csv', download: 'usage.csv', id: 'usage-csv' }, t('admin.usageCsv'))),
        this.usageTable('usage-by-account', [t('admin.period'), t('account.email'), t('admin.operations')],
          (this.usage?.accounts || []).map((line) => [line.period, line.email || line.owner, line.operations])),
        this.usageTable('usage-by-tool', [t('admin.day'), t('admin.tool'), t('admin.operations')],
          (this.usage?.tools || []).slice(-100).reverse().map((line) => [line.day, line.tool, line.operations]))),
      h('section', { 'aria-labelledby': 'audit-heading' },
        h('h2', { id: 'audit-heading' }, t('admin.audit')),
        h('table', { id: 'audit-log' },
          h('thead', {}, h('tr', {}, [t('admin.when'), t('admin.who'), t('admin.what'), t('admin.target')].map((title) => h('th', { scope: 'col' }, title)))),
          h('tbody', {}, this.audit.map((entry) => h('tr', {}, h('td', {}, new Date(entry.at).toLocaleString()), h('td', {}, entry.actor), h('td', {}, entry.action), h('td', {}, entry.target || '')))))),
    );
  }

  usageTable(id, titles, rows) {
    if (!rows.length) return null;
    return h('table', { id, class: 'usage-table' },
      h('thead', {}, h('tr', {}, titles.map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, String(cell)))))));
  }

  userRow(user) {
    const id = (name) => `${name}-${user.id}`;
    return h('tr', { dataset: { user: user.email } },
      h('td', {}, user.email),
      h('td', {}, h('select', { id: id('role'), 'aria-label': t('admin.role') }, ['user', 'admin'].map((role) => h('option', { value: role, selected: role === user.role }, t(`role.${role}`))))),
      h('td', {}, user.plan),
      h('td', {}, h('input', { id: id('limit'), type: 'number', min: 0, value: user.operations_limit ?? '', placeholder: t('admin.planDefault'), 'aria-label': t('admin.operationsLimit') })),
      h('td', {}, h('input', { id: id('disabled'), type: 'checkbox', checked: user.disabled, 'aria-label': t('admin.disabled') })),
      h('td', {},
        h('button', { type: 'button', class: 'button secondary', dataset: { action: 'save' }, onclick: () => this.save(user) }, t('admin.save')), ' ',
        h('button', { type: 'button', class: 'button danger', dataset: { action: 'delete' }, onclick: () => this.remove(user) }, t('admin.delete'))),
    );
  }

  async save(user) {
    const limit = document.getElementById(`limit-${user.id}`).value;
    const changes = {
      role: document.getElementById(`role-${user.id}`).value,
      disabled: document.getElementById(`disabled-${user.id}`).checked,
      operations_limit: limit === '' ? null : Number(limit),
    };
    await this.act(() => api.adminUpdateUser(user.id, changes), t('admin.saved', { email: user.email }));
  }

  async remove(user) {
    if (!window.confirm(t('admin.confirmDelete', { email: user.email }))) return;
    await this.act(() => api.adminDeleteUser(user.id), t('admin.deleted', { email: user.email }));
  }

  async switchTool(name, enabled) {
    await this.act(() => api.adminSwitchTool(name, enabled), t(enabled ? 'admin.toolOn' : 'admin.toolOff', { name }));
  }

  async act(action, done) {
    try {
      await action();
      announce(done);
    } catch (error) {
      this.error = error;
    }
    await this.refresh();
  }
}
