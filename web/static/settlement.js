// @ts-check
/**
 * The settlement agreement in the call (docs/protocol.md, "Settlement
 * agreement"): a panel where the mediator fills a template, writes the
 * terms, saves versions and shares one; where everyone reads the shared
 * text with its version and SHA-256; where each party, then the mediator,
 * types their name and draws their signature; where the mediator marks
 * each party's spoken confirmation and finalizes; and from where the
 * signed PDF downloads (a call route, docs/api.md).
 *
 * The panel is built here, once, into the call view, with its button in
 * the call controls: the page's HTML and the other modules are untouched
 * but for setupSettlement().
 *
 * @module settlement
 */

import { t } from './i18n.js';
import { $, el } from './dom.js';
import { announce, client } from './page.js';
import { callFetch } from './callapi.js';

/** The drawing box of a signature, in canvas pixels. */
const BOX = { w: 360, h: 120 };
/** Limits of a drawing (the server's: settlement.MaxStrokes, MaxPoints). */
const MAX_STROKES = 64;
const MAX_POINTS = 2000;

/**
 * @typedef {{participant_id: string, name: string, role: string, signed: boolean, typed_name?: string,
 *   name_matches: boolean, name_confirmed: boolean, confirmed: boolean, signed_at?: string, confirmed_at?: string}} Signer
 * @typedef {{id: string, version: number, text: string, sha256: string, language: string, signers: Signer[],
 *   ready: boolean, cleared?: number, final?: {sha256: string, bytes: number, at: string}}} Settlement
 */

const view = {
  /** @type {Settlement | null} the shared settlement */
  shared: null,
  /** @type {{version: number, sha256: string} | null} (mediator) the last version saved */
  saved: null,
  /** @type {number[][]} the strokes drawn, each x0, y0, x1, y1, … */
  strokes: [],
  open: false,
};

/**
 * The parts of the panel kept from one render to the next, so that an
 * update (another party signing, the mediator marking a confirmation)
 * never takes the focus, the cursor or the text from someone typing their
 * name or the terms: the draft while the mediator drafts, the signing form
 * while the text signed stays the same.
 */
const kept = {
  /** @type {HTMLElement | null} */ draftSlot: null,
  /** @type {HTMLElement | null} */ info: null,
  /** @type {HTMLElement | null} */ formSlot: null,
  /** @type {HTMLElement | null} */ tail: null,
  /** @type {HTMLElement | null} */ error: null,
  /** @type {{el: HTMLElement, update: () => void} | null} the mediator's draft */
  draft: null,
  /** @type {{el: HTMLElement, sha: string} | null} the signing form, and the hash it signs */
  form: null,
};

function isMediator() { return client.self?.role === 'mediator'; }

/** @param {string} tag @param {string} testid @param {Record<string, string>} [attrs] */
function part(tag, testid, attrs = {}) { return el(tag, '', { 'data-testid': testid, ...attrs }); }

/** Builds the panel and its button, and listens to the client; once. */
export function setupSettlement() {
  const panel = el('aside', 'side-panel settlement-panel', { id: 'settlement-panel', 'data-testid': 'settlement-panel', 'aria-labelledby': 'settlement-title' });
  panel.hidden = true;
  const head = el('header', 'side-head');
  const title = el('h2', '', { id: 'settlement-title', tabindex: '-1' });
  const close = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'settlement-close' });
  close.addEventListener('click', () => toggle(false));
  head.append(title, close);
  const body = el('div', 'side-scroll', { id: 'settlement-body' });
  panel.append(head, body);
  $('call-body').append(panel);

  const button = el('button', 'btn btn-control', { type: 'button', id: 'toggle-settlement', 'data-testid': 'toggle-settlement', 'aria-controls': 'settlement-panel' });
  button.hidden = true;
  button.addEventListener('click', () => toggle(!view.open));
  $('leave').before(button);

  client.on('settlement', ({ settlement }) => onSettlement(settlement));
  client.on('settlement-saved', (m) => {
    view.saved = { version: m.version, sha256: m.sha256 };
    announce(t('settlement.saved', { version: m.version }));
    render();
  });
  client.on('settlement-template', (m) => {
    const text = /** @type {HTMLTextAreaElement | null} */ (document.querySelector('[data-testid="settlement-text"]'));
    if (text) text.value = m.text;
  });
  client.on('joined', () => render());
  client.on('error', ({ code, message, ref }) => {
    if (typeof ref === 'string' && ref.startsWith('settlement_')) showError(code, message);
  });
  render();
}

