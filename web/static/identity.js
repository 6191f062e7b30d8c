// @ts-check
/**
 * Identity verification in the call page (docs/api.md, "Identity
 * verification"). A party or interpreter asked to verify their identity
 * (the session requires it, or the presider asked) gives or refuses a
 * biometric consent of its own, photographs their identity document with
 * the camera, types or confirms its MRZ, and answers a liveness challenge
 * while frames are taken. The presider sees the document, the MRZ and the
 * frames side by side and decides. Everything goes through the call
 * routes with the call token; the state is polled.
 *
 * @module identity
 */

import { t } from './i18n.js';
import { $, el } from './dom.js';
import { client, roleLabel, state } from './page.js';
import { callFetch, callJSON } from './callapi.js';


/** How long identity images are kept by default (days), when the server does not say. */
const RETENTION_DAYS = 90;
const POLL_MS = 3000;

/** @type {ReturnType<typeof setInterval> | 0} */
let timer = 0;
/** @type {any} the caller's {required, check}, as last polled */
let mine = null;
let mineKey = '';
/** the capture step in progress: only one at a time */
let busy = false;
/** @type {'passport' | 'id_card'} */
let docType = 'passport';
/** @type {string} the error of the last MRZ attempt */
let mrzError = '';
/** @type {any} the presider's {required, checks}, as last polled */
let review = null;
let reviewKey = '';
/** @type {Map<string, string>} object URLs of images already fetched, by check/index */
const images = new Map();

const presides = () => ['mediator', 'notary', 'judge'].includes(state.self?.role ?? '');
const base = () => `/api/v1/call/${encodeURIComponent(state.info?.session.id ?? '')}/identity`;

/**
 * The pre-join page's notice that the session requires identity
 * verification.
 * @param {any} info the join answer
 */
export function renderIdentityNote(info) {
  let note = document.getElementById('identity-note');
  if (!note) {
    note = el('p', 'hint identity-note', { id: 'identity-note', 'data-testid': 'identity-note' });
    $('consent-row').after(note);
  }
  note.textContent = t('identity.prejoin');
  note.hidden = !info?.session?.identity_required;
}

/** Starts (once) polling the identity state; called on joined. */
export function startIdentity() {
  if (!timer) {
    timer = setInterval(() => void poll(), POLL_MS);
    // The server's identity message: a check changed; read it now.
    client.on('identity', (/** @type {{state: string}} */ d) => {
      mineKey = '';
      reviewKey = '';
      const b = document.getElementById('toggle-identity');
      if (b && presides() && document.getElementById('identity-review')?.hidden !== false) b.dataset.news = String(d.state === 'submitted' || d.state === 'refused');
      void poll(true);
    });
  }
  void poll(true);
}

/** When the state was last read: an idle page (nothing asked of it) reads it less often. */
let lastPoll = 0;
const IDLE_MS = 15000;

/** Whether something is under way: a check to capture, or one waiting for the presider. */
function active() {
  const s = mine?.check?.state;
  return Boolean(mine?.required && s !== 'verified') || s === 'requested' || s === 'consented' || s === 'submitted';
}

/** @param {boolean} [force] read now (an identity message, a step done) */
async function poll(force = false) {
  if (!client.callToken || !state.self || (state.view !== 'call' && state.view !== 'waiting')) return;
  const panelOpen = document.getElementById('identity-review')?.hidden === false;
  if (!force && !active() && !panelOpen && Date.now() - lastPoll < IDLE_MS) return;
  lastPoll = Date.now();
  try {
    if (presides()) {
      ensureReviewButton();
      const panel = document.getElementById('identity-review');
      if (panel && !panel.hidden) await refreshReview();
      return;
    }
    if (busy) return;
    mine = await callJSON(client.callToken, 'GET', base());
    const key = JSON.stringify(mine);
    if (key !== mineKey) {
      mineKey = key;
      renderCard();
    }
  } catch {
    // A failed poll is retried at the next tick.
  }
}

