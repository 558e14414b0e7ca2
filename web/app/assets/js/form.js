// The options form of a tool, drawn from the JSON Schema of its parameters
// (`GET /api/v1/tools`), with hand-made controls where a better one exists: a colour picker,
// a position grid, a page selector, a slider for opacities, checkboxes for sets of choices, and
// repeatable groups for arrays of objects.
//
// Only options the user touched are sent: an untouched option takes the server's default, which
// the form shows as the initial value or as a placeholder. Labels and help come from the page's
// language (`param.*`, `help.*`, `option.*`, `optionHelp.*`): the schema's descriptions are API
// documentation and stay in the API docs. Options documented as "for `mode = x`"
// or "(`jpg` only)" show only while that choice is made, so nothing shown silently does nothing.

import { h, replaceChildren } from './dom.js';
import { has, language, t } from './i18n.js';

const COLOR = /^#[0-9a-f]{6}$/i;

/** The schema with `$ref`s followed; the referring schema's own keys win. */
function resolve(schema, root) {
  let current = schema || {};
  for (let depth = 0; current.$ref && depth < 16; depth += 1) {
    const name = current.$ref.replace(/^#\/(\$defs|definitions)\//, '');
    const target = root.$defs?.[name] || root.definitions?.[name] || {};
    const { $ref, ...own } = current;
    current = { ...target, ...own };
  }
  return current;
}

function choicesOf(schema) {
  // Documented choices come as `const`s, the others grouped in one `enum`.
  if (Array.isArray(schema.oneOf) && schema.oneOf.length && schema.oneOf.every((v) => 'const' in v || Array.isArray(v.enum))) {
    return schema.oneOf.flatMap((v) =>
      'const' in v
        ? [{ value: v.const, title: v.title || '' }]
        : v.enum.filter((value) => value !== null).map((value) => ({ value, title: '' })),
    );
  }
  if (Array.isArray(schema.enum)) return schema.enum.filter((v) => v !== null).map((value) => ({ value, title: '' }));
  return null;
}

function typesOf(schema) {
  return (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []).filter((type) => type !== 'null');
}

/** A field descriptor: what control to draw for one property. */
function describe(name, schema, root, required) {
  const resolved = resolve(schema, root);
  const base = {
    name,
    required,
    description: resolved.description || '',
    default: resolved.default ?? null,
    // The server's hints: options most people leave alone, and what a string holds.
    advanced: resolved['x-advanced'] === true,
    format: resolved.format || '',
    pattern: resolved.pattern || '',
    nullable: !required && (typesOf(resolved).length < (Array.isArray(resolved.type) ? resolved.type.length : 1)),
  };
  const shape = shapeOf(resolved, root);
  const field = { ...base, ...shape, nullable: base.nullable || Boolean(shape.nullable) };
  return refine(field);
}

function shapeOf(schema, root) {
  if (Array.isArray(schema.anyOf)) {
    const variants = schema.anyOf.map((v) => resolve(v, root));
    const concrete = variants.filter((v) => !(v.type === 'null' || (Array.isArray(v.type) && v.type.length === 1 && v.type[0] === 'null')));
    const nullable = concrete.length < variants.length;
    if (concrete.length === 1) return { ...shapeOf(concrete[0], root), nullable };
    const choiceArray = concrete.find((v) => typesOf(v).includes('array') && choicesOf(resolve(v.items || {}, root)));
    if (choiceArray) return { kind: 'checkboxes', choices: choicesOf(resolve(choiceArray.items, root)), nullable };
    if (concrete.some((v) => typesOf(v).includes('string'))) return { kind: 'text', nullable };
    if (concrete.some((v) => typesOf(v).includes('integer'))) return { kind: 'number', integer: true, nullable };
    return { kind: 'json', nullable };
  }
  const choices = choicesOf(schema);
  if (choices) {
    const kind = schema['x-widget'] === 'position-grid' ? 'position' : 'select';
    return { kind, choices, fileFormats: schema.format === 'file-format' };
  }
  const [type] = typesOf(schema);
  switch (type) {
    case 'boolean':
      return { kind: 'checkbox' };
    case 'integer':
    case 'number':
      return { kind: 'number', integer: type === 'integer', min: schema.minimum, max: schema.maximum };
    case 'string':
      return { kind: 'text' };
    case 'array': {
      const items = resolve(schema.items || {}, root);
      const itemChoices = choicesOf(items);
      if (itemChoices) return { kind: 'checkboxes', choices: itemChoices };
      if (typesOf(items).includes('object')) return { kind: 'list', item: objectFields(items, root) };
      const [itemType] = typesOf(items);
      if (itemType === 'integer' || itemType === 'number' || itemType === 'string') return { kind: 'csv', itemType };
      return { kind: 'json' };
    }
    case 'object':
      return schema.properties ? { kind: 'group', fields: objectFields(schema, root) } : { kind: 'json' };
    default:
      return { kind: 'json' };
  }
}

/** Required options first, then in the order the server declares them (`x-order`): the schema's
 * `properties` come sorted by name. */
function objectFields(schema, root) {
  const required = new Set(schema.required || []);
  const order = Array.isArray(schema['x-order']) ? schema['x-order'] : [];
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  return Object.entries(schema.properties || {})
    .map(([name, property]) => describe(name, property, root, required.has(name)))
    .sort((a, b) => Number(b.required) - Number(a.required) || rank(a.name) - rank(b.name));
}

function refine(field) {
  if (field.kind === 'text') {
    if (/colou?r$/.test(field.name)) return { ...field, kind: 'color' };
    if (/password/.test(field.name)) return { ...field, kind: 'password' };
    if (field.format === 'page-selection') return { ...field, kind: 'pages' };
    if (field.name === 'text') return { ...field, kind: 'textarea' };
  }
  if (field.kind === 'number' && field.min === 0 && field.max === 1) return { ...field, kind: 'range' };
  // Rotations are quarter turns: three choices say it better than a number box.
  if (field.kind === 'number' && field.name === 'angle' && /90, 180 or 270/.test(field.description)) {
    return { ...field, kind: 'select', numeric: true, choices: [90, 180, 270].map((value) => ({ value, title: '' })) };
  }
  return field;
}

/** The default the server applies, for display: the schema's, else the one its description names. */
function shownDefault(field) {
  if (field.default !== null && field.default !== undefined && field.default !== '') return String(field.default);
  const match = /Default[:\s]+`([^`]+)`/.exec(field.description) || /Default[:\s]+(-?\d+(?:\.\d+)?)\b/.exec(field.description);
  return match ? match[1] : '';
}

/** A default as this language writes it: numbers with its decimal mark, choices by their label. */
function localDefault(field, tool) {
  const value = shownDefault(field);
  if (value === '' || field.kind === 'text' || field.kind === 'textarea') return value;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value).toLocaleString(language());
  return field.choices ? choiceLabel(value, field, tool) : value;
}

/** Plain help for an option in the page's language: the tool's own wording, else the common one. */
function helpText(name, tool) {
  if (has(`help.${tool}.${name}`)) return t(`help.${tool}.${name}`);
  return has(`help.${name}`) ? t(`help.${name}`) : '';
}

/** What one choice does, when it needs saying. */
function choiceHelp(value, field, tool) {
  for (const key of [`optionHelp.${tool}.${field.name}.${value}`, `optionHelp.${field.name}.${value}`]) {
    if (has(key)) return t(key);
  }
  return '';
}

function humanize(name) {
  const words = String(name).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A tool may word an option its own way (`param.split.mode`); else the common label. */
export function fieldLabel(name, tool = '') {
  if (tool && has(`param.${tool}.${name}`)) return t(`param.${tool}.${name}`);
  return has(`param.${name}`) ? t(`param.${name}`) : humanize(name);
}

function choiceLabel(value, field = null, tool = '') {
  // OCR languages are ISO 639-2 codes (`deu`): named in the page's language.
  if (field && /^languages?$/.test(field.name) && typeof Intl.DisplayNames === 'function') {
    try {
      const name = new Intl.DisplayNames([language()], { type: 'language' }).of(String(value));
      if (name && name !== value) return name.charAt(0).toLocaleUpperCase(language()) + name.slice(1);
    } catch {
      /* not a language code: fall through */
    }
  }
  if (field && tool && has(`option.${tool}.${field.name}.${value}`)) return t(`option.${tool}.${field.name}.${value}`);
  if (has(`position.${value}`)) return t(`position.${value}`);
  if (has(`option.${value}`)) return t(`option.${value}`);
  const choice = field?.choices?.find((c) => String(c.value) === String(value));
  if (choice?.title) return choice.title;
  // File formats read best as their usual capitals (DOCX, ODT).
  if (field?.fileFormats) return String(value).toUpperCase();
  // PDF/A conformance levels: 1b, 2b, 3u …
  if (/^[1-4][abu]$/.test(String(value))) return `PDF/A-${value}`;
  return humanize(value);
}

/** Conditions such as "for `mode = every`", "for `to = png|jpg`" or "(`jpg` only)", against sibling fields. */
function conditionOf(field, siblings) {
  const equals = /for `(\w+)\s*=\s*([\w.|-]+)`/.exec(field.description);
  if (equals && siblings.some((s) => s.name === equals[1])) return { field: equals[1], value: equals[2] };
  const only = /\(`([\w.-]+)` only\)/.exec(field.description);
  if (only) {
    const owner = siblings.find((s) => s !== field && s.choices?.some((c) => c.value === only[1]));
    if (owner) return { field: owner.name, value: only[1] };
  }
  return null;
}

/** A job's error detail without the step it came from (`steps[0] (protect): `): the page shows
 * one tool. */
export function withoutStep(detail) {
  return String(detail || '').replace(/^steps\[\d+\] \(\w+\):\s*/, '');
}

/** The option an `invalid_params` detail names first (`elements[0].page: …`): its path as the
 * form writes it (`elements.0.page`), its top-level name, and the problem in the API's words. */
export function refusedOption(detail) {
  const match = /^([\w.[\]]+):\s*(.+)$/s.exec(withoutStep(detail));
  if (!match) return null;
  const path = match[1].replace(/\[(\d+)\]/g, '.$1');
  return { path, name: path.split('.')[0], problem: match[2] };
}

/** The API's English words with the options it names (`user_password`) called by their labels
 * (“Password to open”). */
export function namingOptions(text, tool = '') {
  return String(text).replace(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g, (name) => (isOption(name, tool) ? `“${fieldLabel(name, tool)}”` : name));
}

/** Whether `name` is an option the page has a label for. */
export function isOption(name, tool = '') {
  return has(`param.${tool}.${name}`) || has(`param.${name}`);
}

/** One tool's options: `element` to show, `validate()` to read them as parameters. */
export class OptionsForm {
  /**
   * @param tool the catalogue entry
   * @param options.values touched values to start from (kept across re-renders)
   * @param options.pageCount () => the page count of the single input, when known
   * @param options.hidden names of parameters the page sets itself
   * @param options.required names of parameters the page asks for although the API needs none
   * @param options.onChange called after any option changes
   */
  constructor(tool, { values = {}, pageCount = () => null, hidden = [], required = [], onChange = () => {} } = {}) {
    this.tool = tool;
    this.onChange = onChange;
    this.values = values;
    this.pageCount = pageCount;
    const schema = tool.params_schema || {};
    this.fields = objectFields(schema, schema)
      .filter((field) => !hidden.includes(field.name))
      .map((field) => (required.includes(field.name) ? { ...field, required: true, advanced: false } : field))
      .sort((a, b) => Number(b.required) - Number(a.required));
    this.errors = new Map();
    this.element = this.render();
  }

  get isEmpty() {
    return this.fields.length === 0;
  }

  render() {
    const container = h('div', { class: 'options' });
    if (this.isEmpty) {
      container.append(h('p', { class: 'muted' }, t('options.none')));
      return container;
    }
    container.append(...this.renderFields(this.fields, [], this.values, false));
    this.refreshConditions(container);
    return container;
  }

  renderFields(fields, path, values, inItem) {
    const main = [];
    const advanced = [];
    for (const field of fields) {
      const condition = conditionOf(field, fields);
      const row = this.renderField(field, [...path, field.name], values);
      if (condition) {
        row.dataset.whenField = [...path, condition.field].join('.');
        row.dataset.whenValue = condition.value;
      }
      // Options most people leave alone wait under "More options", unless nothing else is shown.
      const tucked = field.advanced && !field.required && fields.some((other) => !other.advanced);
      (tucked ? advanced : main).push(row);
    }
    if (advanced.length) {
      main.push(h('details', { class: 'more-options' }, h('summary', {}, t('options.more')), ...advanced));
    }
    return inItem ? main : [h('div', { class: 'field-list' }, main)];
  }

  renderField(field, path, values) {
    const id = `opt-${path.join('-')}`;
    const helpId = `${id}-help`;
    const errorId = `${id}-error`;
    const helpWords = helpText(field.name, this.tool.name);
    const describedBy = [helpWords ? helpId : null, errorId].filter(Boolean).join(' ');
    const current = values[field.name];
    const setValue = (value) => {
      if (value === undefined) delete values[field.name];
      else values[field.name] = value;
      this.clearError(path);
      this.refreshConditions();
      this.onChange();
    };
    const label = fieldLabel(field.name, this.tool.name);
    const requiredMark = field.required ? h('span', { class: 'required' }, ` (${t('options.required')})`) : null;
    const help = helpWords ? h('p', { class: 'help', id: helpId }, helpWords) : null;
    const error = h('p', { class: 'field-error', id: errorId, hidden: true });
    const wrap = (control, { asFieldset = false } = {}) =>
      asFieldset
        ? h('fieldset', { class: 'field', dataset: { path: path.join('.') }, 'aria-describedby': describedBy }, h('legend', {}, label, requiredMark), control, help, error)
        : h('div', { class: 'field', dataset: { path: path.join('.') } }, h('label', { for: id }, label, requiredMark), control, help, error);
    const common = { id, name: id, 'aria-describedby': describedBy };
    const placeholderDefault = shownDefault(field);
    const defaultWords = localDefault(field, this.tool.name);

    switch (field.kind) {
      case 'checkbox': {
        const checked = current ?? field.default === true;
        const input = h('input', { ...common, type: 'checkbox', checked, onchange: (e) => setValue(e.target.checked) });
        return h('div', { class: 'field field-checkbox', dataset: { path: path.join('.') } }, h('div', { class: 'check' }, input, h('label', { for: id }, label)), help, error);
      }
      case 'select': {
        // A required choice without a default starts on its first option, and that counts as chosen.
        if (current === undefined && field.required && (field.default === null || field.default === undefined)) values[field.name] = field.choices[0].value;
        const selected = values[field.name] ?? field.default ?? '';
        const options = [];
        if (field.nullable && (field.default === null || field.default === undefined)) {
          const shown = defaultWords ? ` (${defaultWords})` : '';
          options.push(h('option', { value: '' }, t('options.default') + shown));
        }
        for (const choice of field.choices) {
          options.push(h('option', { value: String(choice.value), selected: String(choice.value) === String(selected) }, choiceLabel(choice.value, field, this.tool.name)));
        }
        // What the chosen option does, under the list.
        const chosenHelp = h('p', { class: 'help choice-help' });
        const describeChoice = (value) => {
          const words = value === '' ? '' : choiceHelp(value, field, this.tool.name);
          chosenHelp.textContent = words;
          chosenHelp.hidden = !words;
        };
        describeChoice(selected);
        const select = h('select', {
          ...common,
          onchange: (e) => {
            describeChoice(e.target.value);
            setValue(e.target.value === '' ? undefined : field.numeric ? Number(e.target.value) : e.target.value);
          },
        }, options);
        return wrap(h('div', { class: 'select' }, select, chosenHelp));
      }
      case 'position': {
        const selected = current ?? field.default ?? placeholderDefault;
        // The chosen place in words beside the grid: the dots alone do not say it.
        const chosen = h('p', { class: 'position-chosen', 'aria-hidden': 'true' }, selected ? choiceLabel(selected) : '');
        const grid = h(
          'div',
          { class: 'position-grid', role: 'radiogroup', 'aria-label': label },
          field.choices.map(({ value: position }) => {
            const radioId = `${id}-${position}`;
            return h(
              'label',
              { class: 'position-cell', for: radioId, title: choiceLabel(position) },
              h('input', { type: 'radio', id: radioId, name: id, value: position, checked: position === selected, onchange: () => { chosen.textContent = choiceLabel(position); setValue(position); } }),
              h('span', { class: 'visually-hidden' }, choiceLabel(position)),
              h('span', { class: 'position-dot', 'aria-hidden': 'true' }),
            );
          }),
        );
        return wrap(h('div', { class: 'position' }, grid, chosen), { asFieldset: true });
      }
      case 'checkboxes': {
        // One flag per choice (`{"print": false}`, absent ones allowed) reads as the allowed ones.
        const flags = current && !Array.isArray(current) && typeof current === 'object' ? field.choices.map((c) => c.value).filter((value) => current[value] !== false) : null;
        if (flags) values[field.name] = flags;
        const initial = flags ?? (Array.isArray(current) ? current : null) ?? (Array.isArray(field.default) ? field.default : field.name === 'permissions' ? field.choices.map((c) => c.value) : []);
        const box = h(
          'div',
          { class: 'checkbox-set' },
          field.choices.map((choice) => {
            const boxId = `${id}-${choice.value}`;
            return h(
              'div',
              { class: 'check' },
              h('input', {
                type: 'checkbox',
                id: boxId,
                value: String(choice.value),
                checked: initial.includes(choice.value),
                onchange: (e) => {
                  const set = new Set(values[field.name] ?? initial);
                  if (e.target.checked) set.add(choice.value);
                  else set.delete(choice.value);
                  // In the order chosen: for OCR languages the first is the main one.
                  setValue([...set]);
                },
              }),
              h('label', { for: boxId }, choiceLabel(choice.value, field, this.tool.name)),
            );
          }),
        );
        return wrap(box, { asFieldset: true });
      }
      case 'number':
      case 'range': {
        const value = current ?? (field.default ?? '');
        if (field.kind === 'range') {
          // Shares from 0 to 1 read as percentages: 0.5 → "50 %" in French.
          const percent = (share) => Number(share).toLocaleString(language(), { style: 'percent' });
          const output = h('output', { for: id, class: 'range-value' }, percent(value === '' ? placeholderDefault || field.max : value));
          const input = h('input', {
            ...common,
            type: 'range',
            min: field.min,
            max: field.max,
            step: 0.05,
            value: String(value === '' ? placeholderDefault || field.max : value),
            oninput: (e) => {
              output.textContent = percent(e.target.value);
              setValue(Number(e.target.value));
            },
          });
          return wrap(h('div', { class: 'range' }, input, output));
        }
        const input = h('input', {
          ...common,
          type: 'number',
          inputmode: field.integer ? 'numeric' : 'decimal',
          min: field.min,
          max: field.max,
          step: field.integer ? 1 : 'any',
          value: value === null ? '' : String(value),
          placeholder: defaultWords ? t('options.defaultValue', { value: defaultWords }) : '',
          required: field.required,
          oninput: (e) => setValue(e.target.value === '' ? undefined : e.target.value),
        });
        return wrap(input);
      }
      case 'color': {
        const fallback = COLOR.test(placeholderDefault) ? placeholderDefault.toLowerCase() : '#000000';
        const input = h('input', { ...common, type: 'color', value: current ?? fallback, oninput: (e) => setValue(e.target.value) });
        return wrap(input);
      }
      case 'password': {
        // `password` opens a document; `user_password`, `owner_password` set new ones, typed twice.
        const isNew = field.name !== 'password';
        const input = h('input', { ...common, type: 'password', autocomplete: isNew ? 'new-password' : 'off', value: current ?? '', required: field.required, oninput: (e) => setValue(e.target.value === '' && !field.required ? undefined : e.target.value) });
        const againId = `${id}-again`;
        const again = isNew
          ? h('input', { id: againId, class: 'password-again', type: 'password', autocomplete: 'new-password', value: '', 'aria-describedby': errorId, oninput: () => this.clearError(path) })
          : null;
        const toggleId = `${id}-show`;
        const toggle = h('span', { class: 'check inline' }, h('input', { type: 'checkbox', id: toggleId, onchange: (e) => { for (const box of [input, again]) if (box) box.type = e.target.checked ? 'text' : 'password'; } }), h('label', { for: toggleId }, t('options.showPassword')));
        return wrap(h('div', { class: 'password' }, input, again ? h('label', { for: againId, class: 'again-label' }, t('options.passwordAgain')) : null, again, toggle));
      }
      case 'pages':
        return this.renderPages(field, path, values, { id, common, wrap, setValue, label });
      case 'list':
        return this.renderList(field, path, values, { wrap });
      case 'group': {
        values[field.name] = values[field.name] ?? {};
        return wrap(h('div', { class: 'group' }, this.renderFields(field.fields, path, values[field.name], true)), { asFieldset: true });
      }
      case 'json': {
        const text = current === undefined ? '' : current?.json ?? JSON.stringify(current);
        const input = h('textarea', { ...common, rows: 3, spellcheck: 'false', oninput: (e) => setValue(e.target.value.trim() === '' ? undefined : { json: e.target.value }) }, text);
        return wrap(input);
      }
      case 'csv':
      case 'text':
      case 'textarea':
      default: {
        const value = current ?? (field.default ?? '');
        const attrs = {
          ...common,
          value: Array.isArray(value) ? value.join(', ') : String(value),
          placeholder: defaultWords ? t('options.defaultValue', { value: defaultWords }) : '',
          required: field.required,
          oninput: (e) => setValue(e.target.value === '' && !field.required ? undefined : e.target.value),
        };
        const control = field.kind === 'textarea' ? h('textarea', { ...attrs, rows: 2 }) : h('input', { ...attrs, type: 'text', autocomplete: 'off' });
        if (field.kind === 'textarea') control.value = attrs.value;
        return wrap(control);
      }
    }
  }

  renderPages(field, path, values, { id, common, wrap, setValue, label }) {
    const current = values[field.name];
    const text = h('input', {
      ...common,
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      value: current ?? '',
      placeholder: '1-3,5,8-',
      required: field.required,
      oninput: (e) => setValue(e.target.value.trim() === '' ? (field.required ? '' : undefined) : e.target.value),
    });
    if (field.required) {
      return wrap(h('div', { class: 'pages-input' }, text, h('p', { class: 'hint' }, t('pages.hint'))));
    }
    const presets = [
      ['all', undefined],
      ['odd', 'odd'],
      ['even', 'even'],
      ['first', '1'],
      ['last', 'last'],
    ];
    const presetOf = (value) => (value === undefined ? 'all' : presets.find(([, v]) => v === value)?.[0] || 'custom');
    let chosen = presetOf(current);
    text.disabled = chosen !== 'custom';
    text.setAttribute('aria-label', t('pages.custom'));
    const radios = [...presets.map(([key]) => key), 'custom'].map((key) => {
      const radioId = `${id}-${key}`;
      return h(
        'span',
        { class: 'chip' },
        h('input', {
          type: 'radio',
          id: radioId,
          name: `${id}-preset`,
          checked: key === chosen,
          onchange: () => {
            chosen = key;
            text.disabled = key !== 'custom';
            if (key === 'custom') {
              setValue(text.value.trim() || '');
              text.focus();
            } else {
              setValue(presets.find(([k]) => k === key)[1]);
            }
          },
        }),
        h('label', { for: radioId }, t(`pages.${key}`)),
      );
    });
    const box = h('div', { class: 'pages-select' }, h('div', { class: 'chips' }, radios), text, h('p', { class: 'hint' }, t('pages.hint')));
    return wrap(box, { asFieldset: true });
  }

  renderList(field, path, values, { wrap }) {
    if (!Array.isArray(values[field.name])) values[field.name] = field.required ? [{}] : [];
    const items = values[field.name];
    const container = h('div', { class: 'list' });
    const draw = () => {
      replaceChildren(container,
        ...items.map((item, index) =>
          h(
            'fieldset',
            { class: 'list-item' },
            h('legend', {}, t('options.item', { n: index + 1 })),
            this.renderFields(field.item, [...path, index], item, true),
            items.length > (field.required ? 1 : 0)
              ? h('button', { type: 'button', class: 'button small secondary', onclick: () => { items.splice(index, 1); draw(); this.refreshConditions(); this.onChange(); } }, t('options.removeItem', { n: index + 1 }))
              : null,
          ),
        ),
        h('button', { type: 'button', class: 'button small secondary', onclick: () => { items.push({}); draw(); this.refreshConditions(); this.onChange(); } }, t('options.addItem')),
      );
    };
    draw();
    return wrap(container, { asFieldset: true });
  }

  /** Shows each conditional option only while its condition holds. */
  refreshConditions(root = this.element) {
    if (!root) return;
    for (const row of root.querySelectorAll('[data-when-field]')) {
      const value = this.valueAt(row.dataset.whenField.split('.'));
      row.hidden = !row.dataset.whenValue.split('|').includes(String(value));
    }
  }

  /** The value in force at a path: touched, else the schema default. */
  valueAt(path) {
    let values = this.values;
    let fields = this.fields;
    for (let i = 0; i < path.length - 1; i += 1) {
      const key = path[i];
      values = values?.[key];
      const field = fields.find((f) => f.name === key);
      if (field?.kind === 'list') {
        i += 1;
        values = values?.[path[i]];
        fields = field.item;
      } else if (field?.kind === 'group') {
        fields = field.fields;
      }
    }
    const name = path[path.length - 1];
    const field = fields.find((f) => f.name === name);
    return values?.[name] ?? field?.default ?? shownDefault(field || { description: '' });
  }

  /** `{ok, params}`; marks invalid options and focuses the first one. */
  validate() {
    for (const path of [...this.errors.keys()]) this.clearError(path.split('.'));
    const problems = [];
    const params = this.collect(this.fields, [], this.values, problems);
    for (const { path, message } of problems) this.showError(path, message);
    if (problems.length) {
      const first = this.element.querySelector('[aria-invalid="true"], fieldset.has-error input');
      const details = first?.closest('details');
      if (details) details.open = true;
      first?.focus();
    }
    return { ok: problems.length === 0, params };
  }

  collect(fields, path, values, problems) {
    const params = {};
    for (const field of fields) {
      const fieldPath = [...path, field.name];
      const row = this.element.querySelector(`[data-path="${CSS.escape(fieldPath.join('.'))}"]`);
      if (row?.hidden || row?.closest('[hidden]')) continue;
      const raw = values[field.name];
      if (field.kind === 'list') {
        params[field.name] = (raw || []).map((item, index) => this.collect(field.item, [...fieldPath, index], item, problems));
        continue;
      }
      if (field.kind === 'group') {
        const inner = this.collect(field.fields, fieldPath, raw || {}, problems);
        if (Object.keys(inner).length) params[field.name] = inner;
        continue;
      }
      const again = row?.querySelector('.password-again');
      if ((raw === undefined || raw === '') && again?.value) {
        problems.push({ path: fieldPath, message: t('validation.passwordsDiffer') });
        continue;
      }
      if (raw === undefined || raw === '') {
        if (field.required && (field.default ?? '') === '') problems.push({ path: fieldPath, message: t('validation.required') });
        continue;
      }
      if (again && again.value !== raw) {
        problems.push({ path: fieldPath, message: t('validation.passwordsDiffer') });
        continue;
      }
      const { value, problem } = this.convert(field, raw);
      if (problem) problems.push({ path: fieldPath, message: problem });
      else params[field.name] = value;
    }
    return params;
  }

  convert(field, raw) {
    switch (field.kind) {
      case 'number':
      case 'range': {
        const text = String(raw).trim();
        const number = Number(text);
        if (text === '' || Number.isNaN(number)) return { problem: t('validation.number') };
        if (field.integer && !Number.isInteger(number)) return { problem: t('validation.integer') };
        if (field.min !== undefined && number < field.min) return { problem: t('validation.min', { min: field.min }) };
        if (field.max !== undefined && number > field.max) return { problem: t('validation.max', { max: field.max }) };
        return { value: number };
      }
      case 'color':
        return COLOR.test(raw) ? { value: raw } : { problem: t('validation.color') };
      case 'pages': {
        const text = String(raw).trim();
        const terms = text.split(',').map((term) => term.trim());
        if (!text || (field.pattern && !new RegExp(field.pattern, 'u').test(text))) return { problem: t('validation.pages') };
        const count = this.pageCount();
        if (count) {
          const numbers = terms.flatMap((term) => term.match(/\d+/g) || []).map(Number);
          if (numbers.some((n) => n > count)) return { problem: t('validation.pagesBeyond', { count }) };
        }
        return { value: text };
      }
      case 'csv': {
        const parts = String(raw).split(',').map((part) => part.trim()).filter(Boolean);
        if (field.itemType === 'string') return { value: parts };
        const numbers = parts.map(Number);
        if (numbers.some((n) => Number.isNaN(n))) return { problem: t('validation.number') };
        return { value: numbers };
      }
      case 'json':
        try {
          // Typed text, or a job's own value restored after a reload.
          return { value: typeof raw === 'string' || 'json' in raw ? JSON.parse(raw.json ?? raw) : raw };
        } catch {
          return { problem: t('validation.required') };
        }
      default:
        return { value: raw };
    }
  }

  showError(path, message) {
    const key = Array.isArray(path) ? path.join('.') : path;
    const row = this.element.querySelector(`[data-path="${CSS.escape(key)}"]`);
    if (!row) return false;
    this.errors.set(key, message);
    row.classList.add('has-error');
    const error = row.querySelector(':scope > .field-error');
    if (error) {
      error.textContent = message;
      error.hidden = false;
    }
    for (const control of row.querySelectorAll('input, select, textarea')) control.setAttribute('aria-invalid', 'true');
    return true;
  }

  clearError(path) {
    const key = path.join('.');
    if (!this.errors.has(key)) return;
    this.errors.delete(key);
    const row = this.element?.querySelector(`[data-path="${CSS.escape(key)}"]`);
    if (!row) return;
    row.classList.remove('has-error');
    const error = row.querySelector(':scope > .field-error');
    if (error) error.hidden = true;
    for (const control of row.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  }

  /** Attaches a server `invalid_params` message ("field: problem") to its option, if shown: in
   * the server's words in English, else as "not accepted" in the page's language. */
  showServerError(detail) {
    const refused = refusedOption(detail);
    if (!refused) return false;
    const { path, problem } = refused;
    const shown = this.showError(path, language() === 'en' ? namingOptions(problem, this.tool.name) : t('validation.notAccepted'));
    // An option under "More options" is opened to, so the message is seen where it applies.
    const control = this.element.querySelector(`[data-path="${CSS.escape(path)}"] :is(input, select, textarea)`);
    const details = control?.closest('details');
    if (details) details.open = true;
    control?.focus();
    return shown;
  }
}

