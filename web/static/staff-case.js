// @ts-check
/**
 * The case page: its header, its sessions (staff-sessions.js), the form
 * that schedules a session, and for clerks and admins the audit log.
 *
 * @module staff-case
 */

import { t, has } from './i18n.js';
import { COMMON_ZONES, browserZone, formatOffset, wallTimeToInstant, toRFC3339, zoneOffset } from './tz.js';
import { announce, checkbox, errorBox, field, h, loadingView, select, setMain, showError } from './staff-dom.js';
import {
  DEFAULT_ZONE, api, canAudit, detailText, formatSchedule, formatTime, handleError, kindLabel, languageLabel, roleLabel,
  state,
} from './staff-common.js';
import { drawSessions } from './staff-sessions.js';
import { settlementsSection } from './staff-settlements.js';

/** @typedef {import('./api.js').Case} Case */
/** @typedef {import('./api.js').AuditEntry} AuditEntry */

const AUDIT_PAGE = 200;

/** @param {string} id */
export async function showCase(id) {
  const seq = state.seq;
  if (state.caseData?.case.id !== id) {
    state.newInvites.clear();
    state.inviteForms.clear();
    state.audit = [];
  }
  setMain(loadingView());
  try {
    const data = await api.getCase(id);
    if (seq !== state.seq) return;
    state.caseData = data;
    drawCase();
    state.redraw = drawCase;
    if (canAudit()) loadAudit(true);
  } catch (err) {
    if (seq === state.seq) handleError(err);
  }
}

function drawCase() {
  const data = state.caseData;
  if (!data) return;
  const c = data.case;
  document.title = `${c.number} · 跨洋 Kuayang`;
  setMain(
    h('nav', { class: 'crumbs' }, h('a', { href: '/staff/', 'data-link': '', text: `← ${t('staff.cases.title')}` })),
    h('header', { class: 'panel case-header', 'data-testid': 'case', 'data-case-id': c.id },
      h('h1', { 'data-testid': 'case-heading', text: c.number }),
      h('p', { class: 'case-title', 'data-testid': 'case-title-line', text: c.title }),
      h('dl', { class: 'details' },
        h('dt', { text: t('staff.case.kind') }), h('dd', { text: kindLabel(c.kind) }),
        h('dt', { text: t('staff.case.status') }), h('dd', { text: has(`staff.status.${c.status}`) ? t(`staff.status.${c.status}`) : c.status }),
        h('dt', { text: t('staff.case.created') }), h('dd', {}, h('time', { datetime: c.created_at, text: formatTime(c.created_at) })))),
    data.parties ? partiesSection(data.parties) : null,
    h('section', { class: 'panel', 'aria-labelledby': 'sessions-heading' },
      h('h2', { id: 'sessions-heading', text: t('staff.sessions.title') }),
      h('div', { id: 'sessions', class: 'sessions' })),
    settlementsSection(c.id),
    scheduleForm(c),
    canAudit() ? auditSection() : null,
  );
  drawSessions();
  if (canAudit()) drawAudit();
}

/**
 * The parties and interpreters of the case's sessions.
 * @param {import('./api.js').Party[]} parties
 */
function partiesSection(parties) {
  return h('section', { class: 'panel', 'aria-labelledby': 'parties-heading', 'data-testid': 'parties' },
    h('h2', { id: 'parties-heading', text: t('staff.parties.title') }),
    parties.length === 0
      ? h('p', { class: 'muted empty', text: t('staff.parties.none') })
      : h('ul', { class: 'parties' }, parties.map((p) => h('li', { 'data-testid': 'party' },
        h('span', { class: 'name', 'data-testid': 'party-name', text: p.name }),
        h('span', { class: 'badge', text: roleLabel(p.role) }),
        p.language ? h('span', { class: 'muted', lang: p.language, text: languageLabel(p.language) }) : null))));
}

/**
 * The form that schedules a session of case c. The start is a wall time in
 * the chosen zone, converted to an instant here (tz.js).
 * @param {Case} c
 */