// ---- The person verifying their identity -------------------------------------------

function card() {
  let c = document.getElementById('identity-card');
  if (!c) {
    c = el('section', 'identity-card', { id: 'identity-card', 'data-testid': 'identity-card', role: 'dialog', 'aria-labelledby': 'identity-title' });
    document.body.append(c);
  }
  return c;
}

/** What the capture still needs, from the check as polled. */
function nextStep(check) {
  const kinds = new Set((check.images ?? []).map((/** @type {any} */ i) => i.kind));
  if (!kinds.has('document_front')) return 'document_front';
  if (check.document_type === 'id_card' && !kinds.has('document_back')) return 'document_back';
  if (!check.mrz) return 'mrz';
  return 'liveness';
}

function renderCard() {
  const check = mine?.check;
  const c = card();
  const show = Boolean(mine?.required || check);
  c.hidden = !show;
  if (!show) return;
  const title = el('h2', '', { id: 'identity-title' });
  title.textContent = t('identity.title');
  const body = el('div', 'identity-body');
  c.replaceChildren(title, body);
  const stateName = check?.state ?? '';
  c.dataset.state = stateName;
  const text = (/** @type {string} */ s, testid = 'identity-status') => {
    const p = el('p', '', { 'data-testid': testid });
    p.textContent = s;
    body.append(p);
    return p;
  };
  if (!check || stateName === 'requested') {
    text(t('identity.consent.text', { days: mine?.retention_days || RETENTION_DAYS }), 'identity-consent-text');
    const yes = button(t('identity.consent.yes'), 'identity-consent', 'btn-primary', () => consent(true));
    const no = button(t('identity.consent.no'), 'identity-refuse', '', () => consent(false));
    body.append(row(yes, no));
    return;
  }
  switch (stateName) {
    case 'refused':
      text(t('identity.refused'));
      body.append(button(t('identity.consent.again'), 'identity-consent', '', () => consent(true)));
      return;
    case 'submitted':
      text(t('identity.submitted'));
      return;
    case 'verified':
      text(t('identity.verified'));
      return;
    case 'rejected':
      text(t('identity.rejected', { reason: check.reason ?? '' }));
      return;
  }
  // Consented: capturing.
  const step = nextStep(check);
  if (step === 'document_front' || step === 'document_back') {
    if (step === 'document_front') {
      const select = /** @type {HTMLSelectElement} */ (el('select', '', { 'data-testid': 'identity-doc-type', id: 'identity-doc-type' }));
      for (const d of ['passport', 'id_card']) {
        const o = /** @type {HTMLOptionElement} */ (el('option'));
        o.value = d;
        o.textContent = t(`identity.doc.${d}`);
        o.selected = d === docType;
        select.append(o);
      }
      select.addEventListener('change', () => { docType = /** @type {any} */ (select.value); });
      const label = el('label', 'field');
      const span = el('span');
      span.textContent = t('identity.doc.type');
      label.append(span, select);
      body.append(label);
    }
    text(t(step === 'document_front' ? 'identity.doc.front' : 'identity.doc.back'), 'identity-instruction');
    body.append(cameraView());
    body.append(button(t('identity.doc.take'), 'identity-capture-doc', 'btn-primary', () => captureDocument(step)));
  } else if (step === 'mrz') {
    const label = el('label', 'field identity-mrz');
    const span = el('span');
    span.textContent = t('identity.mrz.label');
    const area = /** @type {HTMLTextAreaElement} */ (el('textarea', '', { 'data-testid': 'identity-mrz', rows: '3', spellcheck: 'false', autocapitalize: 'characters' }));
    label.append(span, area);
    body.append(label);
    const err = text(mrzError, 'identity-mrz-error');
    err.className = 'error-text';
    err.hidden = !mrzError;
    body.append(button(t('identity.mrz.send'), 'identity-mrz-send', 'btn-primary', () => sendMRZ(area.value)));
  } else {
    text(t('identity.live.intro'));
    body.append(cameraView());
    const prompt = el('p', 'identity-prompt', { 'data-testid': 'identity-prompt', role: 'status', 'aria-live': 'assertive' });
    body.append(prompt);
    body.append(button(t('identity.live.start'), 'identity-liveness-start', 'btn-primary', () => liveness(check, prompt)));
  }
}

