// @ts-check
/**
 * The review page of a recorded session (/staff/sessions/{id}/review), for
 * the clerk who comes back months later to show what was said and prove
 * that it was not altered: the timeline (timeline.js), the synchronized
 * player (player.js), the integrity check on demand, the export (evidence
 * bundle and printable certificate) and who accessed the recording.
 *
 * @module staff-review
 */

import { ApiError } from './api.js';
import { getLanguage, has, t } from './i18n.js';
import { browserZone, formatInstant } from './tz.js';
import { announce, errorBox, h, loadingView, setMain } from './staff-dom.js';
import {
  api, canAudit, canExport, detailText, formatBytes, formatTime, handleError, kindLabel, state, timeLines,
} from './staff-common.js';
import { drawTimeline, fromRecording, normalize } from './timeline.js';
import { SyncPlayer } from './player.js';
import { buildTracks, screenTrackID, spanOf } from './playclock.js';

/** @typedef {import('./api.js').Session} Session */
/** @typedef {import('./api.js').Case} Case */
/** @typedef {import('./api.js').AuditEntry} AuditEntry */
/** @typedef {import('./timeline.js').Model} Model */

const AUDIT_PAGE = 500;

/** Actions the access log keeps (as access=1 does on the node). */
const ACCESS = new Set(['case.view', 'recording.view', 'recording.play', 'recording.timeline', 'recording.verify',
  'recording.certificate', 'recording.export', 'audit.view', 'audit.export']);

/**
 * @typedef {object} Review
 * @property {Session} session
 * @property {Case} kase
 * @property {any} recording the listing, null when none
 * @property {Model | null} model
 * @property {string} timelineNote an i18n key when the timeline is built from the listing
 * @property {any} verify the last check's answer
 * @property {AuditEntry[]} audit
 * @property {boolean} auditMore
 * @property {SyncPlayer | null} player
 * @property {number} [bundleBytes] the bundle's exact size, once known
 */

/** @type {Review | null} */
let review = null;

/** @param {string} id */
export async function showReview(id) {
  const seq = state.seq;
  setMain(loadingView());
  try {
    const { session, case: kase } = await api.getSession(id);
    const [recording, timeline] = await Promise.all([
      api.recording(id).catch((err) => {
        if (err instanceof ApiError && err.code === 'no_recording') return null;
        throw err;
      }),
      api.timeline(id).catch((err) => {
        if (err instanceof ApiError && (err.status === 404 || err.status === 409)) return null;
        throw err;
      }),
    ]);
    if (seq !== state.seq) return;
    let model = timeline ? normalize(timeline) : null;
    let timelineNote = '';
    if (!model && recording) {
      model = normalize(fromRecording(recording, session.time_zone));
      timelineNote = 'staff.timeline.fromRecording';
    }
    review = { session, kase, recording, model, timelineNote, verify: null, audit: [], auditMore: false, player: null };
    draw();
    state.redraw = () => {
      const keep = review?.player ? { at: review.player.clock.now(performance.now()), rate: review.player.clock.rate } : null;
      state.cleanup();
      draw();
      if (keep && review?.player) {
        review.player.seek(keep.at);
        review.player.setRate(keep.rate);
      }
    };
    if (canAudit()) loadAudit(true);
  } catch (err) {
    if (seq === state.seq) handleError(err);
  }
}

