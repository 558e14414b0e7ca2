// A live look at where a mark lands: the first page's thumbnail with the watermark, the page
// number or the signature drawn over it as the options change. Sizes follow the page: marks are
// placed in percent of the page and sized in container units (`cqw`), so the stage may be any
// width. It shows placement and size, not the exact rendering.

import { h, replaceChildren } from './dom.js';
import { t } from './i18n.js';

/** Tools whose marks the preview draws, and how each reads its options into marks. */
const MARKERS = {
  watermark: watermarkMarks,
  page_numbers: pageNumberMarks,
  sign: signMarks,
  digital_sign: digitalSignMarks,
};

/** Whether `tool` has a placement worth previewing. */
export function hasPreview(tool) {
  return tool.name in MARKERS;
}

export class PlacementPreview {
  /**
   * @param tool the catalogue entry
   * @param options.valueAt (name) => the option's value in force (touched, else the default)
   * @param options.page () => `{url, width, height}` of the first page in points, when known
   */
  constructor(tool, { valueAt, page }) {
    this.marker = MARKERS[tool.name];
    this.valueAt = valueAt;
    this.page = page;
    this.element = h('figure', { class: 'live-preview', hidden: true, 'aria-hidden': 'true' });
    this.update();
  }

  update() {
    const page = this.page();
    if (!page?.url || !page.width || !page.height) {
      this.element.hidden = true;
      return;
    }
    const marks = this.marker((name) => this.valueAt(name), page);
    const stage = h(
      'div',
      { class: 'preview-stage', style: { 'aspect-ratio': `${page.width} / ${page.height}` } },
      h('img', { src: page.url, alt: '' }),
      marks.map((mark) => markElement(mark, page)),
    );
    replaceChildren(this.element, stage, h('figcaption', { class: 'muted small' }, t('preview.caption')));
    this.element.hidden = false;
    for (const element of stage.querySelectorAll('.preview-mark[data-turned]')) keepTurnedMarkInside(element);
  }
}

/** One mark: text or a box, anchored at a position (`bottom_right`) with a margin, or at a
 * top-left corner in points. */
function markElement(mark, page) {
  const style = {};
  const percentX = (points) => `${(points / page.width) * 100}%`;
  const percentY = (points) => `${(points / page.height) * 100}%`;
  const shift = [];
  if (mark.at) {
    style.left = percentX(mark.at.x);
    style.top = percentY(mark.at.y);
  } else {
    const [vertical, horizontal] = anchorOf(mark.position);
    const margin = mark.margin ?? 0;
    if (horizontal === 'left') style.left = percentX(margin);
    else if (horizontal === 'right') style.right = percentX(margin);
    else {
      style.left = '50%';
      shift.push('translateX(-50%)');
    }
    if (vertical === 'top') style.top = percentY(margin);
    else if (vertical === 'bottom') style.bottom = percentY(margin);
    else {
      style.top = '50%';
      shift.push('translateY(-50%)');
    }
  }
  if (mark.width) style.width = percentX(mark.width);
  if (mark.height) style.height = percentY(mark.height);
  if (mark.fontSize) style['font-size'] = `${(mark.fontSize / page.width) * 100}cqw`;
  if (mark.color) style.color = mark.color;
  if (mark.opacity !== undefined) style.opacity = String(mark.opacity);
  // PDF rotations run counterclockwise; CSS ones clockwise.
  if (mark.rotation) shift.push(`rotate(${-mark.rotation}deg)`);
  if (shift.length) style.transform = shift.join(' ');
  // A turned mark at an edge keeps its turned outline `margin` from the edge, as the server
  // places it: measured once drawn (see keepTurnedMarkInside).
  const turned = mark.rotation && !mark.at ? { turned: String(mark.rotation), anchor: anchorOf(mark.position).join(' ') } : {};
  return h('div', { class: `preview-mark${mark.box ? ' boxed' : ''}`, dataset: { mark: mark.kind, ...turned }, style }, mark.text ?? '');
}

/** Moves a turned mark so its turned outline, not its upright box, sits at the margin. */
function keepTurnedMarkInside(element) {
  const [vertical, horizontal] = element.dataset.anchor.split(' ');
  const radians = (Number(element.dataset.turned) * Math.PI) / 180;
  const [width, height] = [element.offsetWidth, element.offsetHeight];
  const outerWidth = Math.abs(width * Math.cos(radians)) + Math.abs(height * Math.sin(radians));
  const outerHeight = Math.abs(width * Math.sin(radians)) + Math.abs(height * Math.cos(radians));
  const dx = horizontal === 'left' ? (outerWidth - width) / 2 : horizontal === 'right' ? -(outerWidth - width) / 2 : 0;
  const dy = vertical === 'top' ? (outerHeight - height) / 2 : vertical === 'bottom' ? -(outerHeight - height) / 2 : 0;
  element.style.setProperty('transform', `translate(${dx}px, ${dy}px) ${element.style.getPropertyValue('transform')}`);
}

/** `bottom_center` → ['bottom', 'center']; `center` → ['middle', 'center']. */
function anchorOf(position) {
  const value = String(position || 'center');
  if (value === 'center') return ['middle', 'center'];
  const [vertical, horizontal] = value.split('_');
  return [vertical, horizontal];
}

