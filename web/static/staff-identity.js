// @ts-check
/**
 * Identity verification on the staff pages (docs/api.md, "Identity
 * verification"):
 *
 * - on the case page, each session's "Identity verification" section:
 *   whether the session requires its parties and interpreters to verify
 *   their identity (staff who create sessions change it) and, for
 *   administrators, every check with its decision and a viewer of its
 *   images, the document beside the live frames. Each image is fetched
 *   anew at every opening (the server audits every view) and shown from a
 *   blob URL, revoked when the viewer closes: nothing is cached. Other
 *   staff see no check: the results are in the sealed recording's
 *   manifest and certificate.
 * - the organization's identity policy (/staff/identity): full ID numbers
 *   or masked ones, and how long images are kept; administrators change
 *   it, other staff read it.
 *
 * @module staff-identity
 */

import { ApiError } from './api.js';
import { has, t } from './i18n.js';
import { announce, checkbox, errorBox, field, h, loadingView, setMain, showError } from './staff-dom.js';
import { api, formatTime, handleError, roleLabel, state } from './staff-common.js';

/** @typedef {import('./api.js').Session} Session */

/**
 * @typedef {{index: number, kind: string, step: number, prompt?: string, sha256: string, bytes: number,
 *   width: number, height: number, deleted?: boolean}} IdentityImage
 * @typedef {{id: string, participant_id: string, participant?: string, role?: string, state: string,
 *   requested: boolean, document_type?: string, mrz?: Record<string, string>, mrz_masked: boolean,
 *   images: IdentityImage[], provider?: {name: string, state: string, score?: number, reference?: string},
 *   decision?: string, reason?: string, decided_by?: string, decided_at?: string, created_at: string}} IdentityCheck
 * @typedef {{required: boolean, checks?: IdentityCheck[]}} SessionIdentity
 * @typedef {{store_raw_numbers: boolean, image_retention_days: number}} IdentityPolicy
 */

/** The longest retention the server accepts, in days. */
export const MAX_RETENTION_DAYS = 3650;

// ---- Pure helpers (tested in testdata/staff_identity_test.mjs) ----------------------

/** The text of key, or fallback when there is none. @param {string} key @param {string} fallback */
const label = (key, fallback) => (has(key) ? t(key) : fallback);

/**
 * A check's images for the viewer: the document pages (front first) and
 * the live frames (in the order of the challenge), without those deleted
 * at the end of their retention.
 * @param {{images?: IdentityImage[]}} check
 * @returns {{documents: IdentityImage[], frames: IdentityImage[]}}
 */
export function splitImages(check) {
  const kept = (check.images ?? []).filter((i) => !i.deleted);
  const side = (/** @type {string} */ k) => (k === 'document_front' ? 0 : 1);
  return {
    documents: kept.filter((i) => i.kind !== 'face').sort((a, b) => side(a.kind) - side(b.kind) || a.index - b.index),
    frames: kept.filter((i) => i.kind === 'face').sort((a, b) => a.step - b.step || a.index - b.index),
  };
}

/**
 * How many images of the check can still be opened.
 * @param {{images?: IdentityImage[]}} check
 */
export function viewableCount(check) {
  return (check.images ?? []).filter((i) => !i.deleted).length;
}

/**
 * The document number as stored (masked unless the policy keeps full
 * numbers), or ''.
 * @param {{mrz?: Record<string, string>}} check
 */
export function documentNumber(check) {
  return check.mrz?.document_number ?? '';
}

/**
 * The method of a check: the presider's decision, with the verification
 * service's advice when one was asked ("Presider's decision · acme:
 * match, score 0.93").
 * @param {{provider?: {name: string, state: string, score?: number}}} check
 */
export function methodText(check) {
  const p = check.provider;
  const manual = t('staff.identity.manual');
  if (!p) return manual;
  const score = typeof p.score === 'number' ? `, ${t('staff.identity.score', { score: p.score.toFixed(2) })}` : '';
  return `${manual} · ${p.name}: ${label(`staff.identity.provider.${p.state}`, p.state)}${score}`;
}

/**
 * Reads the retention the administrator typed: a whole number of days,
 * 1 to MAX_RETENTION_DAYS, else null.
 * @param {string} text
 * @returns {number | null}
 */