function draw() {
  const r = review;
  if (!r) return;
  const { session: s, kase: c } = r;
  document.title = `${s.title} · ${c.number} · 跨洋 Kuayang`;
  const viewerZone = browserZone();
  const rec = r.recording;
  const sealed = rec?.state === 'sealed';

  /** @type {HTMLElement} */
  let timelineBody;
  /** @type {HTMLElement} */
  let playerBody;
  /** @type {ReturnType<typeof drawTimeline> | null} */
  let tl = null;
  r.player = null;
  if (rec && r.model) {
    const model = r.model;
    const tracks = buildTracks(rec);
    const span = spanOf(tracks, { start: new Date(model.start).toISOString(), end: new Date(model.end).toISOString() }) ?? { start: model.start, end: model.end };
    /** @type {{id: string, name: string, role: string}[]} */
    const people = model.lanes.map((l) => ({ id: l.id, name: l.name, role: l.role }));
    for (const p of rec.participants ?? []) {
      if (!people.some((x) => x.id === p.id)) people.push({ id: p.id, name: p.name, role: p.role });
    }
    // Each screen share plays in a tile of its own, after its sharer's.
    for (const tr of tracks) {
      const owner = tr.id.endsWith('~screen') ? people.findIndex((x) => screenTrackID(x.id) === tr.id) : -1;
      if (owner >= 0) people.splice(owner + 1, 0, { id: tr.id, name: t('staff.player.screen', { name: tr.name }), role: tr.role });
    }
    /** @type {SyncPlayer | null} */
    let player = null;
    tl = drawTimeline(model, { viewerZone, onSeek: (ms) => player?.seek(ms) });
    player = new SyncPlayer({
      recording: rec, people, span, timeline: model, viewerZone,
      fetchLinks: (play) => api.recording(s.id, { play }),
      onTime: (ms) => tl?.setTime(ms),
      onError: (err) => { if (err instanceof ApiError && err.unauthenticated) handleError(err); },
    });
    r.player = player;
    const timelineView = tl;
    state.cleanup = () => {
      player?.destroy();
      timelineView.destroy();
      if (review === r) r.player = null;
    };
    timelineBody = h('div', {},
      r.timelineNote ? h('p', { class: 'hint', text: t(r.timelineNote) }) : null,
      h('p', { class: 'hint', text: t('staff.timeline.hint', { zone: viewerZone }) }),
      tl.element);
    playerBody = player.element;
  } else {
    const none = h('p', { class: 'muted', 'data-testid': 'review-none', text: t('staff.recording.none') });
    timelineBody = none;
    playerBody = h('p', { class: 'muted', text: t('staff.recording.none') });
  }

  setMain(
    h('nav', { class: 'crumbs' },
      h('a', { href: '/staff/', 'data-link': '', text: t('staff.cases.title') }), ' / ',
      h('a', { href: `/staff/cases/${encodeURIComponent(c.id)}`, 'data-link': '', 'data-testid': 'review-case-link', text: c.number })),
    header(r, viewerZone),
    h('section', { class: 'panel', 'aria-labelledby': 'timeline-heading' },
      h('h2', { id: 'timeline-heading', text: t('staff.timeline.title') }),
      timelineBody),
    h('section', { class: 'panel', 'aria-labelledby': 'player-heading' },
      h('h2', { id: 'player-heading', text: t('staff.player.title') }),
      playerBody),
    rec ? integritySection(r) : null,
    rec && canExport() ? exportSection(r, sealed) : null,
    canAudit() ? accessSection(r) : null,
  );
  if (canAudit()) drawAudit();
}

/**
 * The session, its case and its recording's state.
 * @param {Review} r
 * @param {string} viewerZone
 */
function header(r, viewerZone) {
  const { session: s, kase: c, recording: rec } = r;
  const rows = [
    [t('staff.case.kind'), kindLabel(c.kind)],
    [t('staff.session.scheduled'), timeLines(s.scheduled_start, s.time_zone)],
    s.started_at ? [t('staff.session.started'), timeLines(s.started_at, s.time_zone)] : null,
    s.ended_at ? [t('staff.session.ended'), timeLines(s.ended_at, s.time_zone)] : null,
    rec ? [t('staff.recording.title'), [
      h('span', { class: `badge badge-rec-${rec.state}`, 'data-testid': 'recording-state', 'data-state': rec.state,
        text: has(`staff.recording.${rec.state}`) ? t(`staff.recording.${rec.state}`) : rec.state }),
      rec.sealed_at ? h('span', { class: 'muted', text: ` ${t('staff.recording.sealedAt', { time: formatTime(rec.sealed_at) })}` }) : null,
      rec.failure ? h('span', { class: 'error-text sub', text: t('staff.recording.failure', { reason: rec.failure }) }) : null,
    ]] : null,
    rec?.retain_until ? [t('staff.recording.retainUntil'), formatTime(rec.retain_until, { hour: undefined, minute: undefined })] : null,
    rec?.state === 'sealed' ? [t('staff.hold.title'), rec.legal_hold ? t('staff.hold.on') : t('staff.hold.off')] : null,
    [t('staff.review.yourZone'), viewerZone],
  ].filter((x) => x !== null);
  return h('header', { class: 'panel case-header', 'data-testid': 'review', 'data-session-id': s.id },
    h('h1', { 'data-testid': 'review-heading', text: s.title }),
    h('p', { class: 'case-title' }, h('span', { text: c.number }), ' · ', h('span', { text: c.title })),
    h('dl', { class: 'details' }, rows.map((row) => [h('dt', { text: /** @type {string} */ (row?.[0]) }), h('dd', {}, row?.[1] ?? '')])));
}