function scheduleForm(c) {
  const here = browserZone();
  const zones = [...COMMON_ZONES];
  if (!zones.includes(/** @type {any} */ (here))) zones.push(/** @type {any} */ (here));
  const now = Date.now();
  const title = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'title', required: true, maxlength: 200, autocomplete: 'off', 'data-testid': 'session-title' }));
  const start = /** @type {HTMLInputElement} */ (h('input', { type: 'datetime-local', name: 'start', required: true, step: 60, 'data-testid': 'session-start' }));
  const zone = select({ name: 'zone', 'data-testid': 'session-zone' },
    zones.map((z) => /** @type {[string, string]} */ ([z, `${z} (${formatOffset(zoneOffset(z, now))})${z === here ? ` · ${t('staff.zone.yours')}` : ''}`])),
    DEFAULT_ZONE);
  const preview = h('p', { class: 'hint preview', 'data-testid': 'session-preview', 'aria-live': 'polite' });
  const mediation = c.kind === 'mediation';
  const record = checkbox(t('staff.session.record'), { name: 'record', checked: true, disabled: !mediation, 'data-testid': 'session-record' });
  const waiting = checkbox(t('staff.session.waitingRoomOn'), { name: 'waiting', 'data-testid': 'session-waiting' });
  const selfBooking = checkbox(t('staff.session.selfBooking'), { name: 'self_booking', 'data-testid': 'session-self-booking' });
  const selfBookingInput = /** @type {HTMLInputElement} */ (selfBooking.querySelector('input'));
  selfBookingInput.addEventListener('change', () => { start.required = !selfBookingInput.checked; });
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'session-submit', text: t('staff.session.submit') }));
  const error = errorBox();
  const recordInput = /** @type {HTMLInputElement} */ (record.querySelector('input'));
  const waitingInput = /** @type {HTMLInputElement} */ (waiting.querySelector('input'));

  const updatePreview = () => {
    preview.textContent = '';
    if (!start.value) return;
    const conv = wallTimeToInstant(start.value, zone.value);
    if (!conv) {
      preview.textContent = t('staff.session.badTime');
      return;
    }
    const iso = conv.date.toISOString();
    const parts = [t('staff.session.preview', { time: formatSchedule(iso), zone: here })];
    if (conv.kind === 'gap') parts.push(t('staff.session.gap', { time: formatSchedule(iso, zone.value) }));
    if (conv.kind === 'overlap') parts.push(t('staff.session.overlap', { time: formatSchedule(iso, zone.value) }));
    if (conv.date.getTime() < Date.now()) parts.push(t('staff.session.past'));
    preview.textContent = parts.join(' ');
  };
  start.addEventListener('input', updatePreview);
  start.addEventListener('change', updatePreview);
  zone.addEventListener('change', updatePreview);

  const form = h('form', { class: 'panel schedule-form', 'aria-labelledby': 'schedule-heading' },
    h('h2', { id: 'schedule-heading', text: t('staff.session.new') }),
    field(t('staff.session.title'), title),
    h('div', { class: 'form-row' },
      field(t('staff.session.start'), start),
      field(t('staff.session.zone'), zone, t('staff.session.zoneHint'))),
    preview,
    h('div', { class: 'checks' }, record, waiting, selfBooking),
    h('p', { class: 'hint', text: t('staff.session.selfBookingHint') }),
    mediation ? null : h('p', { class: 'hint', text: t('staff.session.alwaysRecorded') }),
    h('div', { class: 'actions' }, submit),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    const toBook = selfBookingInput.checked && !start.value;
    const conv = toBook ? null : wallTimeToInstant(start.value, zone.value);
    if (!conv && !toBook) {
      showError(error, t(start.value ? 'staff.session.badTime' : 'staff.session.needStart'));
      start.focus();
      return;
    }
    submit.disabled = true;
    try {
      const s = await api.createSession(c.id, {
        title: title.value.trim(),
        scheduled_start: conv ? toRFC3339(conv.date) : undefined,
        time_zone: zone.value,
        record: recordInput.checked,
        waiting_room: waitingInput.checked,
        self_booking: selfBookingInput.checked,
      });
      state.caseData?.sessions.push(s);
      drawSessions();
      /** @type {HTMLFormElement} */ (form).reset();
      zone.value = DEFAULT_ZONE;
      recordInput.checked = true;
      start.required = true;
      preview.textContent = '';
      announce(t('staff.session.created', { title: s.title }));
      document.querySelector(`[data-testid="session"][data-session-id="${CSS.escape(s.id)}"]`)?.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      handleError(err, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// ---- Audit ---------------------------------------------------------------------------

function auditSection() {
  const refresh = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'audit-refresh', text: t('staff.audit.refresh'), onclick: () => loadAudit(true) });
  return h('section', { class: 'panel', 'aria-labelledby': 'audit-heading', 'data-testid': 'audit' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'audit-heading', text: t('staff.audit.title') }), refresh),
    h('div', { id: 'audit-body' }, loadingView()));
}