/** @param {boolean} open */
function toggle(open) {
  view.open = open;
  render();
  if (open) $('settlement-title').focus();
}

/** @param {Settlement | null} s */
function onSettlement(s) {
  const before = view.shared;
  view.shared = s;
  if (s && before && before.version !== s.version) {
    view.strokes = []; // a new text: sign it afresh
    announce(t('settlement.changed', { version: s.version }));
  }
  if (s && !before) view.open = true; // shared: everyone sees it
  render();
}

/** @param {string} code @param {string} message */
function showError(code, message) {
  const e = document.querySelector('[data-testid="settlement-error"]');
  if (!e) return;
  e.textContent = `${t(`error.${code}`) === `error.${code}` ? message : t(`error.${code}`)} (${code})`;
  /** @type {HTMLElement} */ (e).hidden = false;
}

function render() {
  const button = $('toggle-settlement');
  const panel = $('settlement-panel');
  button.hidden = !isMediator() && !view.shared;
  button.textContent = t('settlement.button');
  button.setAttribute('aria-expanded', String(view.open));
  panel.hidden = !view.open || button.hidden;
  $('settlement-title').textContent = t('settlement.title');
  panel.querySelector('[data-testid="settlement-close"]')?.replaceChildren(t('settlement.close'));
  if (!kept.draftSlot) {
    const shared = el('section', 'side-section');
    kept.draftSlot = el('div');
    kept.info = el('div');
    kept.formSlot = el('div');
    kept.tail = el('div');
    kept.error = part('p', 'settlement-error', { role: 'alert' });
    kept.error.className = 'chat-error';
    shared.append(kept.info, kept.formSlot, kept.tail);
    $('settlement-body').replaceChildren(kept.draftSlot, shared, kept.error);
  }
  /** @type {HTMLElement} */ (kept.error).hidden = true;
  if (isMediator()) {
    if (!kept.draft) {
      kept.draft = draftSection();
      kept.draftSlot.replaceChildren(kept.draft.el);
    }
    kept.draft.update();
  } else if (kept.draft) {
    kept.draft = null;
    kept.draftSlot.replaceChildren();
  }
  renderShared();
}

/**
 * The mediator's drafting: template, text, save, share; built once, and
 * update() brings the share button and the saved version up to date.
 * @returns {{el: HTMLElement, update: () => void}}
 */
function draftSection() {
  const s = el('section', 'side-section');
  const h = el('h3');
  h.textContent = t('settlement.draft');
  const lang = /** @type {HTMLSelectElement} */ (part('select', 'settlement-language'));
  for (const code of ['zh', 'en', 'it']) {
    const o = /** @type {HTMLOptionElement} */ (el('option', '', { value: code }));
    o.textContent = t(`settlement.lang.${code}`);
    lang.append(o);
  }
  lang.value = view.shared?.language || 'zh';
  const fill = part('button', 'settlement-template', { type: 'button' });
  fill.className = 'btn btn-small';
  fill.textContent = t('settlement.useTemplate');
  fill.addEventListener('click', () => client.sendSettlement('settlement_template', { template: 'general', language: lang.value, terms: '' }));
  const area = /** @type {HTMLTextAreaElement} */ (part('textarea', 'settlement-text', { rows: '10', 'aria-label': t('settlement.text') }));
  area.value = view.shared?.text || '';
  const save = part('button', 'settlement-save', { type: 'button' });
  save.className = 'btn btn-small';
  save.textContent = t('settlement.save');
  save.addEventListener('click', () => client.sendSettlement('settlement_draft', { text: area.value, template: 'general', language: lang.value }));
  const share = /** @type {HTMLButtonElement} */ (part('button', 'settlement-share', { type: 'button' }));
  share.className = 'btn btn-small btn-primary';
  share.textContent = t('settlement.share');
  share.addEventListener('click', () => {
    if (view.saved) client.sendSettlement('settlement_share', { version: view.saved.version });
  });
  const note = part('p', 'settlement-saved-version');
  note.className = 'hint';
  const row = el('div', 'settlement-row');
  row.append(lang, fill, save, share);
  s.append(h, row, area, note);
  const update = () => {
    share.disabled = !view.saved || view.saved.version === view.shared?.version;
    note.textContent = view.saved ? t('settlement.savedVersion', { version: view.saved.version }) : t('settlement.notSaved');
  };
  return { el: s, update };
}

