// Icon shapes from Lucide v1.87.0 (ISC licence, https://lucide.dev).
// Inline SVG icons for the tools: toolIcon(name) builds a 24×24 stroked icon from the shape
// data below, falling back to a plain "file" icon for a tool without its own.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Lucide icon name → its child elements, as [tag, attributes]. */
const SHAPES = {
  archive: [['rect', { width: '20', height: '5', x: '2', y: '3', rx: '1' }], ['path', { d: 'M4 8v11a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8' }], ['path', { d: 'M10 12h4' }]],
  'arrow-left-right': [['path', { d: 'M8 3 4 7l4 4' }], ['path', { d: 'M4 7h16' }], ['path', { d: 'm16 21 4-4-4-4' }], ['path', { d: 'M20 17H4' }]],
  'arrow-up-down': [['path', { d: 'm21 16-4 4-4-4' }], ['path', { d: 'M17 20V4' }], ['path', { d: 'm3 8 4-4 4 4' }], ['path', { d: 'M7 4v16' }]],
  'book-open': [['path', { d: 'M12 5v16' }], ['path', { d: 'M20.001 19A2 2 0 0 0 22 17V5a2 2 0 0 0-1.999-2L16 3.002A5 5 0 0 0 12 5a5 5 0 0 0-4-2H4a2 2 0 0 0-2 2v12a2 2 0 0 0 1.999 2H8a5 5 0 0 1 4 2 5 5 0 0 1 4-2z' }]],
  bookmark: [['path', { d: 'M17 3a2 2 0 0 1 2 2v15a1 1 0 0 1-1.496.868l-4.512-2.578a2 2 0 0 0-1.984 0l-4.512 2.578A1 1 0 0 1 5 20V5a2 2 0 0 1 2-2z' }]],
  'brush-cleaning': [['path', { d: 'm16 22-1-4' }], ['path', { d: 'M19 14a1 1 0 0 0 1-1v-1a2 2 0 0 0-2-2h-3a1 1 0 0 1-1-1V4a2 2 0 0 0-4 0v5a1 1 0 0 1-1 1H6a2 2 0 0 0-2 2v1a1 1 0 0 0 1 1' }], ['path', { d: 'M19 14H5l-1.973 6.767A1 1 0 0 0 4 22h16a1 1 0 0 0 .973-1.233z' }], ['path', { d: 'm8 22 1-4' }]],
  camera: [['path', { d: 'M13.997 4a2 2 0 0 1 1.76 1.05l.486.9A2 2 0 0 0 18.003 7H20a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V9a2 2 0 0 1 2-2h1.997a2 2 0 0 0 1.759-1.048l.489-.904A2 2 0 0 1 10.004 4z' }], ['circle', { cx: '12', cy: '13', r: '3' }]],
  'circle-person-arms-spread': [['path', { d: 'm15 17-3-3' }], ['path', { d: 'M8 10s2 1 4 1 4-1 4-1' }], ['path', { d: 'm9 17 3-3v-3' }], ['circle', { cx: '12', cy: '12', r: '10' }], ['circle', { cx: '12', cy: '7', r: '.5', fill: 'currentColor' }]],
  'code-xml': [['path', { d: 'm18 16 4-4-4-4' }], ['path', { d: 'm6 8-4 4 4 4' }], ['path', { d: 'm14.5 4-5 16' }]],
  contrast: [['circle', { cx: '12', cy: '12', r: '10' }], ['path', { d: 'M12 18a6 6 0 0 0 0-12z' }]],
  crop: [['path', { d: 'M6 2v14a2 2 0 0 0 2 2h14' }], ['path', { d: 'M18 22V8a2 2 0 0 0-2-2H2' }]],
  droplet: [['path', { d: 'M12 22a7 7 0 0 0 7-7c0-2-1-3.9-3-5.5s-3.5-4-4-6.5c-.5 2.5-2 4.9-4 6.5S5 13 5 15a7 7 0 0 0 7 7' }]],
  'eye-off': [['path', { d: 'M10.733 5.076a10.744 10.744 0 0 1 11.205 6.575 1 1 0 0 1 0 .696 10.8 10.8 0 0 1-1.444 2.49' }], ['path', { d: 'M14.084 14.158a3 3 0 0 1-4.242-4.242' }], ['path', { d: 'M17.479 17.499a10.75 10.75 0 0 1-15.417-5.151 1 1 0 0 1 0-.696 10.75 10.75 0 0 1 4.446-5.143' }], ['path', { d: 'm2 2 20 20' }]],
  file: [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }]],
  'file-badge': [['path', { d: 'M13 22h5a2 2 0 0 0 2-2V8a2.4 2.4 0 0 0-.706-1.706l-3.588-3.588A2.4 2.4 0 0 0 14 2H6a2 2 0 0 0-2 2v3.3' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'm7.69 16.479 1.29 4.88a.5.5 0 0 1-.698.591l-1.843-.849a1 1 0 0 0-.879.001l-1.846.85a.5.5 0 0 1-.692-.593l1.29-4.88' }], ['circle', { cx: '6', cy: '14', r: '3' }]],
  'file-code': [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'M10 12.5 8 15l2 2.5' }], ['path', { d: 'm14 12.5 2 2.5-2 2.5' }]],
  'file-image': [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['circle', { cx: '10', cy: '12', r: '2' }], ['path', { d: 'm20 17-1.296-1.296a2.41 2.41 0 0 0-3.408 0L9 22' }]],
  'file-input': [['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'M4 11V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.706.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-1' }], ['path', { d: 'M4 15h8' }], ['path', { d: 'm9 18 3-3-3-3' }]],
  'file-minus': [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'M9 15h6' }]],
  'file-output': [['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'M4 9.344V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.706.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2H6a2 2 0 0 1-1.821-1.172' }], ['path', { d: 'm7 12-3 3' }], ['path', { d: 'm7 18-3-3h8' }]],
  'file-text': [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'M10 9H8' }], ['path', { d: 'M16 13H8' }], ['path', { d: 'M16 17H8' }]],
  'file-type': [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'M11 18h2' }], ['path', { d: 'M12 12v6' }], ['path', { d: 'M9 13v-.5a.5.5 0 0 1 .5-.5h5a.5.5 0 0 1 .5.5v.5' }]],
  'file-x': [['path', { d: 'M6 22a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h8a2.4 2.4 0 0 1 1.704.706l3.588 3.588A2.4 2.4 0 0 1 20 8v12a2 2 0 0 1-2 2z' }], ['path', { d: 'M14 2v5a1 1 0 0 0 1 1h5' }], ['path', { d: 'm14.5 12.5-5 5' }], ['path', { d: 'm9.5 12.5 5 5' }]],
  'gallery-thumbnails': [['rect', { width: '18', height: '14', x: '3', y: '3', rx: '2' }], ['path', { d: 'M4 21h1' }], ['path', { d: 'M9 21h1' }], ['path', { d: 'M14 21h1' }], ['path', { d: 'M19 21h1' }]],
  'git-compare': [['circle', { cx: '18', cy: '18', r: '3' }], ['circle', { cx: '6', cy: '6', r: '3' }], ['path', { d: 'M13 6h3a2 2 0 0 1 2 2v7' }], ['path', { d: 'M11 18H8a2 2 0 0 1-2-2V9' }]],
  globe: [['circle', { cx: '12', cy: '12', r: '10' }], ['path', { d: 'M12 2a14.5 14.5 0 0 0 0 20 14.5 14.5 0 0 0 0-20' }], ['path', { d: 'M2 12h20' }]],
  'grid-2x2': [['path', { d: 'M12 3v18' }], ['path', { d: 'M3 12h18' }], ['rect', { x: '3', y: '3', width: '18', height: '18', rx: '2' }]],
  hash: [['line', { 'x1': '4', 'x2': '20', 'y1': '9', 'y2': '9' }], ['line', { 'x1': '4', 'x2': '20', 'y1': '15', 'y2': '15' }], ['line', { 'x1': '10', 'x2': '8', 'y1': '3', 'y2': '21' }], ['line', { 'x1': '16', 'x2': '14', 'y1': '3', 'y2': '21' }]],
  images: [['path', { d: 'm22 11-1.296-1.296a2.4 2.4 0 0 0-3.408 0L11 16' }], ['path', { d: 'M4 8a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2' }], ['circle', { cx: '13', cy: '7', r: '1', fill: 'currentColor' }], ['rect', { x: '8', y: '2', width: '14', height: '14', rx: '2' }]],
  info: [['circle', { cx: '12', cy: '12', r: '10' }], ['path', { d: 'M12 16v-4' }], ['path', { d: 'M12 8h.01' }]],
  layers: [['path', { d: 'M12.83 2.18a2 2 0 0 0-1.66 0L2.6 6.08a1 1 0 0 0 0 1.83l8.58 3.91a2 2 0 0 0 1.66 0l8.58-3.9a1 1 0 0 0 0-1.83z' }], ['path', { d: 'M2 12a1 1 0 0 0 .58.91l8.6 3.91a2 2 0 0 0 1.65 0l8.58-3.9A1 1 0 0 0 22 12' }], ['path', { d: 'M2 17a1 1 0 0 0 .58.91l8.6 3.91a2 2 0 0 0 1.65 0l8.58-3.9A1 1 0 0 0 22 17' }]],
  'layers-2': [['path', { d: 'M13 13.74a2 2 0 0 1-2 0L2.5 8.87a1 1 0 0 1 0-1.74L11 2.26a2 2 0 0 1 2 0l8.5 4.87a1 1 0 0 1 0 1.74z' }], ['path', { d: 'm20 14.285 1.5.845a1 1 0 0 1 0 1.74L13 21.74a2 2 0 0 1-2 0l-8.5-4.87a1 1 0 0 1 0-1.74l1.5-.845' }]],
  'layout-grid': [['rect', { width: '7', height: '7', x: '3', y: '3', rx: '1' }], ['rect', { width: '7', height: '7', x: '14', y: '3', rx: '1' }], ['rect', { width: '7', height: '7', x: '14', y: '14', rx: '1' }], ['rect', { width: '7', height: '7', x: '3', y: '14', rx: '1' }]],
  lock: [['rect', { width: '18', height: '11', x: '3', y: '11', rx: '2', ry: '2' }], ['path', { d: 'M7 11V7a5 5 0 0 1 10 0v4' }]],
  'lock-open': [['rect', { width: '18', height: '11', x: '3', y: '11', rx: '2', ry: '2' }], ['path', { d: 'M7 11V7a5 5 0 0 1 9.9-1' }]],
  merge: [['path', { d: 'm8 6 4-4 4 4' }], ['path', { d: 'M12 2v10.3a4 4 0 0 1-1.172 2.872L4 22' }], ['path', { d: 'm20 22-5-5' }]],
  'message-square-x': [['path', { d: 'M22 17a2 2 0 0 1-2 2H6.828a2 2 0 0 0-1.414.586l-2.202 2.202A.71.71 0 0 1 2 21.286V5a2 2 0 0 1 2-2h16a2 2 0 0 1 2 2z' }], ['path', { d: 'm14.5 8.5-5 5' }], ['path', { d: 'm9.5 8.5 5 5' }]],
  paperclip: [['path', { d: 'm16 6-8.414 8.586a2 2 0 0 0 2.829 2.829l8.414-8.586a4 4 0 1 0-5.657-5.657l-8.379 8.551a6 6 0 1 0 8.485 8.485l8.379-8.551' }]],
  repeat: [['path', { d: 'm17 2 4 4-4 4' }], ['path', { d: 'M3 11v-1a4 4 0 0 1 4-4h14' }], ['path', { d: 'm7 22-4-4 4-4' }], ['path', { d: 'M21 13v1a4 4 0 0 1-4 4H3' }]],
  'rotate-cw': [['path', { d: 'M21 12a9 9 0 1 1-9-9c2.52 0 4.93 1 6.74 2.74L21 8' }], ['path', { d: 'M21 3v5h-5' }]],
  scaling: [['path', { d: 'M12 3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7' }], ['path', { d: 'M14 15H9v-5' }], ['path', { d: 'M16 3h5v5' }], ['path', { d: 'M21 3 9 15' }]],
  'scan-text': [['path', { d: 'M3 7V5a2 2 0 0 1 2-2h2' }], ['path', { d: 'M17 3h2a2 2 0 0 1 2 2v2' }], ['path', { d: 'M21 17v2a2 2 0 0 1-2 2h-2' }], ['path', { d: 'M7 21H5a2 2 0 0 1-2-2v-2' }], ['path', { d: 'M7 8h8' }], ['path', { d: 'M7 12h10' }], ['path', { d: 'M7 16h6' }]],
  scissors: [['circle', { cx: '6', cy: '6', r: '3' }], ['path', { d: 'M8.12 8.12 12 12' }], ['path', { d: 'M20 4 8.12 15.88' }], ['circle', { cx: '6', cy: '18', r: '3' }], ['path', { d: 'M14.8 14.8 20 20' }]],
  'shield-check': [['path', { d: 'M20 13c0 5-3.5 7.5-7.66 8.95a1 1 0 0 1-.67-.01C7.5 20.5 4 18 4 13V6a1 1 0 0 1 1-1c2 0 4.5-1.2 6.24-2.72a1.17 1.17 0 0 1 1.52 0C14.51 3.81 17 5 19 5a1 1 0 0 1 1 1z' }], ['path', { d: 'm9 12 2 2 4-4' }]],
  shrink: [['path', { d: 'm15 15 6 6m-6-6v4.8m0-4.8h4.8' }], ['path', { d: 'M9 19.8V15m0 0H4.2M9 15l-6 6' }], ['path', { d: 'M15 4.2V9m0 0h4.8M15 9l6-6' }], ['path', { d: 'M9 4.2V9m0 0H4.2M9 9 3 3' }]],
  signature: [['path', { d: 'm21 17-2.156-1.868A.5.5 0 0 0 18 15.5v.5a1 1 0 0 1-1 1h-2a1 1 0 0 1-1-1c0-2.545-3.991-3.97-8.5-4a1 1 0 0 0 0 5c4.153 0 4.745-11.295 5.708-13.5a2.5 2.5 0 1 1 3.31 3.284' }], ['path', { d: 'M3 21h18' }]],
  split: [['path', { d: 'M16 3h5v5' }], ['path', { d: 'M8 3H3v5' }], ['path', { d: 'M12 22v-8.3a4 4 0 0 0-1.172-2.872L3 3' }], ['path', { d: 'm15 9 6-6' }]],
  'square-pen': [['path', { d: 'M12 3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7' }], ['path', { d: 'M18.375 2.625a1 1 0 0 1 3 3l-9.013 9.014a2 2 0 0 1-.853.505l-2.873.84a.5.5 0 0 1-.62-.62l.84-2.873a2 2 0 0 1 .506-.852z' }]],
  tags: [['path', { d: 'M13.172 2a2 2 0 0 1 1.414.586l6.71 6.71a2.4 2.4 0 0 1 0 3.408l-4.592 4.592a2.4 2.4 0 0 1-3.408 0l-6.71-6.71A2 2 0 0 1 6 9.172V3a1 1 0 0 1 1-1z' }], ['path', { d: 'M2 7v6.172a2 2 0 0 0 .586 1.414l6.71 6.71a2.4 2.4 0 0 0 3.191.193' }], ['circle', { cx: '10.5', cy: '6.5', r: '.5', fill: 'currentColor' }]],
  'text-cursor-input': [['path', { d: 'M12 20h-1a2 2 0 0 1-2-2 2 2 0 0 1-2 2H6' }], ['path', { d: 'M13 8h7a2 2 0 0 1 2 2v4a2 2 0 0 1-2 2h-7' }], ['path', { d: 'M5 16H4a2 2 0 0 1-2-2v-4a2 2 0 0 1 2-2h1' }], ['path', { d: 'M6 4h1a2 2 0 0 1 2 2 2 2 0 0 1 2-2h1' }], ['path', { d: 'M9 6v12' }]],
  type: [['path', { d: 'M12 4v16' }], ['path', { d: 'M4 7V5a1 1 0 0 1 1-1h14a1 1 0 0 1 1 1v2' }], ['path', { d: 'M9 20h6' }]],
  wrench: [['path', { d: 'M14.7 6.3a1 1 0 0 0 0 1.4l1.6 1.6a1 1 0 0 0 1.4 0l3.106-3.105c.32-.322.863-.22.983.218a6 6 0 0 1-8.259 7.057l-7.91 7.91a1 1 0 0 1-2.999-3l7.91-7.91a6 6 0 0 1 7.057-8.259c.438.12.54.662.219.984z' }]],
};