/**
 * Loads the case's audit log, from the start or after what is shown.
 * @param {boolean} reset
 */
async function loadAudit(reset) {
  const data = state.caseData;
  if (!data) return;
  const seq = state.seq;
  const after = reset || state.audit.length === 0 ? 0 : state.audit[state.audit.length - 1].seq;
  try {
    const { entries } = await api.audit({ case_id: data.case.id, after_seq: after || undefined, limit: AUDIT_PAGE });
    if (seq !== state.seq || state.caseData !== data) return;
    state.audit = reset ? entries : [...state.audit, ...entries];
    state.auditMore = entries.length === AUDIT_PAGE;
    drawAudit();
  } catch (err) {
    if (seq !== state.seq) return;
    const body = document.getElementById('audit-body');
    const box = errorBox('audit-error');
    body?.replaceChildren(box);
    handleError(err, box);
  }
}

/**
 * Who did it, as far as the page can tell: the viewer by name, a
 * participant of the case's sessions by name, else the kind and a short id.
 * @param {AuditEntry} e
 */
function actorText(e) {
  if (e.actor_kind === 'account' && e.actor_id === state.account?.id) return state.account.name;
  if (e.actor_kind === 'participant') {
    for (const s of state.caseData?.sessions ?? []) {
      const p = s.participants.find((x) => x.id === e.actor_id);
      if (p) return `${p.name} (${roleLabel(p.role)})`;
    }
  }
  const kind = has(`staff.actor.${e.actor_kind}`) ? t(`staff.actor.${e.actor_kind}`) : e.actor_kind;
  return e.actor_id ? `${kind} ${e.actor_id.slice(0, 8)}` : kind;
}


function drawAudit() {
  const body = document.getElementById('audit-body');
  if (!body) return;
  if (state.audit.length === 0) {
    body.replaceChildren(h('p', { class: 'muted empty', text: t('staff.audit.none') }));
    return;
  }
  const rows = state.audit.map((e) => h('tr', { 'data-testid': 'audit-row', 'data-seq': String(e.seq), 'data-action': e.action },
    h('td', { class: 'nowrap' }, h('time', { datetime: e.time, text: formatTime(e.time, { second: '2-digit' }) })),
    h('td', {}, h('span', { text: has(`staff.action.${e.action}`) ? t(`staff.action.${e.action}`) : e.action }), ' ', h('code', { class: 'sub muted', text: e.action })),
    h('td', { title: e.actor_id, text: actorText(e) }),
    h('td', { class: 'nowrap' }, h('code', { text: e.ip || '—' })),
    h('td', { class: 'detail', text: detailText(e.detail) })));
  body.replaceChildren(...[
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table audit' },
        h('thead', {}, h('tr', {},
          [t('staff.audit.time'), t('staff.audit.action'), t('staff.audit.actor'), t('staff.audit.ip'), t('staff.audit.detail')].map((label) => h('th', { scope: 'col', text: label })))),
        h('tbody', {}, rows))),
    state.auditMore ? h('button', { type: 'button', class: 'btn', 'data-testid': 'audit-more', text: t('staff.audit.more'), onclick: () => loadAudit(false) }) : null,
  ].filter((x) => x !== null));
}