/**
 * @param {string} label
 * @param {string} testid
 * @param {string} cls
 * @param {() => unknown} onClick
 */
function button(label, testid, cls, onClick) {
  const b = /** @type {HTMLButtonElement} */ (el('button', `btn ${cls}`.trim(), { type: 'button', 'data-testid': testid }));
  b.textContent = label;
  b.addEventListener('click', () => {
    if (busy) return;
    void onClick();
  });
  return b;
}

/** @param {...HTMLElement} nodes */
function row(...nodes) {
  const r = el('div', 'identity-actions');
  r.append(...nodes);
  return r;
}

/** The camera, for framing the document or the face. */
function cameraView() {
  const video = /** @type {HTMLVideoElement} */ (el('video', 'identity-video', { 'data-testid': 'identity-video', playsinline: '', autoplay: '' }));
  video.muted = true;
  const track = state.stream?.getVideoTracks()[0];
  if (track) {
    video.srcObject = new MediaStream([track]);
    video.play().catch(() => {});
  }
  return video;
}

/**
 * One frame of the camera as a JPEG.
 * @returns {Promise<Blob>}
 */
async function grab() {
  const video = /** @type {HTMLVideoElement | null} */ (document.querySelector('#identity-card [data-testid="identity-video"]'));
  if (!video) throw new Error('no camera');
  for (let i = 0; i < 50 && !video.videoWidth; i++) await sleep(100);
  if (!video.videoWidth) throw new Error('no camera picture');
  const canvas = /** @type {HTMLCanvasElement} */ (el('canvas'));
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d')?.drawImage(video, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no picture'))), 'image/jpeg', 0.9));
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * @param {string} query
 * @param {Blob} blob
 */
function upload(query, blob) {
  return callFetch(client.callToken, 'POST', `${base()}/images?${query}`, { body: blob, type: blob.type });
}

/**
 * Runs one capture step, then polls again.
 * @param {() => Promise<unknown>} work
 */
async function step(work) {
  busy = true;
  const status = document.querySelector('#identity-card [data-testid="identity-status"]');
  try {
    await work();
  } catch (err) {
    const p = el('p', 'error-text', { 'data-testid': 'identity-error', role: 'alert' });
    p.textContent = t('identity.failed', { message: err instanceof Error ? err.message : String(err) });
    (status?.parentElement ?? card()).append(p);
  } finally {
    busy = false;
  }
  mineKey = '';
  await poll(true);
}

/** @param {boolean} yes */
function consent(yes) {
  return step(() => callJSON(client.callToken, 'POST', `${base()}/consent`, { consent: yes }));
}

/** @param {string} side document_front or document_back */
function captureDocument(side) {
  const type = side === 'document_front' ? docType : 'id_card';
  return step(async () => upload(`kind=${side}&document_type=${type}`, await grab()));
}

