// @ts-check
/**
 * DOM helpers of the join page (app.js and its modules): element lookup,
 * element creation, and the small inline SVG icons.
 *
 * @module dom
 */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return /** @type {T} */ (el);
}

/**
 * Creates an element with classes and attributes.
 * @param {string} tag
 * @param {string} [className]
 * @param {Record<string, string>} [attrs]
 */
export function el(tag, className = '', attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Shapes of the small icons, drawn on a 24x24 grid. */
const ICONS = {
  mic: [
    ['rect', { x: '9', y: '3', width: '6', height: '11', rx: '3' }],
    ['path', { d: 'M6 11a6 6 0 0 0 12 0', fill: 'none' }],
    ['line', { x1: '12', y1: '17', x2: '12', y2: '21' }],
  ],
  camera: [
    ['rect', { x: '3', y: '7', width: '12', height: '10', rx: '2' }],
    ['path', { d: 'M15 11 21 8v8l-6-3z' }],
  ],
  leave: [
    ['path', { d: 'M10 5H5v14h5M14 8l4 4-4 4M18 12H9', fill: 'none' }],
  ],
  hand: [
    ['path', { d: 'M8 13V6a1.5 1.5 0 0 1 3 0v5M11 11V4.5a1.5 1.5 0 0 1 3 0V11M14 11V5.5a1.5 1.5 0 0 1 3 0V12M17 10a1.5 1.5 0 0 1 3 0v4a7 7 0 0 1-7 7h-.5a6 6 0 0 1-4.7-2.3L4.3 15.4a1.5 1.5 0 0 1 2.3-1.9L8 15', fill: 'none' }],
  ],
  chat: [
    ['path', { d: 'M4 5h16v11H10l-6 4z', fill: 'none' }],
    ['line', { x1: '8', y1: '9', x2: '16', y2: '9' }],
    ['line', { x1: '8', y1: '12', x2: '13', y2: '12' }],
  ],
  people: [
    ['circle', { cx: '9', cy: '8', r: '3' }],
    ['path', { d: 'M3 20a6 6 0 0 1 12 0', fill: 'none' }],
    ['circle', { cx: '17', cy: '9', r: '2.5' }],
    ['path', { d: 'M16 14.2a5 5 0 0 1 5 4.8', fill: 'none' }],
  ],
  lock: [
    ['rect', { x: '5', y: '11', width: '14', height: '9', rx: '2' }],
    ['path', { d: 'M8 11V8a4 4 0 0 1 8 0v3', fill: 'none' }],
  ],
  unlock: [
    ['rect', { x: '5', y: '11', width: '14', height: '9', rx: '2' }],
    ['path', { d: 'M8 11V8a4 4 0 0 1 7.7-1.5', fill: 'none' }],
  ],
  layout: [
    ['rect', { x: '3', y: '4', width: '18', height: '11', rx: '1.5', fill: 'none' }],
    ['rect', { x: '3', y: '17', width: '5', height: '3', rx: '0.5', fill: 'none' }],
    ['rect', { x: '9.5', y: '17', width: '5', height: '3', rx: '0.5', fill: 'none' }],
    ['rect', { x: '16', y: '17', width: '5', height: '3', rx: '0.5', fill: 'none' }],
  ],
  signal: [
    ['rect', { x: '3', y: '15', width: '4', height: '6', rx: '1', class: 'bar bar-1' }],
    ['rect', { x: '10', y: '10', width: '4', height: '11', rx: '1', class: 'bar bar-2' }],
    ['rect', { x: '17', y: '4', width: '4', height: '17', rx: '1', class: 'bar bar-3' }],
  ],
  close: [
    ['path', { d: 'M6 6l12 12M18 6 6 18', fill: 'none' }],
  ],
  remove: [
    ['circle', { cx: '9', cy: '8', r: '3.5' }],
    ['path', { d: 'M2 20a7 7 0 0 1 14 0', fill: 'none' }],
    ['line', { x1: '16', y1: '11', x2: '22', y2: '11' }],
  ],
  send: [
    ['path', { d: 'M4 12 20 4l-5 16-3-7z', fill: 'none' }],
  ],
  door: [
    ['path', { d: 'M5 21V4h10v17M3 21h16', fill: 'none' }],
    ['path', { d: 'M15 6l4 1.5V21', fill: 'none' }],
    ['line', { x1: '12', y1: '12', x2: '12', y2: '13.5' }],
  ],
  pan: [
    ['path', { d: 'M2 12s3.5-6 10-6 10 6 10 6-3.5 6-10 6S2 12 2 12z', fill: 'none' }],
    ['circle', { cx: '12', cy: '12', r: '2.5' }],
  ],
  screen: [
    ['rect', { x: '3', y: '4', width: '18', height: '12', rx: '1.5', fill: 'none' }],
    ['path', { d: 'M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3', fill: 'none' }],
  ],
  pause: [
    ['line', { x1: '9', y1: '5', x2: '9', y2: '19' }],
    ['line', { x1: '15', y1: '5', x2: '15', y2: '19' }],
  ],
  record: [
    ['circle', { cx: '12', cy: '12', r: '6' }],
  ],
};

/**
 * An inline SVG icon, optionally struck through.
 * @param {keyof typeof ICONS} name
 * @param {boolean} [struck]
 */
export function icon(name, struck = false) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const shapes = [...ICONS[name]];
  if (struck) shapes.push(['line', { x1: '4', y1: '4', x2: '20', y2: '20' }]);
  for (const [tag, attrs] of shapes) {
    const shape = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
    svg.append(shape);
  }
  return svg;
}