export function parseRetention(text) {
  const s = String(text).trim();
  if (!/^\d{1,4}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= MAX_RETENTION_DAYS ? n : null;
}

// ---- The section of a session -------------------------------------------------------

const sessionPath = (/** @type {string} */ id) => `/api/v1/sessions/${encodeURIComponent(id)}/identity`;

/**
 * The session's identity verification: loaded when drawn.
 * @param {Session} s
 */
export function identityBox(s) {
  const box = h('section', { class: 'identity-box', 'data-testid': 'identity', 'data-session-id': s.id },
    h('h4', { text: t('staff.identity.title') }), loadingView());
  void load(box, s);
  return box;
}

/** @param {HTMLElement} box @param {Session} s */
async function load(box, s) {
  try {
    /** @type {SessionIdentity} */
    const info = await api.request('GET', sessionPath(s.id));
    draw(box, s, info);
  } catch (err) {
    const e = errorBox('identity-error');
    box.replaceChildren(h('h4', { text: t('staff.identity.title') }), e);
    handleError(err, e);
  }
}

/** @param {HTMLElement} box @param {Session} s @param {SessionIdentity} info */
function draw(box, s, info) {
  const admin = state.account?.role === 'admin';
  const error = errorBox('identity-required-error');
  const on = info.required;
  /** @type {HTMLButtonElement | null} */
  let toggle = null;
  if (s.state !== 'ended') {
    toggle = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'identity-required-toggle',
      'aria-pressed': String(on), text: t(on ? 'staff.identity.dontRequire' : 'staff.identity.require') }));
    toggle.addEventListener('click', async () => {
      const button = /** @type {HTMLButtonElement} */ (toggle);
      button.disabled = true;
      showError(error, '');
      try {
        const answer = await api.request('PUT', sessionPath(s.id), { required: !on });
        announce(t(answer.required ? 'staff.identity.requiredNotice' : 'staff.identity.notRequiredNotice'));
        await load(box, s);
        /** @type {HTMLElement | null} */ (box.querySelector('[data-testid="identity-required-toggle"]'))?.focus();
      } catch (err) {
        handleError(err, error);
        button.disabled = false;
      }
    });
  }
  const checks = info.checks ?? [];
  box.replaceChildren(
    h('h4', { text: t('staff.identity.title') }),
    h('p', {},
      h('span', { 'data-testid': 'identity-required', 'data-on': String(on), text: t(on ? 'staff.identity.required' : 'staff.identity.notRequired') }),
      toggle ? ' ' : null, toggle),
    h('p', { class: 'hint', text: t('staff.identity.requiredHint') }),
    error,
    admin
      ? (checks.length ? checksTable(s, checks) : h('p', { class: 'muted empty', 'data-testid': 'identity-none', text: t('staff.identity.none') }))
      : h('p', { class: 'muted', 'data-testid': 'identity-sealed-note', text: t('staff.identity.sealedNote') }));
}

/** @param {string} st */
function checkStateLabel(st) {
  return label(`identity.state.${st}`, st);
}