/** @param {string} text */
function sendMRZ(text) {
  return step(async () => {
    const res = await fetch(`${base()}/mrz`, {
      method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: { 'Authorization': `Call ${client.callToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ mrz: text }),
    });
    if (res.ok) {
      mrzError = '';
      return;
    }
    const data = await res.json().catch(() => null);
    const e = data?.error ?? {};
    const field = e.field ? `: ${e.field}${e.line ? `, ${e.line}:${e.column ?? ''}` : ''}` : '';
    mrzError = t('identity.mrz.error', { code: e.code ?? res.status, field });
  });
}

/**
 * The liveness challenge: each prompt in turn, two frames each, then the
 * submission.
 * @param {any} check
 * @param {HTMLElement} prompt
 */
function liveness(check, prompt) {
  return step(async () => {
    const steps = /** @type {string[]} */ (check.challenge ?? []);
    for (let i = 0; i < steps.length; i++) {
      prompt.textContent = t(`identity.prompt.${steps[i]}`);
      prompt.dataset.prompt = steps[i];
      await sleep(1500);
      await upload(`kind=face&step=${i}`, await grab());
      await sleep(400);
      await upload(`kind=face&step=${i}`, await grab());
    }
    prompt.textContent = t('identity.sending');
    await callJSON(client.callToken, 'POST', `${base()}/submit`);
  });
}

// ---- The presider -----------------------------------------------------------------

function ensureReviewButton() {
  if (document.getElementById('toggle-identity')) return;
  const b = el('button', 'btn btn-control', { type: 'button', id: 'toggle-identity', 'data-testid': 'toggle-identity', 'aria-expanded': 'false' });
  b.textContent = t('identity.review');
  b.addEventListener('click', () => {
    delete b.dataset.news;
    const panel = reviewPanel();
    panel.hidden = !panel.hidden;
    b.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) void refreshReview();
  });
  const leave = document.getElementById('leave');
  if (leave) leave.before(b);
  else document.getElementById('controls')?.append(b);
}

function reviewPanel() {
  let p = document.getElementById('identity-review');
  if (!p) {
    p = el('section', 'identity-review', { id: 'identity-review', 'data-testid': 'identity-review', 'aria-labelledby': 'identity-review-title' });
    p.hidden = true;
    document.body.append(p);
  }
  return p;
}

async function refreshReview() {
  review = await callJSON(client.callToken, 'GET', `${base()}/checks`);
  const people = [...state.participants.values(), ...(state.lobby ?? [])]
    .filter((p) => p.role === 'party' || p.role === 'interpreter')
    .map((p) => `${p.id}:${p.name}:${p.role}`);
  const key = JSON.stringify([review, people]);
  if (key === reviewKey) return;
  reviewKey = key;
  renderReview();
}

function renderReview() {
  const panel = reviewPanel();
  const title = el('h2', '', { id: 'identity-review-title' });
  title.textContent = t('identity.review.title');
  panel.replaceChildren(title);
  // Ask someone present or waiting to verify their identity.
  const seen = new Set();
  const ask = el('div', 'identity-actions');
  for (const p of [...state.participants.values(), ...(state.lobby ?? [])]) {
    if ((p.role !== 'party' && p.role !== 'interpreter') || seen.has(p.id)) continue;
    seen.add(p.id);
    const b = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'identity-request', 'data-participant-id': p.id });
    b.textContent = `${t('identity.review.ask')}: ${p.name}`;
    b.addEventListener('click', () => void decide(() => callJSON(client.callToken, 'POST', `${base()}/request`, { participant_id: p.id })));
    ask.append(b);
  }
  panel.append(ask);
  const checks = /** @type {any[]} */ (review?.checks ?? []);
  if (!checks.length) {
    const p = el('p', 'muted');
    p.textContent = t('identity.review.empty');
    panel.append(p);
  }
  for (const c of [...checks].reverse()) panel.append(renderCheck(c));
}

/** @param {any} c */
function renderCheck(c) {
  const box = el('article', 'identity-check', { 'data-testid': 'identity-check', 'data-check-id': c.id, 'data-state': c.state });
  const head = el('h3');
  head.textContent = `${c.participant ?? ''} · ${roleLabel(c.role ?? '')} · ${t(`identity.state.${c.state}`)}`;
  box.append(head);
  if (c.provider) {
    const p = el('p', 'hint', { 'data-testid': 'identity-provider' });
    p.textContent = t('identity.provider', { name: c.provider.name, state: c.provider.state, score: c.provider.score ?? '—' });
    box.append(p);
  }
  if (c.mrz) {
    const dl = el('dl', 'details identity-mrz-fields', { 'data-testid': 'identity-mrz-fields' });
    for (const [k, v] of Object.entries(c.mrz)) {
      if (!v) continue;
      const dt = el('dt');
      dt.textContent = k.replaceAll('_', ' ');
      const dd = el('dd');
      dd.textContent = String(v);
      dl.append(dt, dd);
    }
    box.append(dl);
    if (c.mrz_masked) {
      const m = el('p', 'hint');
      m.textContent = t('identity.mrz.masked');
      box.append(m);
    }
  }
  const gallery = el('div', 'identity-images');
  for (const img of c.images ?? []) {
    if (img.deleted) continue;
    const fig = el('figure', 'identity-image');
    const pic = /** @type {HTMLImageElement} */ (el('img', '', { 'data-testid': 'identity-image', 'data-kind': img.kind, alt: img.kind }));
    const cap = el('figcaption', 'hint');
    cap.textContent = img.prompt ? t(`identity.prompt.${img.prompt}`) : t(`identity.doc.${img.kind === 'document_back' ? 'back' : 'front'}`).split('.')[0];
    fig.append(pic, cap);
    gallery.append(fig);
    void showImage(pic, c.id, img.index);
  }
  box.append(gallery);
  if (c.decision) {
    const p = el('p', '', { 'data-testid': 'identity-decision' });
    p.textContent = `${t(`identity.state.${c.decision}`)} — ${t('identity.decided', { name: c.decided_by ?? '' })}${c.reason ? `: ${c.reason}` : ''}`;
    box.append(p);
  } else if (c.state === 'submitted' || c.state === 'consented') {
    const label = el('label', 'field');
    const span = el('span');
    span.textContent = t('identity.reason');
    const reason = /** @type {HTMLInputElement} */ (el('input', '', { type: 'text', 'data-testid': 'identity-reason', maxlength: '1000' }));
    label.append(span, reason);
    const path = `${base()}/checks/${encodeURIComponent(c.id)}/decision`;
    const verify = el('button', 'btn btn-primary', { type: 'button', 'data-testid': 'identity-verify' });
    verify.textContent = t('identity.verify');
    /** @type {HTMLButtonElement} */ (verify).disabled = c.state !== 'submitted';
    verify.addEventListener('click', () => void decide(() => callJSON(client.callToken, 'POST', path, { decision: 'verified', reason: reason.value })));
    const reject = el('button', 'btn btn-danger', { type: 'button', 'data-testid': 'identity-reject' });
    reject.textContent = t('identity.reject');
    reject.addEventListener('click', () => void decide(() => callJSON(client.callToken, 'POST', path, { decision: 'rejected', reason: reason.value })));
    box.append(label, row(verify, reject));
  }
  return box;
}

/**
 * Shows an image, fetched once (each fetch is an audited view).
 * @param {HTMLImageElement} pic
 * @param {string} check
 * @param {number} index
 */
async function showImage(pic, check, index) {
  const key = `${check}/${index}`;
  let url = images.get(key);
  if (!url) {
    try {
      const res = await callFetch(client.callToken, 'GET', `${base()}/checks/${encodeURIComponent(check)}/images/${index}`);
      url = URL.createObjectURL(await res.blob());
      images.set(key, url);
    } catch {
      return;
    }
  }
  pic.src = url;
}

/** @param {() => Promise<unknown>} work */
async function decide(work) {
  try {
    await work();
  } catch (err) {
    const p = el('p', 'error-text', { role: 'alert', 'data-testid': 'identity-error' });
    p.textContent = t('identity.failed', { message: err instanceof Error ? err.message : String(err) });
    reviewPanel().append(p);
    return;
  }
  reviewKey = '';
  await refreshReview();
}