/** Tool name → Lucide icon name (closely related tools share an icon). */
const TOOLS = {
  merge: 'merge', split: 'split', rotate: 'rotate-cw', info: 'info', images_to_pdf: 'images',
  pdf_to_image: 'file-image', thumbnails: 'gallery-thumbnails', watermark: 'droplet',
  page_numbers: 'hash', sign: 'signature', remove_pages: 'file-minus', extract_pages: 'scissors',
  reorder: 'arrow-up-down', protect: 'lock', unlock: 'lock-open', flatten: 'layers-2',
  form_fields: 'text-cursor-input', fill_form: 'square-pen', pdf_to_markdown: 'file-type',
  pdf_to_html: 'file-code', digital_sign: 'file-badge', verify_signatures: 'shield-check',
  redact: 'eye-off', compare: 'git-compare', attachments: 'paperclip', crop: 'crop',
  remove_blank_pages: 'file-x', bookmarks: 'bookmark', sanitize: 'brush-cleaning',
  remove_annotations: 'message-square-x', overlay: 'layers', n_up: 'grid-2x2', booklet: 'book-open',
  scale_pages: 'scaling', metadata: 'tags', repair: 'wrench', compress: 'shrink', pdfa: 'archive',
  pdfua: 'circle-person-arms-spread', grayscale: 'contrast', ocr: 'scan-text',
  pdf_to_text: 'file-text', office_to_pdf: 'file-input', html_to_pdf: 'code-xml',
  url_to_pdf: 'globe', screenshot: 'camera', attach: 'paperclip', markdown_to_pdf: 'type',
  pdf_to_office: 'file-output', convert_office: 'repeat', convert: 'arrow-left-right',
  organise: 'layout-grid',
};

const FALLBACK = 'file';

const SVG_ATTRS = {
  width: '24',
  height: '24',
  viewBox: '0 0 24 24',
  fill: 'none',
  stroke: 'currentColor',
  'stroke-width': '2',
  'stroke-linecap': 'round',
  'stroke-linejoin': 'round',
  'aria-hidden': 'true',
  focusable: 'false',
  class: 'tool-icon',
};

/** An inline, decorative SVG icon for a tool; unknown names get the generic file icon. */
export function toolIcon(name) {
  const key = Object.hasOwn(TOOLS, name) ? TOOLS[name] : FALLBACK;
  const svg = document.createElementNS(SVG_NS, 'svg');
  for (const [attr, value] of Object.entries(SVG_ATTRS)) svg.setAttribute(attr, value);
  for (const [tag, attrs] of SHAPES[key]) {
    const child = document.createElementNS(SVG_NS, tag);
    for (const [attr, value] of Object.entries(attrs)) child.setAttribute(attr, value);
    svg.append(child);
  }
  return svg;
}
