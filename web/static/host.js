// @ts-check
/**
 * The host's side of the call (docs/protocol.md, "The waiting room"): the
 * host panel with the waiting room (admit, turn away, write to someone,
 * admit everyone), the raised hands in the order they went up, the room
 * lock and ending the session for everyone; and the alert when someone
 * starts waiting. Shown only to hosts (self.host). The buttons on the
 * others' tiles are in call.js.
 *
 * @module host
 */

import { t } from './i18n.js';
import { $, el, icon } from './dom.js';
import { announce, client, isHost, roleLabel, state } from './page.js';
import { renderControls, setPanel } from './call.js';
import { ask } from './dialog.js';
import { renderCaucusPanel, setupCaucus } from './caucus.js';

/** @typedef {import('./protocol.js').Participant} Participant */

/** Longest message to someone waiting, in characters. */
const MAX_NOTICE = 500;

/** How long the alert of a newcomer stays, in ms. */
const ALERT_MS = 20_000;

/** @type {Set<string>} ids in the waiting room already announced */
let seen = new Set();
/** @type {string[]} ids of the newcomers the alert is about */
let alerted = [];
/** @type {ReturnType<typeof setTimeout> | undefined} */
let alertTimer;

/** Wires the host panel and the alert; once, at start. */
export function setupHost() {
  $('admit-all').addEventListener('click', () => client.admitAll());
  $('lock-room').addEventListener('click', () => client.lock(!state.roomLocked));
  $('end-session').addEventListener('click', confirmEnd);
  $('lobby-alert-show').addEventListener('click', () => {
    hideAlert();
    setPanel('host');
  });
  $('lobby-alert-admit').addEventListener('click', () => {
    for (const id of alerted) client.admit(id);
    hideAlert();
  });
  $('lobby-alert-close').addEventListener('click', hideAlert);
  setupCaucus();
}

/** A new join: nobody is known to wait yet. */
export function resetHost() {
  seen = new Set();
  hideAlert();
  renderHostPanel();
}

/**
 * The waiting room changed (`lobby`).
 * @param {Participant[]} waiting
 */
export function onLobby(waiting) {
  state.lobby = waiting;
  const ids = new Set(waiting.map((p) => p.id));
  const newcomers = waiting.filter((p) => !seen.has(p.id));
  seen = ids;
  alerted = alerted.filter((id) => ids.has(id));
  if (newcomers.length) showAlert(newcomers);
  else if (alerted.length === 0) hideAlert();
  else renderAlert();
  renderHostPanel();
  renderControls();
}

/**
 * The room was locked or unlocked (`room`).
 * @param {boolean} locked
 */
export function onRoom(locked) {
  state.roomLocked = locked;
  renderHostPanel();
  renderControls();
  announce(t(locked ? 'room.locked' : 'room.unlocked'));
}

// ---- The alert ------------------------------------------------------------------

/** @param {Participant[]} newcomers */
function showAlert(newcomers) {
  alerted = [...new Set([...alerted, ...newcomers.map((p) => p.id)])];
  renderAlert();
  const button = $('toggle-host');
  // Restart the badge's pulse (a visual signal, no sound).
  button.classList.remove('is-alerting');
  void button.offsetWidth;
  button.classList.add('is-alerting');
  clearTimeout(alertTimer);
  alertTimer = setTimeout(hideAlert, ALERT_MS);
}

function renderAlert() {
  const box = $('lobby-alert');
  if (!isHost() || alerted.length === 0) {
    box.hidden = true;
    return;
  }
  const names = alerted.map((id) => state.lobby.find((p) => p.id === id)?.name ?? '').filter(Boolean);
  $('lobby-alert-text').textContent = names.length === 1
    ? t('lobby.alert.one', { name: names[0] })
    : t('lobby.alert.many', { n: names.length });
  const admit = $('lobby-alert-admit');
  admit.textContent = names.length === 1 ? t('lobby.admit') : t('lobby.admitThese', { n: names.length });
  $('lobby-alert-show').textContent = t('lobby.show');
  $('lobby-alert-close').setAttribute('aria-label', t('lobby.dismiss'));
  $('lobby-alert-close').replaceChildren(icon('close'));
  // Someone looking at the waiting room already sees the newcomer.
  box.hidden = state.panel === 'host';
}

/** The host looked at the waiting room: the alert has done its job. */
export function dismissLobbyAlert() {
  hideAlert();
}

function hideAlert() {
  clearTimeout(alertTimer);
  alerted = [];
  $('lobby-alert').hidden = true;
  $('toggle-host').classList.remove('is-alerting');
}

// ---- The panel ------------------------------------------------------------------

