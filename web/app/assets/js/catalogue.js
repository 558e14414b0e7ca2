// The tool catalogue as the pages show it: sections from the API's `group` names, tool titles in
// the page's language (the API's English for tools this app does not know yet), accepted file
// formats as picker filters, and the visual page organiser listed beside the page tools.

import { api } from './api.js';
import { english, has, t } from './i18n.js';

/** Section order on the home page; groups the app does not know come after, in API order. */
const SECTIONS = ['convert_to_pdf', 'convert_from_pdf', 'optimize', 'organize', 'edit', 'security', 'ocr', 'convert', 'info'];

/** Other spellings of a section's group name. */
const GROUP_ALIASES = {
  optimise: 'optimize',
  optimization: 'optimize',
  compress: 'optimize',
  organise: 'organize',
  pages: 'organize',
  inspect: 'info',
  'to_pdf': 'convert_to_pdf',
  'from_pdf': 'convert_from_pdf',
};

/** The organiser page, shown as a tool of the organise section; it runs catalogue tools. */
export const ORGANISER = {
  name: 'organise',
  href: '/organise',
  group: 'organize',
  needs: ['extract_pages', 'rotate', 'thumbnails'],
};

const EXTENSIONS = {
  pdf: ['.pdf'],
  jpeg: ['.jpg', '.jpeg'],
  png: ['.png'],
  webp: ['.webp'],
  tiff: ['.tif', '.tiff'],
  txt: ['.txt', '.md', '.markdown'],
  html: ['.html', '.htm'],
  markdown: ['.md', '.markdown'],
  pkcs12: ['.p12', '.pfx'],
};

/** MIME types the server always recognises, by format name (the rest it tells apart itself). */
const SNIFFED = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/tiff': 'tiff',
  'application/x-pkcs12': 'pkcs12',
};

let cached = null;

/** The catalogue, fetched once per page. */
export async function loadCatalogue() {
  if (!cached) {
    cached = api.tools().then((body) => body.tools || []);
    cached.catch(() => {
      cached = null;
    });
  }
  return cached;
}

/** The section a tool belongs in. `convert` tools are placed by direction when it is clear. */
export function sectionOf(tool) {
  const group = String(tool.group || 'other').toLowerCase();
  const section = GROUP_ALIASES[group] || group;
  if (section !== 'convert') return section;
  const formats = tool.inputs?.formats || [];
  // A tool taking PDFs among other formats (`convert`) goes both ways: it stays in `convert`.
  if (formats.length && formats.every((format) => format === 'pdf')) return 'convert_from_pdf';
  if (/_to_pdf$/.test(tool.name)) return 'convert_to_pdf';
  return 'convert';
}

export function sectionTitle(section) {
  if (has(`group.${section}`)) return t(`group.${section}`);
  const words = section.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Tools grouped in display order: `[{section, tools}]`. */
export function sections(tools) {
  const bySection = new Map();
  for (const tool of tools) {
    const section = sectionOf(tool);
    if (!bySection.has(section)) bySection.set(section, []);
    bySection.get(section).push(tool);
  }
  const known = SECTIONS.filter((s) => bySection.has(s));
  const unknown = [...bySection.keys()].filter((s) => !SECTIONS.includes(s));
  return [...known, ...unknown].map((section) => ({ section, tools: bySection.get(section) }));
}

export function toolTitle(tool) {
  return has(`tool.${tool.name}.title`) ? t(`tool.${tool.name}.title`) : tool.title || tool.name;
}

export function toolSummary(tool) {
  return has(`tool.${tool.name}.summary`) ? t(`tool.${tool.name}.summary`) : tool.summary || '';
}

/** Everyday words people search a tool by ("join" for merge, "shrink" for compress), in the
 * page's language and in English. */
export function toolKeywords(tool) {
  const key = `tool.${tool.name}.keywords`;
  return has(key) ? `${t(key)} ${english(key)}` : '';
}

/** `false` with the server's reason when the tool cannot run here now. */
export function availability(tool) {
  const available = tool.available !== false;
  return { available, reason: available ? '' : tool.unavailable_reason || tool.reason || '' };
}

/** The organiser as a catalogue-like entry, or null when the tools it runs are missing. */
export function organiserEntry(tools) {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  if (!ORGANISER.needs.every((name) => byName.has(name))) return null;
  const blocked = ORGANISER.needs.map((name) => byName.get(name)).find((tool) => !availability(tool).available);
  return {
    name: ORGANISER.name,
    group: ORGANISER.group,
    href: ORGANISER.href,
    title: t('organiser.title'),
    summary: t('organiser.summary'),
    inputs: { min: 1, max: 1, formats: ['pdf'] },
    available: !blocked,
    unavailable_reason: blocked ? availability(blocked).reason : undefined,
  };
}

export function toolHref(tool) {
  return tool.href || `/tool/${encodeURIComponent(tool.name)}`;
}

/** The `accept` attribute of a file picker for these formats. */
export function acceptAttribute(formats) {
  return formats.flatMap((format) => EXTENSIONS[format] || [`.${format}`]).join(',');
}

/** "PDF, PNG, JPEG" */
export function formatList(formats) {
  if (!formats.length) return t('files.anyFormat');
  return formats.map((format) => format.toUpperCase()).join(', ');
}

/**
 * Whether an uploaded file (by its detected content type) is certainly not one of `formats`.
 * Only types the server always recognises decide here; anything else is left to the server.
 */
export function certainlyUnaccepted(contentType, formats) {
  // No formats named: the tool takes any file (a web page's assets).
  if (!formats.length) return false;
  const format = SNIFFED[contentType];
  if (format) return !formats.includes(format);
  const onlySniffed = formats.every((f) => Object.values(SNIFFED).includes(f));
  return onlySniffed;
}

/** Tools that take files of these formats (for "continue with another tool"). */
export function toolsTaking(tools, contentTypes) {
  const formats = contentTypes.map((type) => SNIFFED[type]);
  if (formats.some((format) => !format)) return [];
  return tools.filter(
    (tool) =>
      tool.name !== 'thumbnails' &&
      availability(tool).available &&
      formats.every((format) => (tool.inputs?.formats || []).includes(format)) &&
      (tool.inputs?.max ?? Infinity) >= contentTypes.length &&
      (tool.inputs?.min ?? 1) <= contentTypes.length,
  );
}