/** What everyone sees: the shared text, its hash, the signers, signing. */
function renderShared() {
  const info = /** @type {HTMLElement} */ (kept.info);
  const formSlot = /** @type {HTMLElement} */ (kept.formSlot);
  const tail = /** @type {HTMLElement} */ (kept.tail);
  const v = view.shared;
  if (!v) {
    const p = el('p', 'muted');
    p.textContent = t('settlement.none');
    info.replaceChildren(p);
    formSlot.replaceChildren();
    kept.form = null;
    tail.replaceChildren();
    return;
  }
  const h = el('h3');
  h.textContent = t('settlement.shared', { version: v.version });
  const text = part('pre', 'settlement-shared-text', { 'data-version': String(v.version) });
  text.className = 'settlement-text';
  text.textContent = v.text;
  const sha = part('p', 'settlement-sha', { 'data-sha256': v.sha256 });
  sha.className = 'hint settlement-hash';
  sha.textContent = `SHA-256: ${v.sha256}`;
  const s = [h, text, sha];
  if (v.cleared) {
    const c = part('p', 'settlement-cleared');
    c.className = 'hint is-warning';
    c.textContent = t('settlement.cleared', { n: v.cleared });
    s.push(c);
  }
  const list = part('ul', 'settlement-signers');
  list.className = 'settlement-signers';
  for (const g of v.signers) list.append(signerRow(v, g));
  s.push(list);
  info.replaceChildren(...s);
  const me = v.signers.find((g) => g.participant_id === client.self?.id);
  if (!v.final && me && !me.signed) {
    if (kept.form?.sha !== v.sha256) {
      kept.form = { el: signForm(v), sha: v.sha256 };
      formSlot.replaceChildren(kept.form.el);
    }
  } else if (kept.form) {
    kept.form = null;
    formSlot.replaceChildren();
  }
  /** @type {HTMLElement[]} */
  const end = [];
  if (isMediator() && !v.final) {
    const fin = /** @type {HTMLButtonElement} */ (part('button', 'settlement-finalize', { type: 'button' }));
    fin.className = 'btn btn-primary';
    fin.textContent = t('settlement.finalize');
    fin.disabled = !v.ready;
    fin.addEventListener('click', () => client.sendSettlement('settlement_finalize', { sha256: v.sha256 }));
    end.push(fin);
  }
  if (v.final) end.push(finalRow(v));
  tail.replaceChildren(...end);
}

/** @param {Settlement} v @param {Signer} g */
function signerRow(v, g) {
  const li = part('li', 'settlement-signer', {
    'data-participant-id': g.participant_id, 'data-signed': String(g.signed), 'data-confirmed': String(g.confirmed),
  });
  const who = el('span');
  const state = !g.signed ? t('settlement.notSigned')
    : g.confirmed ? t('settlement.signedConfirmed', { name: g.typed_name ?? '' })
      : t('settlement.signedOnly', { name: g.typed_name ?? '' });
  who.textContent = `${g.name} (${t(`role.${g.role}`)}): ${state}`;
  li.append(who);
  if (isMediator() && !v.final && g.signed && g.role !== 'mediator') {
    if (!g.confirmed) {
      const b = part('button', 'settlement-confirm', { type: 'button', 'data-participant-id': g.participant_id });
      b.className = 'btn btn-small';
      b.textContent = t('settlement.markSpoken');
      b.addEventListener('click', () => client.sendSettlement('settlement_confirm', { id: g.participant_id, what: 'spoken' }));
      li.append(b);
    }
    if (!g.name_matches && !g.name_confirmed) {
      const b = part('button', 'settlement-accept-name', { type: 'button', 'data-participant-id': g.participant_id });
      b.className = 'btn btn-small';
      b.textContent = t('settlement.acceptName');
      b.addEventListener('click', () => client.sendSettlement('settlement_confirm', { id: g.participant_id, what: 'name' }));
      li.append(b);
    }
  }
  return li;
}