// ---- Integrity -----------------------------------------------------------------------

/** @param {Review} r */
function integritySection(r) {
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'verify-button', text: t('staff.verify.button') }));
  const result = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    result.replaceChildren(h('p', { class: 'muted', role: 'status', 'data-testid': 'verify-running', text: t('staff.verify.running') }));
    try {
      r.verify = await api.verify(r.session.id);
      drawVerify(result, r.verify);
      announce(r.verify.ok ? t('staff.verify.okShort') : t('staff.verify.badShort'));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'not_sealed') {
        result.replaceChildren(h('p', { class: 'note', 'data-testid': 'verify-not-sealed', text: t('staff.verify.notSealed') }));
      } else {
        const box = errorBox('verify-error');
        result.replaceChildren(box);
        handleError(err, box);
      }
    } finally {
      button.disabled = false;
    }
    if (canAudit()) loadAudit(true);
  });
  if (r.verify) drawVerify(result, r.verify);
  return h('section', { class: 'panel', 'aria-labelledby': 'verify-heading', 'data-testid': 'integrity' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'verify-heading', text: t('staff.verify.title') }), button),
    h('p', { class: 'hint', text: t('staff.verify.hint') }),
    result);
}

/**
 * Shows the answer of a check: green when intact, red with what is wrong.
 * @param {HTMLElement} box
 * @param {any} v
 */
function drawVerify(box, v) {
  const zone = browserZone();
  const sealedAt = Date.parse(v.sealed_at ?? '');
  const when = Number.isFinite(sealedAt) ? `${formatInstant(sealedAt, 'UTC')} UTC` : '—';
  const problem = v.problem && typeof v.problem === 'object' ? v.problem : null;
  const code = problem?.code ? String(problem.code) : '';
  const headline = v.ok
    ? t('staff.verify.intact', { key: v.key_id || '—', node: v.node || '—', time: when })
    : t('staff.verify.broken', { problem: code && has(`staff.verify.problem.${code}`) ? t(`staff.verify.problem.${code}`) : (code || t('staff.verify.unknown')) });
  const checkedAt = Date.parse(v.checked_at ?? '');
  /** @type {[string, string | Node, string?][]} */
  const rows = [
    [t('staff.verify.key'), v.key_id || '—'],
    [t('staff.verify.fingerprint'), v.key_fingerprint || '—', 'verify-fingerprint'],
    [t('staff.verify.node'), v.node || '—'],
    [t('staff.verify.sealedAt'), Number.isFinite(sealedAt) ? `${when} · ${formatInstant(sealedAt, zone)} ${zone}` : '—'],
    [t('staff.verify.manifest'), v.manifest_sha256 || '—', 'verify-manifest'],
    [t('staff.verify.chainHead'), v.chain_head || '—', 'verify-chain'],
    [t('staff.verify.segments'), String(v.segments_checked ?? 0), 'verify-segments'],
    [t('staff.verify.bytes'), `${formatBytes(v.bytes_checked ?? 0)} (${Number(v.bytes_checked ?? 0).toLocaleString('en-US')} B)`, 'verify-bytes'],
    [t('staff.verify.checkedAt'), Number.isFinite(checkedAt) ? `${formatInstant(checkedAt, zone)} ${zone}` : '—'],
  ];
  box.replaceChildren(h('div', { class: `verify ${v.ok ? 'verify-ok' : 'verify-bad'}`, 'data-testid': 'verify-result', 'data-ok': String(Boolean(v.ok)), role: 'status' },
    h('p', { class: 'verify-head' },
      h('span', { class: 'verify-icon', 'aria-hidden': 'true', text: v.ok ? '✓' : '✗' }),
      h('strong', { 'data-testid': 'verify-headline', text: v.ok ? t('staff.verify.okShort') : t('staff.verify.badShort') })),
    h('p', { 'data-testid': 'verify-summary', text: headline }),
    problem?.detail ? h('p', { class: 'verify-problem', 'data-testid': 'verify-problem', 'data-code': code, text: String(problem.detail) }) : null,
    // The node's own words (English), beside the translation.
    v.summary && getLanguage() !== 'en' ? h('p', { class: 'muted sub', lang: 'en', 'data-testid': 'verify-node-summary', text: String(v.summary) }) : null,
    h('dl', { class: 'details verify-details' },
      rows.map(([label, value, testid]) => [h('dt', { text: label }), h('dd', { class: 'mono', 'data-testid': testid ?? null }, value)]))));
}

