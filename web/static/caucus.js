// @ts-check
/**
 * A host's private rooms (caucuses) and recording pause (docs/protocol.md,
 * "Private rooms (caucus)"): the dialog that opens a private room with
 * some participants, recorded or (by default) not; the host panel's list
 * of private rooms with Go to, Back to the joint room and Close, and
 * Bring everyone back; pausing the recording with a reason and resuming
 * it. Also what a participant sees when a host asks them to show the
 * room. What everyone sees of the rooms is in rooms.js.
 *
 * @module caucus
 */

import { t } from './i18n.js';
import { $, el } from './dom.js';
import { announce, client, isHost, roleLabel, state } from './page.js';
import { ask } from './dialog.js';
import { myRoom, nameWithRole, roleText, roomName } from './rooms.js';

/** Longest reason of a recording pause, in characters. */
const MAX_REASON = 500;

/** Most participants a private room is opened with. */
const MAX_MEMBERS = 16;

/** The words of the request to show the room, by the host's role. */
const VIEW_TEXT = {
  notary: 'view.text.notary',
  mediator: 'view.text.mediator',
  judge: 'view.text.judge',
};

/** Wires the dialog and the host panel's buttons; once, at start. */
export function setupCaucus() {
  const dialog = /** @type {HTMLDialogElement} */ ($('caucus-dialog'));
  $('caucus-open').addEventListener('click', () => openCaucusDialog([]));
  $('caucus-close-all').addEventListener('click', () => {
    if (client.closeAllCaucuses()) announce(t('caucus.closedAll'));
  });
  $('caucus-cancel').addEventListener('click', () => dialog.close(''));
  $('caucus-record').addEventListener('change', renderRecordNote);
  $('caucus-form').addEventListener('submit', (e) => {
    const chosen = chosenMembers();
    const error = $('caucus-error');
    if (chosen.length === 0 || chosen.length > MAX_MEMBERS) {
      e.preventDefault();
      error.textContent = t(chosen.length === 0 ? 'caucus.dialog.none' : 'caucus.dialog.tooMany', { n: MAX_MEMBERS });
      error.hidden = false;
      /** @type {HTMLElement | null} */ ($('caucus-people').querySelector('input'))?.focus();
    }
  });
  $('recording-toggle').addEventListener('click', toggleRecording);
}

