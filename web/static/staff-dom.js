// @ts-check
/**
 * DOM helpers of the staff pages: h() builds elements (no text is ever
 * parsed as HTML), and the labelled fields, selects, checkboxes and error
 * boxes of their forms.
 *
 * @module staff-dom
 */

import { t } from './i18n.js';

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/** @typedef {string | Node | null | undefined | false} Child */

/**
 * Creates an element. props: class, text, on<event> listeners, and
 * attributes (true for an empty attribute; false, null, undefined skip).
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined && c !== false) node.append(c);
  }
  return node;
}

let uid = 0;

/** @param {string} prefix */
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A labelled form control.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const id = control.id || newId('f');
  control.id = id;
  /** @type {HTMLElement | null} */
  let hintEl = null;
  if (hint) {
    hintEl = h('span', { class: 'hint', id: `${id}-hint`, text: hint });
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hintEl);
}

/**
 * A select with options [value, label]; value selected.
 * @param {Record<string, any>} props
 * @param {[string, string][]} options
 * @param {string} [value]
 */
export function select(props, options, value) {
  const node = /** @type {HTMLSelectElement} */ (h('select', props,
    options.map(([v, label]) => h('option', { value: v, text: label }))));
  if (value !== undefined) node.value = value;
  return node;
}

/**
 * A checkbox with its label to the right.
 * @param {string} label
 * @param {Record<string, any>} props
 */
export function checkbox(label, props) {
  const input = h('input', { type: 'checkbox', ...props });
  return h('label', { class: 'check' }, input, h('span', { text: label }));
}

/** A paragraph for a form's error, announced when filled. */
export function errorBox(testid = 'form-error') {
  return h('p', { class: 'error-text', role: 'alert', 'data-testid': testid, hidden: true });
}

/**
 * @param {HTMLElement} box
 * @param {string} text '' hides it
 */
export function showError(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

/** @param {string} text tells screen readers what just happened */
export function announce(text) {
  const status = $('status');
  status.textContent = '';
  setTimeout(() => { status.textContent = text; }, 50);
}

/** @param {(Node | null)[]} nodes replace the page's content; nulls are skipped */
export function setMain(...nodes) {
  $('main').replaceChildren(...nodes.filter((n) => n !== null));
}

export function loadingView() {
  return h('p', { class: 'muted loading', role: 'status', text: t('staff.loading') });
}
