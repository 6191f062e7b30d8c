// @ts-check
/**
 * The sessions of the case page: one block per session with its schedule,
 * participants, invites (create, copy, revoke) and recording.
 *
 * @module staff-sessions
 */

import { ApiError } from './api.js';
import { t } from './i18n.js';
import { announce, errorBox, field, h, loadingView, newId, select, showError } from './staff-dom.js';
import {
  INVITE_ROLES, PARTICIPANT_LANGUAGES, api, canExport, formatTime, handleError, languageLabel, roleLabel,
  stateLabel, state, timeLines,
} from './staff-common.js';
import { journalBox } from './staff-journal.js';
import { identityBox } from './staff-identity.js';

/** @typedef {import('./api.js').Session} Session */
/** @typedef {import('./api.js').Participant} Participant */
/** @typedef {import('./api.js').InviteInfo} InviteInfo */

export function drawSessions() {
  const list = document.getElementById('sessions');
  if (!list || !state.caseData) return;
  const sessions = [...state.caseData.sessions].sort((a, b) => a.scheduled_start.localeCompare(b.scheduled_start));
  if (sessions.length === 0) {
    list.replaceChildren(h('p', { class: 'muted empty', text: t('staff.sessions.none') }));
    return;
  }
  list.replaceChildren(...sessions.map(sessionBlock));
}

/**
 * Reloads one session and redraws its block.
 * @param {string} id
 */
async function refreshSession(id) {
  const { session } = await api.getSession(id);
  if (!state.caseData) return;
  const i = state.caseData.sessions.findIndex((s) => s.id === id);
  if (i >= 0) state.caseData.sessions[i] = session;
  else state.caseData.sessions.push(session);
  const old = document.querySelector(`[data-testid="session"][data-session-id="${CSS.escape(id)}"]`);
  if (old) old.replaceWith(sessionBlock(session));
  else drawSessions();
}

/** @param {Session} s */
function sessionBlock(s) {
  const rows = [
    s.self_booking ? [t('staff.session.booking'), h('span', { 'data-testid': 'session-booking', 'data-booked': String(Boolean(s.self_booking.booked_at)),
      text: s.self_booking.booked_at ? t('staff.session.bookedAt', { time: formatTime(s.self_booking.booked_at) }) : t('staff.session.toBeBooked') })] : null,
    s.self_booking && !s.self_booking.booked_at ? null : [t('staff.session.scheduled'), timeLines(s.scheduled_start, s.time_zone)],
    s.scheduled_end ? [t('staff.session.ends'), timeLines(s.scheduled_end, s.time_zone)] : null,
    [t('staff.session.recording'), s.record ? t('staff.session.recorded') : t('staff.session.notRecorded')],
    [t('staff.session.waitingRoom'), s.waiting_room ? t('staff.on') : t('staff.off')],
    s.started_at ? [t('staff.session.started'), timeLines(s.started_at, s.time_zone)] : null,
    s.ended_at ? [t('staff.session.ended'), timeLines(s.ended_at, s.time_zone)] : null,
  ].filter((r) => r !== null);
  const headingId = newId('session');
  return h('article', { class: 'session-card', 'data-testid': 'session', 'data-session-id': s.id, 'aria-labelledby': headingId },
    h('header', { class: 'session-head' },
      h('h3', { id: headingId, 'data-testid': 'session-name', text: s.title }),
      h('span', { class: `badge badge-${s.state}`, 'data-testid': 'session-state', text: stateLabel(s.state) }),
      s.record ? h('span', { class: 'badge badge-rec', text: t('staff.session.recorded') }) : null),
    h('dl', { class: 'details' },
      rows.map((r) => [h('dt', { text: /** @type {string} */ (r?.[0]) }), h('dd', {}, r?.[1] ?? '')])),
    h('h4', { text: t('staff.participants.title') }),
    participantsTable(s),
    s.record && s.state !== 'scheduled' ? (s.recording === undefined ? recordingBox(s) : recordingSummary(s)) : null,
    state.caseData?.case.kind === 'notarization' && s.state !== 'scheduled' ? journalBox(s) : null,
    identityBox(s),
    newInvitesBox(s),
    s.state === 'ended' ? null : inviteForm(s));
}

/** @param {Session} s the link to the session's review page */
function reviewLink(s) {
  return h('a', { class: 'btn btn-primary', href: `/staff/sessions/${encodeURIComponent(s.id)}/review`, 'data-link': '',
    'data-testid': 'session-review', text: t('staff.recording.review') });
}

