// API error codes in plain words. The API's own detail (which names the file or option at
// fault) is kept as a secondary line; nothing else of the failure reaches the page.

import { h } from './dom.js';
import { has, t } from './i18n.js';

/** Codes worth a "try again" button: the same request may well work a moment later. */
const RETRYABLE = new Set(['network', 'busy', 'unavailable', 'rate_limited', 'limit_exceeded', 'step_timeout', 'engine_timeout', 'internal_error', 'delivery_limit', 'conflict']);

/** `{code, message, detail, retryable}` for an ApiError or a job's `{code, message}` error. */
export function describeError(error) {
  const code = error?.code || 'unknown';
  const detail = error?.detail ?? error?.message ?? '';
  const message = has(`error.${code}`) ? t(`error.${code}`) : t('error.unknown');
  return { code, message, detail: detail && detail !== code ? detail : '', retryable: RETRYABLE.has(code) };
}

/** An alert box for `error`; `onRetry` adds a "try again" button when retrying makes sense. */
export function errorBox(error, { onRetry, id } = {}) {
  const described = describeError(error);
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert', id, dataset: { code: described.code } },
    h('p', { class: 'alert-title' }, described.message),
    described.detail ? h('p', { class: 'alert-detail' }, `${t('error.details')}: ${described.detail}`) : null,
    onRetry && described.retryable
      ? h('button', { type: 'button', class: 'button secondary', onclick: onRetry }, t('action.retry'))
      : null,
  );
}
