// API error codes in plain words, in the page's language. The API's own detail (which names the
// file or option at fault) is English: it is shown as it is to English readers; others get the
// option it names, by its label in their language.

import { h } from './dom.js';
import { fieldLabel, isOption, namingOptions, refusedOption, withoutStep } from './form.js';
import { has, language, t } from './i18n.js';

/** Codes worth a "try again" button: the same request may well work a moment later. */
const RETRYABLE = new Set(['network', 'busy', 'unavailable', 'rate_limited', 'limit_exceeded', 'step_timeout', 'engine_timeout', 'internal_error', 'delivery_limit', 'conflict']);

/** The detail as this page's reader can read it: the API's words in English, else the option
 * the detail names (`angle: must be 90, 180 or 270`), else nothing beyond the code's message. */
function readableDetail(code, detail, tool) {
  const plain = withoutStep(detail);
  if (language() === 'en') return namingOptions(plain, tool);
  // Only an option refused names itself first (`angle: …`); other details start with a file.
  const refused = code === 'invalid_params' ? refusedOption(plain) : null;
  return refused && isOption(refused.name, tool) ? t('error.option', { option: fieldLabel(refused.name, tool) }) : '';
}

/** `{code, message, detail, retryable}` for an ApiError or a job's `{code, message}` error. */
export function describeError(error, tool = '') {
  const code = error?.code || 'unknown';
  const raw = error?.detail ?? error?.message ?? '';
  const message = has(`error.${code}`) ? t(`error.${code}`) : t('error.unknown');
  const detail = raw && raw !== code ? readableDetail(code, raw, tool) : '';
  return { code, message, detail, retryable: RETRYABLE.has(code) };
}

/** An alert box for `error`; `onRetry` adds a "try again" button when retrying makes sense. */
export function errorBox(error, { onRetry, id, tool } = {}) {
  const described = describeError(error, tool);
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
