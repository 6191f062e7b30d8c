// @ts-check
/**
 * The modal dialog of the join page (#dialog in join.html): a question
 * with Cancel and a confirming button, optionally with a text field (a
 * host's message when turning someone away, a note to someone waiting).
 * A native <dialog> opened with showModal(): focus moves into it and stays
 * there, Escape cancels, and focus goes back where it was afterwards.
 *
 * @module dialog
 */

import { $ } from './dom.js';
import { t } from './i18n.js';

/**
 * @typedef {object} AskOptions
 * @property {string} title the question
 * @property {string} [text] more about it
 * @property {string} confirm label of the confirming button
 * @property {boolean} [danger] whether confirming cannot be undone (a red button)
 * @property {{label: string, max: number, required?: boolean}} [field] a text to write
 * @property {{label: string, revealsField?: boolean}} [check] a checkbox, unchecked at first;
 *   revealsField: the text field shows only while it is checked
 * @property {boolean} [noCancel] only the confirming button (a notice to acknowledge)
 */

/**
 * Asks the person; resolves when they confirm or cancel.
 * @param {AskOptions} opts
 * @returns {Promise<{ok: boolean, value: string, checked: boolean}>} value: the text written,
 *   trimmed; checked: whether the checkbox was ticked
 */
export function ask(opts) {
  const dialog = /** @type {HTMLDialogElement} */ ($('dialog'));
  if (dialog.open) dialog.close('');
  $('dialog-title').textContent = opts.title;
  $('dialog-text').textContent = opts.text ?? '';
  $('dialog-text').hidden = !opts.text;
  const field = $('dialog-field');
  const input = /** @type {HTMLTextAreaElement} */ ($('dialog-input'));
  field.hidden = !opts.field;
  input.value = '';
  input.required = Boolean(opts.field?.required);
  input.maxLength = opts.field?.max ?? 500;
  $('dialog-label').textContent = opts.field?.label ?? '';
  const checkRow = $('dialog-check-row');
  const check = /** @type {HTMLInputElement} */ ($('dialog-check'));
  checkRow.hidden = !opts.check;
  check.checked = false;
  $('dialog-check-label').textContent = opts.check?.label ?? '';
  const reveals = Boolean(opts.check?.revealsField && opts.field);
  if (reveals) field.hidden = true;
  check.onchange = reveals ? () => {
    field.hidden = !check.checked;
    if (check.checked) input.focus();
  } : null;
  $('dialog-cancel').hidden = Boolean(opts.noCancel);
  const confirm = $('dialog-confirm');
  confirm.textContent = opts.confirm;
  confirm.className = `btn ${opts.danger ? 'btn-danger' : 'btn-primary'}`;
  $('dialog-cancel').textContent = t('dialog.cancel');
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  dialog.returnValue = '';
  dialog.showModal();
  if (opts.field && !reveals) input.focus();
  else if (opts.noCancel) confirm.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const value = reveals && !check.checked ? '' : input.value.trim();
      resolve({ ok: dialog.returnValue === 'ok', value, checked: Boolean(opts.check) && check.checked });
      if (opener?.isConnected) opener.focus();
    }, { once: true });
  });
}

/** Wires the dialog's Cancel button; once, at start. */
export function setupDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('dialog'));
  $('dialog-cancel').addEventListener('click', () => dialog.close(''));
}

/** Closes the dialog, if open, as cancelled (the call ended meanwhile). */
export function closeDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('dialog'));
  if (dialog.open) dialog.close('');
}