/**
 * The session's recording as the case answer gives it: its state, gaps or
 * failure, retention and legal hold (a toggle for clerks and admins), the
 * link to its review page and, once sealed, the evidence bundle.
 * @param {Session} s
 */
function recordingSummary(s) {
  const r = s.recording;
  const title = h('h4', { text: t('staff.recording.title') });
  if (!r) return h('section', { class: 'recording-box', 'data-testid': 'recording' }, title, h('p', { class: 'muted', text: t('staff.recording.none') }));
  const sealed = r.state === 'sealed';
  const gapCount = Number(r.gap_count ?? 0);
  const error = errorBox('legal-hold-error');
  /** @type {HTMLElement | null} */
  let toggle = null;
  if (sealed && canExport()) {
    const on = r.legal_hold;
    const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: `btn btn-small ${on ? 'btn-danger-outline' : ''}`,
      'data-testid': 'legal-hold-toggle', 'aria-pressed': String(on), text: on ? t('staff.hold.lift') : t('staff.hold.put') }));
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    button.addEventListener('click', async () => {
      // Lifting a hold takes a second click.
      if (on && button.dataset.confirm !== '1') {
        button.dataset.confirm = '1';
        button.textContent = t('staff.hold.liftConfirm');
        timer = setTimeout(() => {
          delete button.dataset.confirm;
          button.textContent = t('staff.hold.lift');
        }, 8000);
        return;
      }
      clearTimeout(timer);
      button.disabled = true;
      showError(error, '');
      try {
        await api.setLegalHold(s.id, !on);
        r.legal_hold = !on;
        announce(r.legal_hold ? t('staff.hold.putNotice') : t('staff.hold.liftedNotice'));
        const old = document.querySelector(`[data-testid="session"][data-session-id="${CSS.escape(s.id)}"]`);
        old?.replaceWith(sessionBlock(s));
        /** @type {HTMLElement | null} */ (document.querySelector(`[data-session-id="${CSS.escape(s.id)}"] [data-testid="legal-hold-toggle"]`))?.focus();
      } catch (err) {
        handleError(err, error);
        button.disabled = false;
      }
    });
    toggle = button;
  }
  return h('section', { class: 'recording-box', 'data-testid': 'recording' },
    title,
    h('p', {},
      h('span', { class: `badge badge-rec-${r.state}`, 'data-testid': 'recording-state', 'data-state': r.state, text: recordingStateLabel(r.state) }),
      r.sealed_at ? h('span', { class: 'muted', text: ` ${t('staff.recording.sealedAt', { time: formatTime(r.sealed_at) })}` }) : null),
    r.state === 'failed' && r.failure ? h('p', { class: 'error-text', 'data-testid': 'recording-failure', text: t('staff.recording.failure', { reason: r.failure }) }) : null,
    sealed || r.state === 'failed'
      ? h('p', { class: gapCount ? 'warn-text' : 'muted', 'data-testid': 'recording-gaps', 'data-count': String(gapCount),
        text: gapCount ? t('staff.recording.gaps', { count: gapCount }) : t('staff.recording.noGaps') })
      : null,
    h('dl', { class: 'details' },
      r.retain_until ? [h('dt', { text: t('staff.recording.retainUntil') }), h('dd', { 'data-testid': 'recording-retain' }, h('time', { datetime: r.retain_until, text: formatTime(r.retain_until, { hour: undefined, minute: undefined }) }))] : null,
      sealed ? [h('dt', { text: t('staff.hold.title') }), h('dd', {},
        h('span', { 'data-testid': 'legal-hold', 'data-on': String(r.legal_hold), text: r.legal_hold ? t('staff.hold.on') : t('staff.hold.off') }),
        toggle ? ' ' : null, toggle, error)] : null),
    h('div', { class: 'actions' },
      reviewLink(s),
      sealed && canExport() ? h('a', { class: 'btn', href: api.bundleURL(s.id), download: '', 'data-testid': 'bundle-download', text: t('staff.recording.bundle') }) : null));
}

/** @param {string} st */
function recordingStateLabel(st) {
  return ['recording', 'sealing', 'sealed', 'failed'].includes(st) ? t(`staff.recording.${st}`) : st;
}

/**
 * The session's recording: its state, who was recorded for how long, and
 * for clerks and admins the evidence bundle once sealed. Loads by itself.
 * @param {Session} s
 */