/** @returns {string[]} the ids ticked in the dialog */
function chosenMembers() {
  return [...$('caucus-people').querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
}

function renderRecordNote() {
  const record = /** @type {HTMLInputElement} */ ($('caucus-record'));
  const note = $('caucus-record-note');
  if (!state.sessionRecord) {
    note.textContent = t('caucus.dialog.sessionNotRecorded');
    note.classList.remove('is-warning');
    return;
  }
  note.textContent = t(record.checked ? 'caucus.dialog.willRecord' : 'caucus.dialog.willNotRecord');
  note.classList.toggle('is-warning', !record.checked);
}

/**
 * Asks the host with whom to open a private room, and opens it.
 * @param {string[]} preselected ids ticked at first
 */
export async function openCaucusDialog(preselected) {
  if (!isHost()) return;
  const dialog = /** @type {HTMLDialogElement} */ ($('caucus-dialog'));
  const people = [...state.participants.values()];
  const list = $('caucus-people');
  list.replaceChildren(...people.map((p) => {
    const label = el('label', 'check-row caucus-person', { 'data-testid': 'caucus-person', 'data-participant-id': p.id });
    const box = /** @type {HTMLInputElement} */ (el('input', '', { type: 'checkbox', value: p.id, 'data-testid': 'caucus-person-check' }));
    box.checked = preselected.includes(p.id);
    const text = el('span');
    const where = (p.room ?? '') === '' ? '' : ` · ${roomName(p.room ?? '')}`;
    text.textContent = `${p.name} (${roleText(p)})${where}`;
    label.append(box, text);
    return label;
  }));
  if (people.length === 0) {
    const none = el('p', 'muted');
    none.textContent = t('caucus.dialog.nobody');
    list.append(none);
  }
  const record = /** @type {HTMLInputElement} */ ($('caucus-record'));
  record.checked = false; // never recorded unless the host says so
  $('caucus-record-row').hidden = !state.sessionRecord;
  renderRecordNote();
  $('caucus-error').hidden = true;
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  dialog.returnValue = '';
  dialog.showModal();
  const first = /** @type {HTMLInputElement | null} */ (list.querySelector('input:checked') ?? list.querySelector('input'));
  first?.focus();
  const ok = await new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
  if (opener?.isConnected) opener.focus();
  const members = chosenMembers();
  if (!ok || members.length === 0) return;
  if (client.openCaucus(members, state.sessionRecord && record.checked)) {
    announce(t('caucus.opened', { names: members.map(nameWithRole).join(t('caucus.listSeparator')) }));
  }
}

/** Closes the dialog, if open (the call ended meanwhile). */
export function closeCaucusDialog() {
  const dialog = /** @type {HTMLDialogElement} */ ($('caucus-dialog'));
  if (dialog.open) dialog.close('');
}

// ---- The host panel ------------------------------------------------------------

/** Fills the private rooms and recording sections of the host panel. */
export function renderCaucusPanel() {
  if (!isHost()) return;
  const mine = myRoom();
  const list = $('caucus-list');
  list.replaceChildren(...state.rooms.map((room) => {
    const item = el('li', 'caucus-room', { 'data-testid': 'caucus-room', 'data-room-id': room.id });
    const headId = `caucus-room-${room.id}`;
    const head = el('p', 'caucus-room-head', { id: headId });
    const name = el('strong');
    name.textContent = roomName(room.id);
    const policy = el('span', room.record && state.sessionRecord ? 'caucus-policy' : 'caucus-policy is-unrecorded', { 'data-testid': 'caucus-room-policy' });
    policy.textContent = t(room.record && state.sessionRecord ? 'caucus.policy.recorded' : 'caucus.policy.notRecorded');
    head.append(name, ' · ', policy);
    const members = el('p', 'caucus-members', { 'data-testid': 'caucus-room-members' });
    members.textContent = room.members.map((id) => (id === state.self?.id ? t('you', { name: state.self.name }) : nameWithRole(id)))
      .filter(Boolean).join(t('caucus.listSeparator'));
    const actions = el('div', 'lobby-actions', { role: 'group', 'aria-labelledby': headId });
    const here = mine === room.id;
    const go = el('button', `btn btn-small ${here ? '' : 'btn-primary'}`.trim(), {
      type: 'button', 'data-testid': here ? 'caucus-back' : 'caucus-go',
    });
    go.textContent = here ? t('caucus.back') : t('caucus.go');
    go.setAttribute('aria-label', here ? t('caucus.back') : t('caucus.goTo', { room: roomName(room.id) }));
    go.addEventListener('click', () => client.joinCaucus(here ? '' : room.id));
    const close = el('button', 'btn btn-small btn-danger-outline', { type: 'button', 'data-testid': 'caucus-close' });
    close.textContent = t('caucus.close');
    close.setAttribute('aria-label', t('caucus.closeRoom', { room: roomName(room.id) }));
    close.addEventListener('click', () => client.closeCaucus(room.id));
    actions.append(go, close);
    item.append(head, members, actions);
    return item;
  }));
  $('caucus-empty').hidden = state.rooms.length > 0;
  $('caucus-close-all').hidden = state.rooms.length === 0;

  $('recording-section').hidden = !state.sessionRecord;
  const paused = state.recording.paused;
  $('recording-state').textContent = paused
    ? t('recording.paused', { reason: state.recording.reason })
    : t('recording.running');
  const toggle = $('recording-toggle');
  toggle.textContent = t(paused ? 'recording.resume' : 'recording.pause');
  toggle.className = paused ? 'btn btn-primary' : 'btn';
}

/** Pauses the recording (asking why) or resumes it. */
async function toggleRecording() {
  if (state.recording.paused) {
    client.resumeRecording();
    return;
  }
  const { ok, value } = await ask({
    title: t('recording.pause.title'),
    text: t('recording.pause.text'),
    confirm: t('recording.pause'),
    field: { label: t('recording.pause.field'), max: MAX_REASON, required: true },
  });
  if (ok && value) client.pauseRecording([...value].slice(0, MAX_REASON).join(''));
}

// ---- Asked to show the room ------------------------------------------------------

/**
 * A host asks this participant to pan the camera around the room.
 * @param {{by: string}} detail
 */
export async function onViewRequested({ by }) {
  const host = state.participants.get(by);
  const key = VIEW_TEXT[/** @type {keyof typeof VIEW_TEXT} */ (host?.role ?? '')] ?? 'view.text.host';
  await ask({
    title: t('view.title'),
    text: t(key, { name: host?.name ?? '', role: host ? roleLabel(host.role) : '' }),
    confirm: t('view.ok'),
    noCancel: true,
  });
}
