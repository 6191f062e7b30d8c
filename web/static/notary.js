// @ts-check
/**
 * The notary's script in a session of a notarization case
 * (docs/protocol.md, "Notarization"): everyone sees the steps the law
 * expects, in order, and what is asked of them now in their language;
 * the document under notarization with its SHA-256 in groups of four
 * digits, to read aloud; the version presented for signing, with a
 * warning when it differs from the one shown. The notary (the host)
 * marks each step, uploads the document, shows it, and presents it for
 * signing.
 *
 * @module notary
 */

import { getLanguage, t } from './i18n.js';
import { $, el } from './dom.js';
import { announce, client, errorMessage, isHost } from './page.js';
import { nameWithRole } from './rooms.js';
import { showBanner } from './call.js';
import { callFetch } from './callapi.js';

/** The steps, in order (the server sends them too). */
export const STEPS = ['identity_confirmed', 'act_stated', 'document_shown', 'free_will', 'location_stated', 'signing', 'closing'];

/**
 * @typedef {{at: string, by: string, note?: string}} StepMark
 * @typedef {{step: string, done: boolean, at?: string, by?: string, marks: StepMark[]}} StepState
 * @typedef {{steps: StepState[], current: string}} Script
 * @typedef {{id: string, name: string, size: number, content_type: string, sha256: string, purpose: string,
 *   at: string, by: string, against?: string, mismatch: boolean}} Doc
 */

const notary = {
  /** @type {Script | null} the script, null outside notarization sessions */
  script: null,
  /** @type {Doc[]} the documents presented, in order */
  docs: [],
  /** @type {{id: string, name: string, sha256: string}[]} (notary) uploaded, not presented yet */
  uploaded: [],
  busy: false,
  /** the note the notary is typing: kept when the section is drawn again */
  note: '',
};