function recordingBox(s) {
  const box = h('section', { class: 'recording-box', 'data-testid': 'recording' }, h('h4', { text: t('staff.recording.title') }), loadingView());
  api.recording(s.id).then((rec) => {
    const mayExport = ['clerk', 'admin'].includes(state.account?.role ?? '');
    const parts = rec.participants.map((/** @type {any} */ p) => h('li', { text: t('staff.recording.participant', {
      name: p.name, minutes: (p.duration_seconds / 60).toFixed(1), segments: p.segments.length }) }));
    box.replaceChildren(
      h('h4', { text: t('staff.recording.title') }),
      h('p', {}, h('span', { class: `badge badge-rec-${rec.state}`, 'data-testid': 'recording-state', 'data-state': rec.state, text: t(`staff.recording.${rec.state}`) }),
        rec.sealed_at ? h('span', { class: 'muted', text: ` ${t('staff.recording.sealedAt', { time: formatTime(rec.sealed_at) })}` }) : null),
      rec.key_id ? h('p', { class: 'muted mono', text: `${t('staff.recording.key')} ${rec.key_id} · SHA-256 ${rec.manifest_sha256.slice(0, 16)}…` }) : null,
      parts.length ? h('ul', { class: 'recorded' }, parts) : null,
      h('div', { class: 'actions' },
        reviewLink(s),
        rec.state === 'sealed' && mayExport
          ? h('a', { class: 'btn', href: api.bundleURL(s.id), download: '', 'data-testid': 'bundle-download', text: t('staff.recording.bundle') })
          : null));
  }).catch((err) => {
    if (err instanceof ApiError && err.code === 'no_recording') {
      box.replaceChildren(h('h4', { text: t('staff.recording.title') }), h('p', { class: 'muted', text: t('staff.recording.none') }));
      return;
    }
    const e = errorBox('recording-error');
    box.replaceChildren(h('h4', { text: t('staff.recording.title') }), e);
    handleError(err, e);
  });
  return box;
}

// ---- Participants and invites ---------------------------------------------------

/** @param {Session} s */
function participantsTable(s) {
  if (s.participants.length === 0) return h('p', { class: 'muted empty', text: t('staff.participants.none') });
  const now = Date.now();
  const rows = s.participants.map((p) => h('tr', { 'data-testid': 'participant', 'data-participant-id': p.id },
    h('td', {}, h('span', { class: 'name', 'data-testid': 'participant-name', text: p.name }), p.email ? h('span', { class: 'sub muted', text: p.email }) : null),
    h('td', {}, roleLabel(p.role), interpreterOf(s, p)),
    h('td', { lang: p.language, text: languageLabel(p.language) }),
    h('td', { class: 'nowrap', text: formatTime(p.consent_at) || '—' }),
    h('td', { class: 'nowrap', text: formatTime(p.joined_at) || '—' }),
    h('td', { class: 'nowrap', text: formatTime(p.left_at) || '—' }),
    h('td', {}, p.invites.length === 0 ? '—' : h('ul', { class: 'invites' },
      [...p.invites].sort((a, b) => b.created_at.localeCompare(a.created_at)).map((inv) => inviteItem(s, p, inv, now))))));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {},
        [t('staff.participant.name'), t('staff.participant.role'), t('staff.participant.language'), t('staff.participant.consent'),
          t('staff.participant.joined'), t('staff.participant.left'), t('staff.participant.invites')].map((label) => h('th', { scope: 'col', text: label })))),
      h('tbody', {}, rows)));
}

/**
 * "Interpreter for Chen Wei", under an interpreter's role.
 * @param {Session} s
 * @param {Participant} p
 */
function interpreterOf(s, p) {
  if (p.role !== 'interpreter' || !p.interprets_for) return null;
  const party = s.participants.find((x) => x.id === p.interprets_for);
  if (!party) return null;
  return h('span', { class: 'sub muted', 'data-testid': 'participant-interprets-for', text: t('staff.participant.interpretsFor', { name: party.name }) });
}

/**
 * Copies text to the clipboard; without a clipboard (plain http, no
 * permission) selects node for Ctrl+C instead. Says which in status.
 * @param {string} text
 * @param {HTMLElement} node what shows the text
 * @param {HTMLElement} status
 */
async function copyText(text, node, status) {
  try {
    if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    status.textContent = t('staff.invite.copied');
  } catch {
    const range = document.createRange();
    range.selectNodeContents(node);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    status.textContent = t('staff.invite.copyManually');
  }
  setTimeout(() => { status.textContent = ''; }, 4000);
}

/**
 * Downloads text as a file, as the browser downloads any link.
 * @param {string} text
 * @param {string} filename
 * @param {string} type
 */