/** The signer's form: typed name and drawn signature. @param {Settlement} v */
function signForm(v) {
  const f = el('div', 'settlement-sign');
  const label = el('label');
  label.textContent = t('settlement.typeName');
  const name = /** @type {HTMLInputElement} */ (part('input', 'settlement-name', { type: 'text', autocomplete: 'name', maxlength: '100' }));
  label.append(name);
  const hint = el('p', 'hint');
  hint.textContent = t('settlement.drawHint');
  const canvas = /** @type {HTMLCanvasElement} */ (part('canvas', 'settlement-canvas', { width: String(BOX.w), height: String(BOX.h) }));
  canvas.className = 'settlement-canvas';
  wireCanvas(canvas);
  const clear = part('button', 'settlement-clear', { type: 'button' });
  clear.className = 'btn btn-small';
  clear.textContent = t('settlement.clear');
  clear.addEventListener('click', () => {
    view.strokes = [];
    redraw(canvas);
  });
  const sign = part('button', 'settlement-sign', { type: 'button' });
  sign.className = 'btn btn-primary';
  sign.textContent = t('settlement.sign', { version: v.version });
  sign.addEventListener('click', () => {
    if (view.strokes.length === 0 || !name.value.trim()) {
      showError('bad_signature', t('settlement.needBoth'));
      return;
    }
    client.sendSettlement('settlement_sign', {
      sha256: v.sha256, typed_name: name.value.trim(), drawing: { w: BOX.w, h: BOX.h, strokes: view.strokes },
    });
  });
  f.append(label, hint, canvas, clear, sign);
  redraw(canvas);
  return f;
}

/** Draws with a pointer (mouse, pen, finger) into view.strokes. @param {HTMLCanvasElement} canvas */
function wireCanvas(canvas) {
  /** @type {number[] | null} */
  let cur = null;
  const point = (/** @type {PointerEvent} */ e) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.round(((e.clientX - r.left) / Math.max(r.width, 1)) * BOX.w);
    const y = Math.round(((e.clientY - r.top) / Math.max(r.height, 1)) * BOX.h);
    return [Math.min(BOX.w, Math.max(0, x)), Math.min(BOX.h, Math.max(0, y))];
  };
  const points = () => view.strokes.reduce((n, s) => n + s.length / 2, 0);
  canvas.addEventListener('pointerdown', (e) => {
    if (view.strokes.length >= MAX_STROKES || points() >= MAX_POINTS) return;
    try {
      canvas.setPointerCapture(e.pointerId); // the stroke goes on outside the box
    } catch {
      // a pointer the browser does not track: no capture, still drawn
    }
    cur = point(e);
    view.strokes.push(cur);
    redraw(canvas);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!cur || points() >= MAX_POINTS) return;
    const [x, y] = point(e);
    if (x === cur[cur.length - 2] && y === cur[cur.length - 1]) return;
    cur.push(x, y);
    redraw(canvas);
  });
  const end = () => { cur = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}

/** @param {HTMLCanvasElement} canvas */
function redraw(canvas) {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 2;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.strokeStyle = '#1a2a6c';
  for (const s of view.strokes) {
    ctx.beginPath();
    ctx.moveTo(s[0], s[1]);
    for (let i = 2; i + 1 < s.length; i += 2) ctx.lineTo(s[i], s[i + 1]);
    if (s.length === 2) ctx.lineTo(s[0] + 0.5, s[1]);
    ctx.stroke();
  }
  canvas.dataset.strokes = String(view.strokes.length);
}

/** The signed PDF: its hash and a download. @param {Settlement} v */
function finalRow(v) {
  const d = el('div', 'settlement-final');
  const p = part('p', 'settlement-final-sha', { 'data-sha256': v.final?.sha256 ?? '', 'data-settlement-id': v.id });
  p.textContent = t('settlement.final', { sha: v.final?.sha256 ?? '' });
  const b = part('button', 'settlement-download', { type: 'button' });
  b.className = 'btn btn-primary';
  b.textContent = t('settlement.download');
  b.addEventListener('click', () => download(v));
  d.append(p, b);
  return d;
}

/** Downloads the signed PDF through the call route. @param {Settlement} v */
async function download(v) {
  try {
    const res = await callFetch(client.callToken, 'GET', `/api/v1/call/${encodeURIComponent(client.session?.id ?? '')}/settlements/${encodeURIComponent(v.id)}`);
    const url = URL.createObjectURL(await res.blob());
    const a = /** @type {HTMLAnchorElement} */ (el('a', '', { href: url, download: `settlement-${v.id}.pdf` }));
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    const e = /** @type {any} */ (err);
    showError(e?.code ?? 'network', e?.message ?? String(err));
  }
}