const number = (value, fallback) => {
  const parsed = Number(value);
  return value === '' || value === undefined || value === null || Number.isNaN(parsed) ? fallback : parsed;
};

function watermarkMarks(value, page) {
  const text = String(value('text') || '');
  const position = value('position') || 'center';
  // An image watermark is `scale` of the page's width wide; its height follows the image.
  const imageWidth = text ? undefined : number(value('scale'), 0.5) * page.width;
  const mark = {
    kind: 'watermark',
    text: text || t('preview.image'),
    box: !text,
    width: imageWidth,
    height: imageWidth ? imageWidth / 2 : undefined,
    fontSize: number(value('font_size'), 48),
    color: value('color') || '#808080',
    opacity: number(value('opacity'), 0.5),
    rotation: number(value('rotation'), 0),
    position,
    margin: position === 'center' ? 0 : number(value('margin'), 36),
  };
  if (value('tile') !== true && value('tile') !== 'true') return [mark];
  // Tiled: a few copies around the anchored one show the pattern.
  return ['top_left', 'top_right', 'center', 'bottom_left', 'bottom_right'].map((place) => ({ ...mark, position: place, margin: place === 'center' ? 0 : 36 }));
}

const ROMAN = [[1000, 'm'], [900, 'cm'], [500, 'd'], [400, 'cd'], [100, 'c'], [90, 'xc'], [50, 'l'], [40, 'xl'], [10, 'x'], [9, 'ix'], [5, 'v'], [4, 'iv'], [1, 'i']];

function formatNumber(n, format) {
  if (format === 'roman' || format === 'roman_upper') {
    let rest = n;
    let text = '';
    for (const [size, letters] of ROMAN) {
      while (rest >= size) {
        text += letters;
        rest -= size;
      }
    }
    return format === 'roman_upper' ? text.toUpperCase() : text;
  }
  if (format === 'letters' || format === 'letters_lower') {
    let rest = n;
    let text = '';
    while (rest > 0) {
      rest -= 1;
      text = String.fromCharCode(65 + (rest % 26)) + text;
      rest = Math.floor(rest / 26);
    }
    return format === 'letters_lower' ? text.toLowerCase() : text;
  }
  return String(n);
}

function pageNumberMarks(value, page) {
  const format = value('format') || 'arabic';
  const first = Math.max(1, number(value('start'), 1));
  const total = first + Math.max(0, (page.count || 1) - 1);
  const body = String(value('template') || '{n}').replaceAll('{n}', formatNumber(first, format)).replaceAll('{total}', formatNumber(total, format));
  const position = value('position') || 'bottom_center';
  return [{
    kind: 'page-number',
    text: `${value('prefix') || ''}${body}${value('suffix') || ''}`,
    fontSize: number(value('font_size'), 12),
    color: value('color') || '#000000',
    opacity: number(value('opacity'), 1),
    position,
    margin: position === 'center' ? 0 : number(value('margin'), 28),
  }];
}

function signMarks(value, page) {
  const elements = value('elements');
  const list = Array.isArray(elements) && elements.length ? elements : [{}];
  return list.slice(0, 10).map((element) => {
    // The API calls an element's kind `type`.
    const kind = element.type || (element.image !== undefined && element.image !== '' ? 'image' : element.date_format ? 'date' : 'text');
    const text = kind === 'text' ? element.text || t('preview.signature') : kind === 'date' ? new Date().toLocaleDateString() : t('preview.image');
    const width = number(element.width, kind === 'image' ? 150 : undefined);
    const height = number(element.height, undefined);
    const mark = {
      kind: 'signature',
      text,
      box: kind === 'image',
      width,
      height,
      fontSize: number(element.font_size, 18),
      color: element.color || '#000000',
      opacity: number(element.opacity, 1),
      rotation: number(element.rotation, 0),
    };
    const x = number(element.x, null);
    const y = number(element.y, null);
    // `x`/`y` is the box's bottom-left corner from the page's bottom left.
    if (x !== null && y !== null) return { ...mark, at: { x, y: page.height - y - (height || mark.fontSize * 1.2) } };
    return { ...mark, position: element.position || 'bottom_right', margin: number(element.margin, 36) };
  });
}

function digitalSignMarks(value, page) {
  const visible = value('visible');
  if (visible !== true && visible !== 'true') return [];
  // Typed as "x, y, width, height" in points from the top left.
  const area = String(value('area') ?? '').split(',').map((part) => Number(part.trim()));
  const [x, y, width, height] = area.length === 4 && area.every((n) => Number.isFinite(n) && n >= 0) ? area : defaultSignatureBox(page);
  return [{ kind: 'digital-signature', text: value('text') || t('preview.digitalSignature'), box: true, at: { x, y }, width, height, fontSize: 9 }];
}

/** As the server places a visible signature without an area: 220 × 70 points, 36 from the bottom
 * right corner, shrunk to fit small pages. */
function defaultSignatureBox(page) {
  const width = Math.min(220, page.width * 0.8);
  const height = Math.min(70, page.height * 0.5);
  const margin = Math.min(36, (page.width - width) / 2, (page.height - height) / 2);
  return [page.width - width - margin, page.height - height - margin, width, height];
}
