// Every interface text exists in German, French and Spanish, with the same placeholders as the
// English one; only texts that read the same in every language may fall back to English.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import en from '../app/assets/js/locales/en.js';
import de from '../app/assets/js/locales/de.js';
import fr from '../app/assets/js/locales/fr.js';
import es from '../app/assets/js/locales/es.js';

/** Brand names, format names and numbers that need no translation. */
const SAME_EVERYWHERE = new Set(['app.name', 'option.a3', 'option.a4', 'option.a5', 'option.letter', 'option.png', 'option.jpg', 'option.pdf', 'option.pdfa', 'option.180', 'option.arabic', 'option.roman', 'option.roman_upper', 'option.letters', 'option.letters_lower']);

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

for (const [code, dictionary] of Object.entries({ de, fr, es })) {
  test(`${code}: every English text is translated, with the same placeholders`, () => {
    const missing = Object.keys(en).filter((key) => !(key in dictionary) && !SAME_EVERYWHERE.has(key));
    assert.deepEqual(missing, [], `${code} lacks these texts`);
    const unknown = Object.keys(dictionary).filter((key) => !(key in en));
    assert.deepEqual(unknown, [], `${code} has texts English does not`);
    for (const [key, text] of Object.entries(dictionary)) {
      assert.deepEqual(placeholders(text), placeholders(en[key]), `${code} ${key}: placeholders differ`);
    }
  });
}