function downloadText(text, filename, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = /** @type {HTMLAnchorElement} */ (h('a', { href: url, download: filename, hidden: true }));
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * One invite of a participant: its state and a Revoke button. The button
 * asks for a second click before it revokes.
 * @param {Session} s
 * @param {Participant} participant
 * @param {InviteInfo} inv
 * @param {number} now
 */
function inviteItem(s, participant, inv, now) {
  const expired = new Date(inv.expires_at).getTime() <= now;
  let status;
  if (inv.revoked_at) status = t('staff.invite.revokedAt', { time: formatTime(inv.revoked_at) });
  else if (expired) status = t('staff.invite.expiredAt', { time: formatTime(inv.expires_at) });
  else status = t('staff.invite.validUntil', { time: formatTime(inv.expires_at) });
  const stateName = inv.revoked_at ? 'revoked' : expired ? 'expired' : 'active';
  const item = h('li', { 'data-testid': 'invite', 'data-invite-id': inv.id, 'data-state': stateName },
    h('span', { class: `invite-status invite-${stateName}`, 'data-testid': 'invite-status', text: status }));
  if (stateName !== 'active' || s.state === 'ended') return item;
  const error = errorBox();
  const label = h('span', { text: t('staff.invite.revoke') });
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', 'data-testid': 'invite-revoke', 'data-invite-id': inv.id },
    label, h('span', { class: 'visually-hidden', text: ` (${participant.name})` })));
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const disarm = () => {
    delete button.dataset.confirm;
    label.textContent = t('staff.invite.revoke');
  };
  button.addEventListener('click', async () => {
    if (button.dataset.confirm !== '1') {
      button.dataset.confirm = '1';
      label.textContent = t('staff.invite.revokeConfirm');
      timer = setTimeout(disarm, 8000);
      return;
    }
    clearTimeout(timer);
    button.disabled = true;
    showError(error, '');
    try {
      await api.revokeInvite(inv.id);
      announce(t('staff.invite.revokedNotice'));
      await refreshSession(s.id);
    } catch (err) {
      handleError(err, error);
      button.disabled = false;
      disarm();
    }
  });
  item.append(' ', button, error);
  return item;
}

/**
 * The links created on this visit, each shown with a Copy button. They are
 * gone after leaving the page: the server keeps only their hashes.
 * @param {Session} s
 */
function newInvitesBox(s) {
  const created = state.newInvites.get(s.id);
  if (!created?.length) return null;
  return h('div', { class: 'new-invites', 'data-testid': 'new-invites' },
    created.map((inv) => {
      const url = h('code', { class: 'invite-url', 'data-testid': 'invite-url', text: inv.url });
      const copied = h('span', { class: 'copied', role: 'status' });
      const copy = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-primary btn-small', 'data-testid': 'invite-copy', text: t('staff.invite.copyLink') }));
      copy.addEventListener('click', () => copyText(inv.url, url, copied));
      return h('div', { class: 'new-invite', 'data-testid': 'new-invite' },
        h('p', { class: 'new-invite-title', text: t('staff.invite.linkFor', { name: inv.name }) }),
        h('div', { class: 'copy-row' }, url, copy, copied),
        h('p', { class: 'note', text: t('staff.invite.once', { time: formatTime(inv.expires_at) }) }),
        inv.invitation ? invitationBox(inv.invitation) : null);
    }));
}

/**
 * The email to send with a new invite: subject and text to copy, and the
 * calendar file to attach.
 * @param {import('./api.js').Invitation} inv
 */
function invitationBox(inv) {
  const titleId = newId('email');
  const subject = h('p', { class: 'invite-subject', 'data-testid': 'invite-subject', text: inv.subject });
  const body = h('pre', { class: 'invite-body', 'data-testid': 'invite-body', tabindex: '0', 'aria-label': t('staff.invite.emailText'), text: inv.body });
  const copied = h('span', { class: 'copied', role: 'status' });
  const copyBoth = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'invite-copy-text', text: t('staff.invite.copyText') }));
  copyBoth.addEventListener('click', () => copyText(`${inv.subject}\n\n${inv.body}`, body, copied));
  const ics = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'invite-ics', text: t('staff.invite.ics') }));
  ics.addEventListener('click', () => downloadText(inv.ics, inv.ics_filename || 'invitation.ics', 'text/calendar;charset=utf-8'));
  return h('section', { class: 'invite-email', 'data-testid': 'invite-email', 'aria-labelledby': titleId },
    h('h5', { id: titleId, text: t('staff.invite.emailTitle') }),
    h('p', { class: 'hint', text: t('staff.invite.emailHint') }),
    h('dl', { class: 'details' },
      h('dt', { text: t('staff.invite.emailSubject') }), h('dd', {}, subject),
      h('dt', { text: t('staff.invite.emailText') }), h('dd', {}, body)),
    h('div', { class: 'copy-row' }, copyBoth, ics, copied));
}

