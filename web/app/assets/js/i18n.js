// Interface text in English, German, French and Spanish. The language comes from the browser
// unless the user picked one (kept in localStorage); a missing key falls back to English.

import en from './locales/en.js';
import de from './locales/de.js';
import fr from './locales/fr.js';
import es from './locales/es.js';

const DICTIONARIES = { en, de, fr, es };
const STORAGE_KEY = 'scanpro.language';

/** Languages offered, each named in itself. */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'fr', name: 'Français' },
  { code: 'es', name: 'Español' },
];

let current = 'en';

/** The stored choice, else the first browser language we speak, else English. */
export function detectLanguage() {
  const stored = safeStorage(() => localStorage.getItem(STORAGE_KEY));
  if (stored && DICTIONARIES[stored]) return stored;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (DICTIONARIES[base]) return base;
  }
  return 'en';
}

export function setLanguage(code, { remember = false } = {}) {
  current = DICTIONARIES[code] ? code : 'en';
  document.documentElement.lang = current;
  if (remember) safeStorage(() => localStorage.setItem(STORAGE_KEY, current));
}

export function language() {
  return current;
}

/** Whether the current language (or English) has a text for `key`. */
export function has(key) {
  return key in DICTIONARIES[current] || key in en;
}

/** The text for `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = DICTIONARIES[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The English text for `key` (searches match English words in every language). */
export function english(key) {
  return en[key] ?? '';
}

/** Plural-aware text: `key.one` / `key.other` chosen by the language's plural rules. */
export function tn(key, count, params = {}) {
  const form = new Intl.PluralRules(current).select(count);
  const chosen = has(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`;
  return t(chosen, { count, ...params });
}

function safeStorage(action) {
  try {
    return action();
  } catch {
    return null;
  }
}