/** Groups a hex digest in fours, to read aloud. @param {string} hex */
export function groupHex(hex) {
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

/** A step's time, to the second, in the viewer's zone. @param {string} iso */
function clock(iso) {
  try {
    return new Intl.DateTimeFormat(getLanguage(), { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
  } catch {
    return iso;
  }
}

/** @param {number} n bytes */
function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** The section of the call view; made once. */
function section() {
  let root = document.getElementById('notary');
  if (root) return root;
  root = el('section', 'notary', { id: 'notary', 'data-testid': 'notary', 'aria-labelledby': 'notary-title' });
  root.hidden = true;
  const body = $('call-body');
  body.parentElement?.insertBefore(root, body);
  return root;
}

/** Wires the client's events; once, at start. */
export function setupNotary() {
  section();
  client.on('notary-state', ({ script, documents }) => {
    notary.script = script && Array.isArray(script.steps) ? script : null;
    notary.docs = Array.isArray(documents) ? documents : [];
    renderNotary();
  });
  client.on('script', (msg) => {
    notary.script = msg;
    notary.note = ''; // the step it was for is marked
    renderNotary();
    if (!isHost() && msg.current) announce(t(`notary.ask.${msg.current}`));
  });
  client.on('document', (/** @type {Doc} */ d) => {
    notary.docs = [...notary.docs.filter((x) => x.id !== d.id), d];
    notary.uploaded = notary.uploaded.filter((u) => u.id !== d.id);
    renderNotary();
    announce(d.mismatch ? t('notary.doc.mismatch') : t(d.purpose === 'signing' ? 'notary.doc.signing' : 'notary.doc.shown'));
  });
  client.on('state', ({ state: s }) => {
    if (s === 'closed' || s === 'idle') {
      notary.script = null;
      notary.docs = [];
      notary.uploaded = [];
      renderNotary();
    }
  });
}

/** Draws the section from the script and the documents. */
export function renderNotary() {
  const root = section();
  const script = notary.script;
  root.hidden = !script;
  if (!script) {
    root.replaceChildren();
    return;
  }
  const title = el('h2', 'notary-title', { id: 'notary-title' });
  title.textContent = t('notary.title');
  const current = el('p', 'notary-current', { 'data-testid': 'notary-current', 'data-step': script.current, role: 'status' });
  current.textContent = script.current ? t(`notary.ask.${script.current}`) : t('notary.complete');
  const children = [title, current, renderSteps(script)];
  if (isHost()) children.push(renderControls(script));
  // The latest first: the version for signing above the one shown.
  for (const d of [...notary.docs].reverse()) children.push(renderDoc(d));
  root.replaceChildren(...children);
}

/** @param {Script} script */
function renderSteps(script) {
  const list = el('ol', 'notary-steps', { 'data-testid': 'notary-steps' });
  for (const s of script.steps) {
    const item = el('li', `notary-step${s.done ? ' is-done' : ''}${s.step === script.current ? ' is-current' : ''}`,
      { 'data-testid': 'notary-step', 'data-step': s.step, 'data-done': String(s.done) });
    const name = el('span', 'notary-step-name');
    name.textContent = t(`notary.step.${s.step}`);
    item.append(name);
    if (s.done && s.at) {
      const when = el('span', 'notary-step-time');
      when.textContent = ` ${clock(s.at)}${s.by ? ` · ${nameWithRole(s.by)}` : ''}`;
      item.append(when);
      for (const m of s.marks.slice(1)) {
        const again = el('span', 'notary-step-again');
        again.textContent = ` · ${t('notary.again', { time: clock(m.at), note: m.note ?? '' })}`;
        item.append(again);
      }
    }
    list.append(item);
  }
  return list;
}

/** A document as everyone sees it. @param {Doc} d */
function renderDoc(d) {
  const card = el('div', `notary-doc${d.mismatch ? ' is-mismatch' : ''}`, { 'data-testid': 'notary-doc', 'data-purpose': d.purpose, 'data-id': d.id });
  const head = el('h3', 'notary-doc-title');
  head.textContent = t(d.purpose === 'signing' ? 'notary.doc.signing' : 'notary.doc.shown');
  const meta = el('p', 'notary-doc-meta');
  meta.textContent = `${d.name} · ${size(d.size)} · ${d.content_type}`;
  const hashLabel = el('p', 'notary-doc-hash-label');
  hashLabel.textContent = t('notary.doc.hash');
  const hash = el('p', 'notary-doc-hash', { 'data-testid': 'notary-doc-hash', 'data-sha256': d.sha256, lang: 'en' });
  hash.textContent = groupHex(d.sha256);
  const open = el('button', 'btn', { type: 'button', 'data-testid': 'notary-doc-open' });
  open.textContent = t('notary.doc.open');
  open.addEventListener('click', () => openDoc(d));
  card.append(head, meta, hashLabel, hash);
  if (d.purpose === 'signing') {
    const check = el('p', d.mismatch ? 'notary-doc-warning' : 'notary-doc-match',
      { 'data-testid': d.mismatch ? 'notary-mismatch' : 'notary-match', role: d.mismatch ? 'alert' : 'status' });
    check.textContent = t(d.mismatch ? 'notary.doc.mismatch' : 'notary.doc.match');
    card.append(check);
  }
  card.append(open);
  return card;
}

/** The call route of the session's documents. */
function docsPath() {
  return `/api/v1/call/${encodeURIComponent(client.session?.id ?? '')}/documents`;
}

/** Opens a document in a new tab (the call token cannot go in a link). @param {Doc} d */
async function openDoc(d) {
  const tab = window.open('', '_blank');
  try {
    const res = await callFetch(client.callToken, 'GET', `${docsPath()}/${encodeURIComponent(d.id)}`);
    const url = URL.createObjectURL(await res.blob());
    if (tab) tab.location.href = url;
    else window.location.assign(url);
  } catch (err) {
    tab?.close();
    showBanner(errorMessage(/** @type {any} */ (err)), 'error', 8000);
  }
}

/** The notary's controls. @param {Script} script */
function renderControls(script) {
  const box = el('div', 'notary-controls', { 'data-testid': 'notary-controls' });
  const noteLabel = el('label', 'notary-note-label', { for: 'notary-note' });
  noteLabel.textContent = t('notary.note');
  const note = /** @type {HTMLInputElement} */ (el('input', 'notary-note', { id: 'notary-note', 'data-testid': 'notary-note', maxlength: '500' }));
  const typing = document.activeElement?.id === 'notary-note';
  note.value = notary.note;
  note.addEventListener('input', () => { notary.note = note.value; });
  if (typing) queueMicrotask(() => note.focus());
  const row = el('div', 'notary-row');
  if (script.current) {
    const mark = el('button', 'btn btn-primary', { type: 'button', 'data-testid': 'notary-mark', 'data-step': script.current });
    mark.textContent = t('notary.mark', { step: t(`notary.step.${script.current}`) });
    mark.addEventListener('click', () => {
      notary.note = note.value;
      client.scriptStep(script.current, note.value.trim());
    });
    row.append(mark);
  }
  const again = /** @type {HTMLSelectElement} */ (el('select', 'notary-again', { 'data-testid': 'notary-again-step', 'aria-label': t('notary.againStep') }));
  for (const s of script.steps.filter((x) => x.done)) {
    const o = /** @type {HTMLOptionElement} */ (el('option', '', { value: s.step }));
    o.textContent = t(`notary.step.${s.step}`);
    again.append(o);
  }
  if (again.options.length > 0) {
    const repeat = el('button', 'btn', { type: 'button', 'data-testid': 'notary-repeat' });
    repeat.textContent = t('notary.repeat');
    repeat.addEventListener('click', () => {
      if (!note.value.trim()) {
        announce(t('notary.noteRequired'));
        note.focus();
        return;
      }
      notary.note = note.value;
      client.scriptStep(again.value, note.value.trim());
    });
    row.append(again, repeat);
  }
  box.append(noteLabel, note, row, renderUpload());
  return box;
}

/** Upload, show, present for signing. */
function renderUpload() {
  const box = el('div', 'notary-upload');
  const label = el('label', 'notary-file-label', { for: 'notary-file' });
  label.textContent = t('notary.upload');
  const file = /** @type {HTMLInputElement} */ (el('input', 'notary-file', { type: 'file', id: 'notary-file', 'data-testid': 'notary-file',
    accept: 'application/pdf,image/png,image/jpeg,image/webp' }));
  file.disabled = notary.busy;
  file.addEventListener('change', () => { if (file.files?.[0]) upload(file.files[0]); });
  box.append(label, file);
  for (const u of notary.uploaded) {
    const row = el('div', 'notary-row', { 'data-testid': 'notary-uploaded', 'data-id': u.id });
    const name = el('span', 'notary-uploaded-name');
    name.textContent = `${u.name} · ${groupHex(u.sha256).slice(0, 19)}…`;
    const show = el('button', 'btn', { type: 'button', 'data-testid': 'notary-show' });
    show.textContent = t('notary.show');
    show.addEventListener('click', () => client.showDocument(u.id));
    const sign = el('button', 'btn', { type: 'button', 'data-testid': 'notary-sign' });
    sign.textContent = t('notary.sign');
    sign.addEventListener('click', () => client.signDocument(u.id));
    row.append(name, show, sign);
    box.append(row);
  }
  const shown = [...notary.docs].reverse().find((d) => d.purpose === 'shown');
  if (shown) {
    const confirm = el('button', 'btn', { type: 'button', 'data-testid': 'notary-sign-shown' });
    confirm.textContent = t('notary.signShown');
    confirm.addEventListener('click', () => client.signDocument(shown.id));
    box.append(confirm);
  }
  return box;
}

/** Uploads a document in the call (it is shown with its own button). @param {File} f */
async function upload(f) {
  notary.busy = true;
  renderNotary();
  announce(t('notary.uploading'));
  try {
    const res = await callFetch(client.callToken, 'POST', `${docsPath()}?name=${encodeURIComponent(f.name)}`, { body: f, type: f.type });
    const d = await res.json();
    notary.uploaded.push({ id: d.id, name: d.name, sha256: d.sha256 });
    announce(t('notary.uploaded', { name: d.name }));
  } catch (err) {
    const e = /** @type {any} */ (err);
    showBanner(`${errorMessage(e)} (${e.code})`, 'error', 8000);
  } finally {
    notary.busy = false;
    renderNotary();
  }
}
