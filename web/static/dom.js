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