/** @param {Session} s @param {IdentityCheck[]} checks */
function checksTable(s, checks) {
  const rows = [...checks].reverse().map((c) => {
    const n = viewableCount(c);
    const open = n ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'identity-open-images', 'data-check-id': c.id,
      text: t('staff.identity.openImages', { n }) }) : h('span', { class: 'muted', text: t('staff.identity.noImages') });
    if (n) open.addEventListener('click', () => void openViewer(s, c, /** @type {HTMLElement} */ (open)));
    const decided = c.decision
      ? [h('span', { 'data-testid': 'identity-check-decision', 'data-decision': c.decision, text: checkStateLabel(c.decision) }),
        c.reason ? h('span', { class: 'sub', text: c.reason }) : null,
        h('span', { class: 'sub muted', text: t('staff.identity.decidedBy', { name: c.decided_by ?? '—', time: formatTime(c.decided_at) }) })]
      : '—';
    return h('tr', { 'data-testid': 'identity-check', 'data-check-id': c.id, 'data-state': c.state },
      h('td', {}, h('span', { class: 'name', text: c.participant ?? c.participant_id }),
        c.requested ? h('span', { class: 'sub muted', text: t('staff.identity.askedInCall') }) : null),
      h('td', { text: roleLabel(c.role ?? '') }),
      h('td', { 'data-testid': 'identity-check-state', text: checkStateLabel(c.state) }),
      h('td', { text: c.document_type ? label(`staff.identity.doc.${c.document_type}`, c.document_type) : '—' }),
      h('td', {}, documentNumber(c) ? h('code', { class: 'mono', 'data-testid': 'identity-check-number', text: documentNumber(c) }) : '—',
        c.mrz && !c.mrz_masked ? h('span', { class: 'sub muted', text: t('staff.identity.fullNumber') }) : null),
      h('td', { 'data-testid': 'identity-check-method', text: methodText(c) }),
      h('td', {}, decided),
      h('td', {}, open));
  });
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table identity-table' },
      h('thead', {}, h('tr', {},
        ['participant', 'role', 'state', 'document', 'number', 'method', 'decision', 'images'].map((k) =>
          h('th', { scope: 'col', text: t(`staff.identity.col.${k}`) })))),
      h('tbody', {}, rows)));
}

// ---- The image viewer -----------------------------------------------------------------

/**
 * Opens the viewer of a check's images: the document beside the live
 * frames, each fetched now (an audited view) and shown from a blob URL
 * revoked on closing.
 * @param {Session} s
 * @param {IdentityCheck} c
 * @param {HTMLElement} opener focused again on closing
 */
async function openViewer(s, c, opener) {
  document.getElementById('identity-viewer')?.remove();
  /** @type {string[]} */
  const urls = [];
  const { documents, frames } = splitImages(c);
  const figure = (/** @type {IdentityImage} */ img) => {
    const pic = /** @type {HTMLImageElement} */ (h('img', { 'data-testid': 'identity-viewer-image', 'data-kind': img.kind, 'data-index': String(img.index),
      alt: img.prompt ? label(`identity.prompt.${img.prompt}`, img.prompt) : label(`staff.identity.kind.${img.kind}`, img.kind) }));
    const fig = h('figure', { class: 'identity-figure' }, pic,
      h('figcaption', { class: 'hint', text: `${pic.alt} · ${img.width}×${img.height}` }));
    void fetchImage(s.id, c.id, img.index, urls).then((url) => { pic.src = url; }).catch((err) => {
      fig.append(h('p', { class: 'error-text', 'data-testid': 'identity-viewer-error', text: err instanceof ApiError && err.code === 'image_deleted'
        ? t('staff.identity.imageDeleted') : t('staff.identity.imageFailed') }));
    });
    return fig;
  };
  const close = h('button', { type: 'button', class: 'btn', 'data-testid': 'identity-viewer-close', text: t('staff.identity.close') });
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { id: 'identity-viewer', class: 'identity-viewer', 'data-testid': 'identity-viewer',
    'aria-labelledby': 'identity-viewer-title' },
    h('h2', { id: 'identity-viewer-title', text: t('staff.identity.viewerTitle', { name: c.participant ?? '' }) }),
    h('p', { class: 'hint', text: t('staff.identity.viewerAudited') }),
    h('div', { class: 'identity-columns' },
      h('section', { class: 'identity-column', 'data-testid': 'identity-viewer-documents' },
        h('h3', { text: t('staff.identity.documents') }), documents.map(figure)),
      h('section', { class: 'identity-column', 'data-testid': 'identity-viewer-frames' },
        h('h3', { text: t('staff.identity.frames') }), frames.map(figure))),
    h('div', { class: 'actions' }, close)));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    for (const u of urls) URL.revokeObjectURL(u);
    urls.length = 0;
    dialog.remove();
    opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
}

/**
 * Fetches one image with the login cookie, never from a cache.
 * @param {string} session
 * @param {string} check
 * @param {number} index
 * @param {string[]} urls collects the blob URLs to revoke
 */
