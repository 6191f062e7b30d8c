// @ts-check
/**
 * Private rooms (caucuses) and the recording's state as everyone in the
 * call sees them (docs/protocol.md, "Private rooms (caucus)"): the banner
 * that always says which room this person is in and whether it is
 * recorded, the recording indicator or the notice that the recording is
 * paused, where each participant is, and the labels of interpreters.
 * The host's controls are in caucus.js and host.js.
 *
 * @module rooms
 */

import { t } from './i18n.js';
import { $ } from './dom.js';
import { client, roleLabel, state } from './page.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').PrivateRoom} PrivateRoom */

/** @returns {string} the room this person is in, '' for the joint room */
export function myRoom() {
  return state.self?.room ?? '';
}

/**
 * The room a participant (or this person) is in, '' for the joint room.
 * @param {string} id
 */
export function roomOf(id) {
  if (id === state.self?.id) return myRoom();
  return state.participants.get(id)?.room ?? '';
}

/** @param {string} id a private room's id */
export function findRoom(id) {
  return state.rooms.find((r) => r.id === id) ?? null;
}

/**
 * Whether a room is recorded now: the joint room when the session is, a
 * private room only if it was opened recorded.
 * @param {string} room '' for the joint room
 */
export function roomRecorded(room) {
  if (!state.sessionRecord) return false;
  if (room === '') return true;
  return Boolean(findRoom(room)?.record);
}

/**
 * A private room's name: "Private room", numbered when there are several.
 * @param {string} room
 */
export function roomName(room) {
  if (room === '') return t('caucus.joint');
  const i = state.rooms.findIndex((r) => r.id === room);
  return state.rooms.length > 1 && i >= 0 ? t('caucus.privateN', { n: i + 1 }) : t('caucus.private');
}

/**
 * Someone's name for the others: "Zhou Min (Mediator)".
 * @param {string} id
 */
export function nameWithRole(id) {
  const p = id === state.self?.id ? state.self : state.participants.get(id);
  if (!p) return '';
  return t('caucus.nameRole', { name: p.name, role: roleLabel(p.role) });
}

/**
 * The members of a room now (from the participants' `room`), this person
 * included.
 * @param {string} room
 * @returns {string[]} ids
 */
export function membersOf(room) {
  const ids = [...state.participants.values()].filter((p) => (p.room ?? '') === room).map((p) => p.id);
  if (state.self && myRoom() === room) ids.unshift(state.self.id);
  return ids;
}

/**
 * What a tile shows about its participant's place: their label
 * "Interpreter for Chen Wei" or the role.
 * @param {{role: string, interprets_for?: string}} p
 */
export function roleText(p) {
  if (p.role === 'interpreter' && p.interprets_for) {
    const party = p.interprets_for === state.self?.id ? state.self : state.participants.get(p.interprets_for);
    if (party) return t('interpreter.for', { name: party.name });
  }
  return roleLabel(p.role);
}

/** Fills the banner of the room this person is in, and the recording's state. */
export function renderRooms() {
  const banner = $('room-banner');
  const inCall = client.state === 'joined' && client.admitted && Boolean(state.self);
  banner.hidden = !inCall;
  renderRecording();
  if (!inCall) return;
  const room = myRoom();
  const recorded = roomRecorded(room);
  const paused = recorded && state.recording.paused;
  const policy = paused ? t('caucus.policy.paused') : t(recorded ? 'caucus.policy.recorded' : 'caucus.policy.notRecorded');
  let where;
  if (room === '') {
    where = t('caucus.banner.joint');
  } else {
    const others = membersOf(room).filter((id) => id !== state.self?.id).map(nameWithRole).filter(Boolean);
    where = others.length ? t('caucus.banner.private', { names: others.join(t('caucus.listSeparator')) }) : t('caucus.banner.privateAlone');
  }
  banner.dataset.room = room;
  banner.dataset.recorded = String(recorded && !paused);
  banner.classList.toggle('is-private', room !== '');
  banner.classList.toggle('is-unrecorded', !recorded || paused);
  $('room-banner-where').textContent = where;
  $('room-banner-policy').textContent = policy;
  // Who is elsewhere.
  const away = [...state.participants.values()].filter((p) => (p.room ?? '') !== room);
  const note = $('room-banner-away');
  if (away.length === 0) {
    note.hidden = true;
  } else {
    note.hidden = false;
    note.textContent = room === ''
      ? t('caucus.banner.awayPrivate', { names: away.map((p) => p.name).join(t('caucus.listSeparator')) })
      : t('caucus.banner.awayJoint');
  }
}

/** The recording indicator, or the notice that a host paused it. */
export function renderRecording() {
  const joined = client.state === 'joined' || client.state === 'reconnecting';
  const inCall = joined && client.admitted;
  const paused = state.sessionRecord && state.recording.paused;
  $('rec').hidden = !joined || !state.sessionRecord || paused || !roomRecorded(myRoom());
  const box = $('rec-paused');
  box.hidden = !inCall || !paused;
  $('rec-paused-text').textContent = paused ? t('recording.paused', { reason: state.recording.reason }) : '';
}