// ---- Export --------------------------------------------------------------------------

/**
 * @param {Review} r
 * @param {boolean} sealed
 */
function exportSection(r, sealed) {
  const id = r.session.id;
  // Segments sealed to the mediator (no link for this viewer) are not in
  // their bundle.
  const segments = (r.recording?.participants ?? []).flatMap((/** @type {any} */ p) => p.segments ?? [])
    .filter((/** @type {any} */ sg) => !sg.sealed || sg.url);
  const bytes = segments.reduce((/** @type {number} */ n, /** @type {any} */ sg) => n + (Number(sg.bytes) || 0), 0);
  const refresh = () => { if (canAudit()) setTimeout(() => loadAudit(true), 1500); };
  if (!sealed) {
    return h('section', { class: 'panel', 'aria-labelledby': 'export-heading', 'data-testid': 'export' },
      h('h2', { id: 'export-heading', text: t('staff.export.title') }),
      h('p', { class: 'muted', text: t('staff.export.notSealed') }));
  }
  const bundle = h('a', { class: 'btn btn-primary', href: api.bundleURL(id), download: '', 'data-testid': 'review-bundle', text: t('staff.export.bundle') });
  // The media's size first, then the bundle's exact size as the node
  // will send it (Content-Length of a HEAD request, which is no export).
  const size = h('span', { class: 'muted', 'data-testid': 'bundle-size', 'data-bytes': String(bytes), 'data-exact': 'false', title: `${bytes.toLocaleString('en-US')} B`,
    text: t('staff.export.size', { size: formatBytes(bytes), segments: segments.length }) });
  const exact = r.bundleBytes;
  const showExact = (/** @type {number} */ n) => {
    size.dataset.bytes = String(n);
    size.dataset.exact = 'true';
    size.title = `${n.toLocaleString('en-US')} B`;
    size.textContent = t('staff.export.sizeExact', { size: formatBytes(n), bytes: n.toLocaleString(getLanguage()), segments: segments.length });
  };
  if (exact) showExact(exact);
  else {
    api.bundleSize(id).then((n) => {
      if (!n || review !== r) return;
      r.bundleBytes = n;
      showExact(n);
    }).catch(() => { /* the estimate stays */ });
  }
  bundle.addEventListener('click', refresh);
  const certificate = h('a', { class: 'btn', href: api.certificateURL(id), target: '_blank', rel: 'noopener', 'data-testid': 'certificate-link', text: t('staff.export.certificate') });
  certificate.addEventListener('click', refresh);
  return h('section', { class: 'panel', 'aria-labelledby': 'export-heading', 'data-testid': 'export' },
    h('h2', { id: 'export-heading', text: t('staff.export.title') }),
    h('p', { class: 'hint', text: t('staff.export.hint') }),
    h('div', { class: 'actions' }, bundle, size),
    h('div', { class: 'actions' }, certificate, h('span', { class: 'muted', text: t('staff.export.certificateHint') })),
    h('p', { class: 'hint' }, t('staff.export.verifyHint'), ' ', h('code', { text: 'kuayang verify bundle.zip' })));
}

// ---- Who accessed it -------------------------------------------------------------------