/**
 * The form that invites someone to session s. It is kept across redraws of
 * the session so that what was typed survives.
 * @param {Session} s
 */
function inviteForm(s) {
  const kept = state.inviteForms.get(s.id);
  if (kept) {
    fillParties(kept, s);
    return kept;
  }
  const name = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'name', required: true, maxlength: 100, autocomplete: 'off', 'data-testid': 'invite-name' }));
  const role = select({ name: 'role', 'data-testid': 'invite-role' }, INVITE_ROLES.map((r) => /** @type {[string, string]} */ ([r, roleLabel(r)])), 'party');
  const language = select({ name: 'language', 'data-testid': 'invite-language' }, PARTICIPANT_LANGUAGES.map((l) => /** @type {[string, string]} */ ([l.code, l.name])), 'zh-CN');
  const email = /** @type {HTMLInputElement} */ (h('input', { type: 'email', name: 'email', maxlength: 254, autocomplete: 'off', 'data-testid': 'invite-email' }));
  const interpretsFor = select({ name: 'interprets_for', 'data-testid': 'invite-interprets-for' }, []);
  const interpretsField = field(t('staff.invite.interpretsFor'), interpretsFor, t('staff.invite.interpretsForHint'));
  interpretsField.classList.add('interprets-field');
  interpretsField.dataset.testid = 'invite-interprets-field';
  interpretsField.append(h('span', { class: 'hint interprets-none', hidden: true, text: t('staff.invite.interpretsForNoParty') }));
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'invite-submit', text: t('staff.invite.submit') }));
  const error = errorBox();
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'invite-form' },
    h('fieldset', {},
      h('legend', { text: t('staff.invite.title') }),
      h('div', { class: 'form-row' },
        field(t('staff.participant.name'), name),
        field(t('staff.participant.role'), role),
        field(t('staff.participant.language'), language, t('staff.invite.languageHint')),
        field(t('staff.invite.email'), email),
        interpretsField),
      h('div', { class: 'actions' }, submit),
      error)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    submit.disabled = true;
    try {
      /** @type {{name: string, role: string, language: string, email?: string, interprets_for?: string}} */
      const body = { name: name.value.trim(), role: role.value, language: language.value };
      if (email.value.trim()) body.email = email.value.trim();
      if (role.value === 'interpreter' && interpretsFor.value) body.interprets_for = interpretsFor.value;
      const res = await api.createInvite(s.id, body);
      const list = state.newInvites.get(s.id) ?? [];
      list.push({ name: body.name, url: res.url, expires_at: res.expires_at, invitation: res.invitation });
      state.newInvites.set(s.id, list);
      form.reset();
      role.value = 'party';
      language.value = 'zh-CN';
      showInterprets();
      await refreshSession(s.id);
      announce(t('staff.invite.created', { name: body.name }));
      const copies = document.querySelectorAll(`[data-session-id="${CSS.escape(s.id)}"] [data-testid="invite-copy"]`);
      /** @type {HTMLElement | undefined} */ (copies[copies.length - 1])?.focus();
    } catch (err) {
      handleError(err, error);
    } finally {
      submit.disabled = false;
    }
  });
  const showInterprets = () => { interpretsField.hidden = role.value !== 'interpreter'; };
  role.addEventListener('change', showInterprets);
  fillParties(form, s);
  showInterprets();
  state.inviteForms.set(s.id, form);
  return form;
}

/**
 * Fills the choice of the party an interpreter interprets for with the
 * session's parties, keeping the choice made.
 * @param {HTMLFormElement} form
 * @param {Session} s
 */
function fillParties(form, s) {
  const choice = /** @type {HTMLSelectElement | null} */ (form.querySelector('[data-testid="invite-interprets-for"]'));
  if (!choice) return;
  const before = choice.value;
  const parties = s.participants.filter((p) => p.role === 'party');
  choice.replaceChildren(h('option', { value: '', text: t('staff.invite.interpretsForNone') }),
    ...parties.map((p) => h('option', { value: p.id, text: p.name })));
  choice.value = parties.some((p) => p.id === before) ? before : '';
  choice.disabled = parties.length === 0;
  const none = /** @type {HTMLElement | null} */ (form.querySelector('.interprets-none'));
  if (none) none.hidden = parties.length > 0;
}