async function fetchImage(session, check, index, urls) {
  const path = `${sessionPath(session)}/checks/${encodeURIComponent(check)}/images/${index}`;
  /** @type {Response} */
  let res;
  try {
    res = await api.fetch(api.base + path, { credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    throw new ApiError(res.status, data?.error?.code ?? `http_${res.status}`, data?.error?.message ?? res.statusText);
  }
  const url = URL.createObjectURL(await res.blob());
  urls.push(url);
  return url;
}

// ---- The organization's policy ----------------------------------------------------------

export async function showIdentityPolicy() {
  const seq = state.seq;
  document.title = `${t('staff.identity.policyTitle')} · 跨洋 Kuayang`;
  setMain(loadingView());
  try {
    /** @type {IdentityPolicy} */
    const pol = await api.request('GET', '/api/v1/identity/policy');
    if (seq !== state.seq) return;
    state.redraw = () => drawPolicy(pol);
    drawPolicy(pol);
  } catch (err) {
    if (seq === state.seq) handleError(err);
  }
}

/** @param {IdentityPolicy} pol @param {boolean} [saved] */
function drawPolicy(pol, saved = false) {
  const admin = state.account?.role === 'admin';
  setMain(
    h('nav', { class: 'crumbs' }, h('a', { href: '/staff/', 'data-link': '', text: `← ${t('staff.cases.title')}` })),
    h('section', { class: 'panel', 'data-testid': 'identity-policy', 'aria-labelledby': 'identity-policy-heading' },
      h('h1', { id: 'identity-policy-heading', text: t('staff.identity.policyTitle') }),
      h('p', { class: 'hint', text: t('staff.identity.policyIntro') }),
      h('dl', { class: 'details' },
        h('dt', { text: t('staff.identity.numbers') }),
        h('dd', { 'data-testid': 'policy-show-numbers', 'data-raw': String(pol.store_raw_numbers),
          text: t(pol.store_raw_numbers ? 'staff.identity.numbersRaw' : 'staff.identity.numbersMasked') }),
        h('dt', { text: t('staff.identity.retention') }),
        h('dd', { 'data-testid': 'policy-show-retention', 'data-days': String(pol.image_retention_days),
          text: t('staff.identity.days', { n: pol.image_retention_days }) })),
      saved ? h('p', { class: 'note', role: 'status', 'data-testid': 'policy-saved', text: t('staff.identity.policySaved') }) : null,
      admin ? null : h('p', { class: 'muted', 'data-testid': 'policy-read-only', text: t('staff.hours.readOnly') })),
    admin ? policyForm(pol) : null);
}

/** @param {IdentityPolicy} pol */
function policyForm(pol) {
  const raw = checkbox(t('staff.identity.rawLabel'), { name: 'raw', 'data-testid': 'policy-raw' });
  const rawInput = /** @type {HTMLInputElement} */ (raw.querySelector('input'));
  rawInput.checked = pol.store_raw_numbers;
  const days = /** @type {HTMLInputElement} */ (h('input', { type: 'number', name: 'days', min: 1, max: MAX_RETENTION_DAYS, step: 1, required: true,
    'data-testid': 'policy-retention', value: String(pol.image_retention_days) }));
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'policy-save', text: t('staff.identity.policySave') }));
  const error = errorBox('policy-error');
  const form = h('form', { class: 'panel', 'aria-labelledby': 'identity-policy-form-heading', novalidate: true },
    h('h2', { id: 'identity-policy-form-heading', text: t('staff.identity.policyChange') }),
    raw,
    h('p', { class: 'hint', text: t('staff.identity.rawHint') }),
    field(t('staff.identity.retention'), days, t('staff.identity.retentionHint', { max: MAX_RETENTION_DAYS })),
    h('div', { class: 'actions' }, submit),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    const n = parseRetention(days.value);
    if (n === null) {
      showError(error, t('staff.identity.retentionInvalid', { max: MAX_RETENTION_DAYS }));
      days.focus();
      return;
    }
    submit.disabled = true;
    try {
      /** @type {IdentityPolicy} */
      const saved = await api.request('PUT', '/api/v1/identity/policy', { store_raw_numbers: rawInput.checked, image_retention_days: n });
      state.redraw = () => drawPolicy(saved);
      drawPolicy(saved, true);
      announce(t('staff.identity.policySaved'));
    } catch (err) {
      handleError(err, error);
      submit.disabled = false;
    }
  });
  return form;
}