/** @param {Review} r */
function accessSection(r) {
  const caseId = r.kase.id;
  return h('section', { class: 'panel', 'aria-labelledby': 'access-heading', 'data-testid': 'access' },
    h('div', { class: 'panel-head' },
      h('h2', { id: 'access-heading', text: t('staff.access.title') }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'access-refresh', text: t('staff.audit.refresh'), onclick: () => loadAudit(true) }),
        h('a', { class: 'btn btn-small', href: api.auditCSVURL({ case_id: caseId, access: 1 }), download: '', 'data-testid': 'access-csv', text: t('staff.access.csv') }))),
    h('p', { class: 'hint', text: t('staff.access.hint') }),
    h('div', { id: 'access-body' }, loadingView()));
}

/**
 * Loads the case's access entries, from the start or after those shown.
 * @param {boolean} reset
 */
async function loadAudit(reset) {
  const r = review;
  if (!r) return;
  const seq = state.seq;
  const after = reset || r.audit.length === 0 ? 0 : r.audit[r.audit.length - 1].seq;
  try {
    const { entries } = await api.audit({ case_id: r.kase.id, access: 1, after_seq: after || undefined, limit: AUDIT_PAGE });
    if (seq !== state.seq || review !== r) return;
    const kept = entries.filter((e) => ACCESS.has(e.action));
    r.audit = reset ? kept : [...r.audit, ...kept];
    r.auditMore = entries.length === AUDIT_PAGE;
    drawAudit();
  } catch (err) {
    if (seq !== state.seq) return;
    const box = errorBox('access-error');
    document.getElementById('access-body')?.replaceChildren(box);
    handleError(err, box);
  }
}

function drawAudit() {
  const body = document.getElementById('access-body');
  const r = review;
  if (!body || !r) return;
  if (r.audit.length === 0) {
    body.replaceChildren(h('p', { class: 'muted empty', text: t('staff.audit.none') }));
    return;
  }
  const zone = browserZone();
  const rows = [...r.audit].reverse().map((e) => {
    const ms = Date.parse(e.time);
    return h('tr', { 'data-testid': 'access-row', 'data-seq': String(e.seq), 'data-action': e.action, class: e.session_id === r.session.id ? 'this-session' : null },
      h('td', { class: 'nowrap' }, h('time', { datetime: e.time, title: `${formatInstant(ms, 'UTC')} UTC`, text: formatInstant(ms, zone) })),
      h('td', { text: e.actor_name || actorFallback(e) }),
      h('td', {}, h('span', { text: has(`staff.action.${e.action}`) ? t(`staff.action.${e.action}`) : e.action }), ' ', h('code', { class: 'sub muted', text: e.action })),
      h('td', { text: !e.session_id ? '—' : e.session_id === r.session.id ? t('staff.access.thisSession') : e.session_id.slice(0, 8) }),
      h('td', { class: 'nowrap' }, h('code', { text: e.ip || '—' })),
      h('td', { class: 'detail', text: detailText(e.detail) }));
  });
  body.replaceChildren(...[
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table audit', 'data-testid': 'access-log' },
        h('caption', { class: 'visually-hidden', text: t('staff.access.title') }),
        h('thead', {}, h('tr', {},
          [t('staff.audit.time'), t('staff.audit.actor'), t('staff.audit.action'), t('staff.access.session'), t('staff.audit.ip'), t('staff.audit.detail')]
            .map((label) => h('th', { scope: 'col', text: label })))),
        h('tbody', {}, rows))),
    r.auditMore ? h('button', { type: 'button', class: 'btn', 'data-testid': 'access-more', text: t('staff.audit.more'), onclick: () => loadAudit(false) }) : null,
  ].filter((x) => x !== null));
}

/** @param {AuditEntry} e */
function actorFallback(e) {
  if (e.actor_kind === 'account' && e.actor_id === state.account?.id) return state.account.name;
  const kind = has(`staff.actor.${e.actor_kind}`) ? t(`staff.actor.${e.actor_kind}`) : e.actor_kind;
  return e.actor_id ? `${kind} ${e.actor_id.slice(0, 8)}` : kind;
}


/** For tests: the player of the page, if any. */
export function currentPlayer() {
  return review?.player ?? null;
}