/** Fills the host panel; again after every change and language switch. */
export function renderHostPanel() {
  if (!isHost()) {
    $('host-panel').hidden = true;
    $('lobby-alert').hidden = true;
    return;
  }
  renderLobby();
  renderHands();
  const lock = $('lock-room');
  lock.setAttribute('aria-pressed', String(state.roomLocked));
  lock.classList.toggle('is-active', state.roomLocked);
  const text = el('span', 'btn-text');
  text.textContent = t(state.roomLocked ? 'room.unlock' : 'room.lock');
  lock.replaceChildren(icon(state.roomLocked ? 'lock' : 'unlock'), text);
  $('lock-state').textContent = t(state.roomLocked ? 'room.lockedHint' : 'room.unlockedHint');
  renderCaucusPanel();
  renderAlert();
}

function renderLobby() {
  const list = $('lobby-list');
  list.replaceChildren(...state.lobby.map(lobbyEntry));
  $('lobby-empty').hidden = state.lobby.length > 0;
  $('lobby-count').textContent = state.lobby.length ? `(${state.lobby.length})` : '';
  const all = /** @type {HTMLButtonElement} */ ($('admit-all'));
  all.hidden = state.lobby.length < 2;
  all.textContent = t('lobby.admitAll');
}

/**
 * @param {Participant} p
 * @returns {HTMLElement}
 */
function lobbyEntry(p) {
  const item = el('li', 'lobby-entry', { 'data-testid': 'lobby-entry', 'data-participant-id': p.id });
  const who = el('div', 'lobby-who');
  const name = el('span', 'lobby-name', { 'data-testid': 'lobby-name' });
  name.textContent = p.name;
  const role = el('span', 'lobby-role');
  role.textContent = roleLabel(p.role);
  const reason = el('span', 'lobby-reason');
  const known = ['waiting_room', 'locked', 'host_absent', 'removed'];
  reason.textContent = t(`lobby.reason.${known.includes(p.reason ?? '') ? p.reason : 'waiting_room'}`);
  who.append(name, role, reason);

  const actions = el('div', 'lobby-actions');
  const admit = button('lobby-admit', t('lobby.admit'), t('lobby.admitName', { name: p.name }), 'btn-primary');
  const reject = button('lobby-reject', t('lobby.reject'), t('lobby.rejectName', { name: p.name }), 'btn-danger-outline');
  const message = button('lobby-message', t('lobby.message'), t('lobby.messageName', { name: p.name }), '');
  admit.addEventListener('click', () => client.admit(p.id));
  reject.addEventListener('click', () => confirmReject(p));
  message.addEventListener('click', () => writeNotice(p));
  actions.append(admit, reject, message);
  item.append(who, actions);
  return item;
}

/**
 * @param {string} testid
 * @param {string} text
 * @param {string} label accessible name, with the person's name
 * @param {string} className
 */
function button(testid, text, label, className) {
  const b = el('button', `btn btn-small ${className}`.trim(), { type: 'button', 'data-testid': testid, 'aria-label': label });
  b.textContent = text;
  return b;
}

/** @param {Participant} p */
async function confirmReject(p) {
  const { ok, value } = await ask({
    title: t('lobby.reject.title', { name: p.name }),
    text: t('lobby.reject.text'),
    confirm: t('lobby.reject.confirm'),
    danger: true,
    field: { label: t('lobby.reject.field'), max: MAX_NOTICE },
  });
  if (ok) client.reject(p.id, [...value].slice(0, MAX_NOTICE).join(''));
}

/** @param {Participant} p */
async function writeNotice(p) {
  const { ok, value } = await ask({
    title: t('lobby.message.title', { name: p.name }),
    confirm: t('lobby.message.send'),
    field: { label: t('lobby.message.field'), max: MAX_NOTICE, required: true },
  });
  if (ok && value && client.notice(p.id, [...value].slice(0, MAX_NOTICE).join(''))) {
    announce(t('lobby.message.sent', { name: p.name }));
  }
}

/** The raised hands, in the order they went up. */
function renderHands() {
  const list = $('hands-list');
  list.replaceChildren(...state.hands.map((id) => {
    const p = id === state.self?.id ? state.self : state.participants.get(id);
    const item = el('li', 'hand-entry', { 'data-testid': 'hand-entry', 'data-participant-id': id });
    item.append(icon('hand'));
    const name = el('span', 'hand-name');
    name.textContent = p ? (p === state.self ? t('you', { name: p.name }) : p.name) : '…';
    const role = el('span', 'lobby-role');
    role.textContent = p ? roleLabel(p.role) : '';
    item.append(name, role);
    return item;
  }));
  $('hands-empty').hidden = state.hands.length > 0;
  $('hands-count').textContent = state.hands.length ? `(${state.hands.length})` : '';
}

/** Asks before ending the session for everyone. */
async function confirmEnd() {
  const { ok, checked, value } = await ask({
    title: t('host.end.title'),
    text: t('host.end.text'),
    confirm: t('host.end.confirm'),
    danger: true,
    check: { label: t('host.end.inPerson'), revealsField: true },
    field: { label: t('host.end.reason'), max: MAX_NOTICE },
  });
  if (ok) client.endSession({ inPerson: checked, reason: checked ? [...value].slice(0, MAX_NOTICE).join('') : '' });
}
