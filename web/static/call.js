// @ts-check
/**
 * The call view of the join page: the video grid with one tile per
 * participant (with a host's controls on the others' tiles) and a large
 * tile per screen being shared, the controls (microphone, camera, screen
 * share, hand, chat, host controls, leave), the side panel
 * switch and the banner of reconnections, notices and transient errors.
 *
 * @module call
 */

import { t } from './i18n.js';
import { $, el, icon } from './dom.js';
import { client, isHost, roleLabel, state } from './page.js';
import { hasTrack } from './media.js';
import { ask } from './dialog.js';
import { myRoom, renderRooms, roleText, roomName, roomOf } from './rooms.js';
import { openCaucusDialog } from './caucus.js';

/** @typedef {import('./protocol.js').Participant} Participant */

// ---- Entering the call ------------------------------------------------------------

/** @param {import('./protocol.js').JoinedDetail} detail */
export function onJoined(detail) {
  state.self = detail.self;
  state.roomLocked = Boolean(detail.room?.locked);
  state.lobby = [];
  state.sessionRecord = Boolean(detail.session.record);
  state.rooms = detail.rooms ?? [];
  state.recording = detail.recording ?? { paused: false, reason: '' };
  setRoster(detail.participants);
  renderRooms();
}

/**
 * In the call after the waiting room: the roster is new.
 * @param {{participants: Participant[], rooms?: import('./protocol.js').PrivateRoom[],
 *   recording?: {paused: boolean, reason: string}}} detail
 */
export function onAdmitted(detail) {
  if (detail.rooms) state.rooms = detail.rooms;
  if (detail.recording) state.recording = detail.recording;
  setRoster(detail.participants);
  renderRooms();
}

/** Back in the waiting room: nobody else is seen or heard. */
export function onWaitingInCall() {
  state.rooms = [];
  setRoster([]);
  renderRooms();
}

/**
 * Rebuilds the grid for the participants present.
 * @param {Participant[]} participants
 */
function setRoster(participants) {
  state.participants = new Map(participants.map((p) => [p.id, p]));
  state.remoteStreams.clear();
  state.hands = [];
  if (state.self?.hand) noteHand(state.self);
  for (const p of participants) noteHand(p);
  const grid = $('grid');
  grid.replaceChildren(createSelfTile());
  for (const p of participants) ensureTile(p.id);
  // A share that goes on across a reconnection keeps its own tile.
  if (client.screenTrack && state.self) showScreen(state.self.id, client.screenTrack);
  renderAllTiles();
  renderControls();
}

/**
 * Keeps the order in which hands went up.
 * @param {Participant} p
 */
export function noteHand(p) {
  const i = state.hands.indexOf(p.id);
  if (p.hand && i < 0) state.hands.push(p.id);
  if (!p.hand && i >= 0) state.hands.splice(i, 1);
}

/** @param {string} id */
export function forgetHand(id) {
  state.hands = state.hands.filter((h) => h !== id);
}

// ---- Tiles --------------------------------------------------------------------

function createSelfTile() {
  const tile = el('figure', 'tile tile-self', { 'data-testid': 'self-tile' });
  const video = /** @type {HTMLVideoElement} */ (el('video', 'mirror', { 'data-testid': 'self-video', playsinline: '', autoplay: '' }));
  video.muted = true;
  tile.append(video, el('div', 'tile-avatar', { 'aria-hidden': 'true' }), createQuality(), createLabel());
  return tile;
}

/** The placeholder of someone in another room: no frozen video. */
function createAway() {
  const away = el('div', 'tile-away', { 'data-testid': 'tile-away' });
  away.append(icon('door'), el('span', 'tile-away-text'));
  return away;
}

/** The signal bars of the connection's quality, filled in by the quality module. */
function createQuality() {
  const quality = el('span', 'quality', { 'data-testid': 'quality', role: 'img', hidden: '' });
  quality.append(icon('signal'));
  return quality;
}

function createLabel() {
  const label = el('figcaption', 'tile-label');
  label.append(
    el('span', 'tile-name'),
    el('span', 'tile-role', { 'data-testid': 'tile-role' }),
    el('span', 'tile-room', { 'data-testid': 'tile-room' }),
    el('span', 'tile-reconnecting', { 'data-testid': 'tile-reconnecting', hidden: '' }),
    el('span', 'indicator indicator-muted', { 'data-testid': 'indicator-muted', role: 'img' }),
    el('span', 'indicator indicator-camera', { 'data-testid': 'indicator-camera-off', role: 'img' }),
    el('span', 'indicator indicator-hand', { 'data-testid': 'indicator-hand', role: 'img' }),
  );
  label.querySelector('.indicator-muted')?.append(icon('mic', true));
  label.querySelector('.indicator-camera')?.append(icon('camera', true));
  label.querySelector('.indicator-hand')?.append(icon('hand'));
  return label;
}

/**
 * A host's buttons on another participant's tile.
 * @param {string} id
 */
function createHostActions(id) {
  const bar = el('div', 'tile-actions', { 'data-testid': 'tile-actions', role: 'group' });
  const mute = el('button', 'btn btn-icon', { type: 'button', 'data-testid': 'tile-mute' });
  const camera = el('button', 'btn btn-icon', { type: 'button', 'data-testid': 'tile-camera-off' });
  const caucus = el('button', 'btn btn-icon', { type: 'button', 'data-testid': 'tile-caucus' });
  const view = el('button', 'btn btn-icon', { type: 'button', 'data-testid': 'tile-show-room' });
  const remove = el('button', 'btn btn-icon btn-icon-danger', { type: 'button', 'data-testid': 'tile-remove' });
  mute.append(icon('mic', true));
  camera.append(icon('camera', true));
  caucus.append(icon('door'));
  view.append(icon('pan'));
  remove.append(icon('remove'));
  mute.addEventListener('click', () => client.mute(id, 'audio'));
  camera.addEventListener('click', () => client.mute(id, 'video'));
  caucus.addEventListener('click', () => openCaucusDialog([id]));
  view.addEventListener('click', () => requestView(id));
  remove.addEventListener('click', () => confirmRemove(id));
  bar.append(mute, camera, caucus, view, remove);
  return bar;
}

/**
 * Asks someone to show the whole room with their camera.
 * @param {string} id
 */
function requestView(id) {
  const name = state.participants.get(id)?.name ?? '';
  if (client.requestView(id)) showBanner(t('view.asked', { name }), 'info', 5000);
}

/**
 * Asks before removing someone from the call.
 * @param {string} id
 */
async function confirmRemove(id) {
  const name = state.participants.get(id)?.name ?? '';
  const { ok } = await ask({
    title: t('host.remove.title', { name }),
    text: t('host.remove.text'),
    confirm: t('host.remove.confirm'),
    danger: true,
  });
  if (ok) client.remove(id);
}

/**
 * Returns the tile of a remote participant, creating it if needed (a
 * track can arrive before participant_joined).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function ensureTile(id) {
  const existing = tileOf(id);
  if (existing) return existing;
  const tile = el('figure', 'tile', { 'data-testid': 'tile', 'data-participant-id': id });
  const video = /** @type {HTMLVideoElement} */ (el('video', '', { 'data-testid': 'tile-video', playsinline: '', autoplay: '' }));
  tile.append(video, el('div', 'tile-avatar', { 'aria-hidden': 'true' }), createAway(), createQuality(), createLabel(), createHostActions(id));
  $('grid').append(tile);
  updateGridLayout();
  return tile;
}

/** @param {string} id */
function tileOf(id) {
  return /** @type {HTMLElement | null} */ (
    $('grid').querySelector(`[data-testid="tile"][data-participant-id="${CSS.escape(id)}"]`));
}

/** @param {string} id */
export function removeTile(id) {
  tileOf(id)?.remove();
  state.remoteStreams.delete(id);
  removeScreenTile(id);
}

// ---- Screen shares ----------------------------------------------------------------

/**
 * The tile of the screen a participant shares (this person's own too),
 * created when missing: large, first in the grid, the main place in
 * speaker view.
 * @param {string} id the participant sharing
 * @param {MediaStreamTrack} track
 */
function showScreen(id, track) {
  let tile = screenTileOf(id);
  if (!tile) {
    const self = id === state.self?.id;
    tile = el('figure', 'tile tile-screen', { 'data-testid': 'screen-tile', 'data-participant-id': id, 'data-self': String(self) });
    const video = /** @type {HTMLVideoElement} */ (el('video', '', { 'data-testid': 'screen-video', playsinline: '', autoplay: '' }));
    video.muted = true; // a screen share carries no sound
    const label = el('figcaption', 'tile-label');
    label.append(el('span', 'tile-name'));
    tile.append(video, label);
    $('grid').append(tile);
  }
  const video = /** @type {HTMLVideoElement} */ (tile.querySelector('video'));
  const current = /** @type {MediaStream | null} */ (video.srcObject);
  if (!current || current.getVideoTracks()[0] !== track) video.srcObject = new MediaStream([track]);
  video.play().catch(() => {});
  renderScreenTile(id);
  updateGridLayout();
}

/** @param {string} id */
function screenTileOf(id) {
  return /** @type {HTMLElement | null} */ (
    $('grid').querySelector(`[data-testid="screen-tile"][data-participant-id="${CSS.escape(id)}"]`));
}

/** @param {string} id */
function removeScreenTile(id) {
  screenTileOf(id)?.remove();
  updateGridLayout();
}

/**
 * Labels a screen tile with whose screen it is.
 * @param {string} id
 */
function renderScreenTile(id) {
  const tile = screenTileOf(id);
  if (!tile) return;
  const self = id === state.self?.id;
  const text = self ? t('screen.yours') : t('screen.of', { name: state.participants.get(id)?.name ?? '…' });
  /** @type {HTMLElement} */ (tile.querySelector('.tile-name')).textContent = text;
  tile.setAttribute('aria-label', text);
}

/**
 * This person's own share started (track) or stopped (null).
 * @param {{track: MediaStreamTrack | null}} detail
 */
export function onOwnScreen({ track }) {
  const id = state.self?.id;
  if (id) {
    if (track) showScreen(id, track);
    else removeScreenTile(id);
  }
  renderControls();
}

/** Shares a screen, or stops sharing it. */
export async function onToggleScreen() {
  if (client.screenTrack) {
    client.stopScreenShare();
    return;
  }
  /** @type {MediaStream} */
  let capture;
  try {
    capture = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (err) {
    // Choosing nothing in the browser's picker is no error.
    if (!(err instanceof DOMException && err.name === 'NotAllowedError')) {
      showBanner(t('screen.failed', { message: err instanceof Error ? err.message : String(err) }), 'error', 8000);
    }
    return;
  }
  const track = capture.getVideoTracks()[0];
  for (const other of capture.getTracks()) if (other !== track) other.stop();
  if (!track || !client.shareScreen(track)) {
    for (const tr of capture.getTracks()) tr.stop();
  }
}

/**
 * Puts the tiles in order: first those in this person's room, then the
 * joint room, then each private room; an interpreter right after the
 * party they interpret for. Only moves what is out of place.
 */
function orderTiles() {
  const grid = $('grid');
  /** @type {{id: string, tile: HTMLElement, room: string, interpretsFor: string}[]} */
  const items = [];
  for (const node of grid.querySelectorAll('.tile:not(.tile-screen)')) {
    const tile = /** @type {HTMLElement} */ (node);
    const self = tile.dataset.testid === 'self-tile';
    const id = self ? state.self?.id ?? '' : tile.dataset.participantId ?? '';
    const p = self ? state.self : state.participants.get(id);
    items.push({ id, tile, room: roomOf(id), interpretsFor: p?.role === 'interpreter' ? p.interprets_for ?? '' : '' });
  }
  const mine = myRoom();
  const roomRank = (/** @type {string} */ room) => {
    if (room === mine) return 0;
    if (room === '') return 1;
    const i = state.rooms.findIndex((r) => r.id === room);
    return 2 + (i < 0 ? state.rooms.length : i);
  };
  const groups = new Map();
  for (const item of items) {
    const rank = roomRank(item.room);
    if (!groups.has(rank)) groups.set(rank, []);
    groups.get(rank).push(item);
  }
  /** @type {HTMLElement[]} */
  const wanted = [];
  for (const rank of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(rank);
    const ids = new Set(group.map((/** @type {{id: string}} */ i) => i.id));
    // Interpreters whose party is in the group follow that party.
    const followers = group.filter((/** @type {{interpretsFor: string}} */ i) => i.interpretsFor && ids.has(i.interpretsFor));
    const placed = new Set();
    const place = (/** @type {{id: string, tile: HTMLElement}} */ item) => {
      if (placed.has(item)) return;
      placed.add(item);
      wanted.push(item.tile);
      for (const f of followers) if (f.interpretsFor === item.id && f !== item) place(f);
    };
    for (const item of group) {
      if (!followers.includes(item)) place(item);
    }
    for (const item of group) place(item);
  }
  // Screens being shared come first, those of this person's room first.
  const screens = [...grid.querySelectorAll('.tile-screen')].map((n) => /** @type {HTMLElement} */ (n));
  screens.sort((a, b) => roomRank(roomOf(a.dataset.participantId ?? '')) - roomRank(roomOf(b.dataset.participantId ?? '')));
  if (!placeTiles([...screens, ...wanted])) return;
  // Moving a tile within the document does not pause its video.
  for (const video of grid.querySelectorAll('video')) {
    const v = /** @type {HTMLVideoElement} */ (video);
    if (v.paused && v.srcObject) v.play().catch(() => {});
  }
}

// ---- Layout: grid or speaker view -------------------------------------------------

/**
 * The layout of the tiles: 'grid' (all alike) or 'speaker' (the featured
 * participant large, the others in a strip that scrolls sideways).
 * @type {'grid' | 'speaker'}
 */
let layout = 'grid';
/** The participant shown large in speaker view: the last other person who spoke. */
let featured = '';
/** @type {HTMLElement | null} the strip of the speaker view */
let strip = null;

/** @param {HTMLElement} tile */
function tileParticipant(tile) {
  return tile.dataset.testid === 'self-tile' ? state.self?.id ?? '' : tile.dataset.participantId ?? '';
}

/**
 * Puts the tiles, in order, where the layout wants them: all in the grid,
 * or the featured one in the grid and the others in the strip.
 * @param {HTMLElement[]} wanted the tiles in order
 * @returns {boolean} whether a tile moved
 */
function placeTiles(wanted) {
  const grid = $('grid');
  grid.dataset.layout = layout;
  /** @type {HTMLElement | null} */
  let main = null;
  if (layout === 'speaker' && wanted.length > 1) {
    main = wanted.find((tile) => tile.classList.contains('tile-screen'))
      ?? wanted.find((tile) => tile.dataset.testid === 'tile' && tileParticipant(tile) === featured)
      ?? wanted.find((tile) => tile.dataset.testid === 'tile' && !tile.classList.contains('is-away'))
      ?? wanted.find((tile) => tile.dataset.testid === 'tile') ?? wanted[0];
  }
  for (const tile of wanted) tile.classList.toggle('is-featured', tile === main);
  /** @type {Element[]} */
  let top = wanted;
  /** @type {HTMLElement[]} */
  let rest = [];
  if (main) {
    if (!strip) strip = el('div', 'strip', { 'data-testid': 'strip', role: 'group', tabindex: '0' });
    strip.setAttribute('aria-label', t('layout.strip'));
    top = [main, strip];
    rest = wanted.filter((tile) => tile !== main);
  }
  let moved = false;
  const same = (/** @type {Element[]} */ a, /** @type {Element[]} */ b) => a.length === b.length && a.every((n, i) => n === b[i]);
  if (!same([...grid.children], top)) {
    for (const node of top) grid.append(node);
    for (const node of [...grid.children]) if (!top.includes(node)) node.remove();
    moved = true;
  }
  if (strip && main && !same([...strip.children], rest)) {
    for (const tile of rest) strip.append(tile);
    for (const node of [...strip.children]) if (!rest.includes(/** @type {HTMLElement} */ (node))) node.remove();
    moved = true;
  }
  return moved;
}

/**
 * Marks who speaks now (several may), and in speaker view shows the last
 * other person who spoke large. Called by the quality module with the
 * speakers after its hold, so that the highlight does not flicker.
 * @param {Set<string>} speaking participant ids (this person's too)
 * @param {string} loudest the other participant who speaks loudest, or ''
 */
export function setSpeaking(speaking, loudest) {
  for (const node of $('grid').querySelectorAll('.tile:not(.tile-screen)')) {
    const tile = /** @type {HTMLElement} */ (node);
    const on = speaking.has(tileParticipant(tile));
    tile.classList.toggle('is-speaking', on);
    tile.dataset.speaking = String(on);
  }
  if (loudest && loudest !== featured) {
    featured = loudest;
    if (layout === 'speaker') updateGridLayout();
  }
}

/** Switches between the grid and the speaker view. */
export function onToggleLayout() {
  layout = layout === 'grid' ? 'speaker' : 'grid';
  renderControls();
  updateGridLayout();
}

/** Tells the CSS how many tiles there are, and whether anyone else is here. */
export function updateGridLayout() {
  orderTiles();
  const grid = $('grid');
  const count = grid.querySelectorAll('.tile:not(.tile-screen)').length;
  grid.dataset.count = String(Math.min(count, 9));
  grid.dataset.layout = layout;
  $('waiting').hidden = count > 1 || state.view !== 'call';
}

/**
 * Fills a tile's label and indicators.
 * @param {HTMLElement} tile
 * @param {{name: string, role: string, interprets_for?: string, audio: boolean, video: boolean, hand: boolean,
 *   self?: boolean, room?: string, reconnecting?: boolean}} p
 */
function renderTile(tile, p) {
  const name = p.self ? t('you', { name: p.name }) : p.name;
  const role = roleText(p);
  /** @type {HTMLElement} */ (tile.querySelector('.tile-name')).textContent = name;
  /** @type {HTMLElement} */ (tile.querySelector('.tile-role')).textContent = role;
  tile.classList.toggle('is-interpreter', role !== roleLabel(p.role));
  // Where they are: marked when in a private room; a placeholder instead
  // of the video when not in this person's room.
  const room = p.room ?? '';
  const away = !p.self && room !== myRoom();
  const roomTag = /** @type {HTMLElement} */ (tile.querySelector('.tile-room'));
  roomTag.textContent = room === '' ? '' : roomName(room);
  roomTag.hidden = room === '';
  tile.dataset.room = room;
  tile.classList.toggle('is-away', away);
  const awayBox = /** @type {HTMLElement | null} */ (tile.querySelector('.tile-away'));
  if (awayBox) {
    awayBox.hidden = !away;
    /** @type {HTMLElement} */ (awayBox.querySelector('.tile-away-text')).textContent =
      room === '' ? t('caucus.tile.joint') : t('caucus.tile.private');
  }
  /** @type {HTMLElement} */ (tile.querySelector('.tile-avatar')).textContent = initials(p.name);
  const muted = /** @type {HTMLElement} */ (tile.querySelector('.indicator-muted'));
  const cameraOff = /** @type {HTMLElement} */ (tile.querySelector('.indicator-camera'));
  muted.hidden = p.audio;
  muted.setAttribute('aria-label', t('indicator.muted'));
  cameraOff.hidden = p.video;
  cameraOff.setAttribute('aria-label', t('indicator.cameraOff'));
  const hand = /** @type {HTMLElement} */ (tile.querySelector('.indicator-hand'));
  hand.hidden = !p.hand;
  hand.setAttribute('aria-label', t('indicator.hand'));
  tile.classList.toggle('video-off', !p.video);
  tile.classList.toggle('hand-raised', p.hand);
  tile.dataset.audio = String(p.audio);
  tile.dataset.video = String(p.video);
  tile.dataset.hand = String(p.hand);
  // Their connection dropped; the server keeps their place a moment.
  const reconnecting = /** @type {HTMLElement | null} */ (tile.querySelector('.tile-reconnecting'));
  if (reconnecting) {
    reconnecting.hidden = !p.reconnecting;
    reconnecting.textContent = t('tile.reconnecting');
  }
  tile.classList.toggle('is-reconnecting', Boolean(p.reconnecting));
  const parts = [name, role];
  if (p.reconnecting) parts.push(t('tile.reconnecting'));
  if (away) parts.push(room === '' ? t('caucus.tile.joint') : t('caucus.tile.private'));
  else if (room !== '') parts.push(roomName(room));
  if (p.hand) parts.push(t('indicator.hand'));
  tile.setAttribute('aria-label', parts.join(', '));
}

/**
 * Shows a host's buttons on a tile, labelled with the participant's name.
 * @param {HTMLElement} tile
 * @param {{name: string, audio: boolean, video: boolean}} p
 */
function renderHostActions(tile, p) {
  const bar = /** @type {HTMLElement | null} */ (tile.querySelector('.tile-actions'));
  if (!bar) return;
  bar.hidden = !isHost();
  bar.setAttribute('aria-label', t('host.actions', { name: p.name }));
  const label = (/** @type {string} */ testid, /** @type {string} */ key, /** @type {boolean} */ disabled) => {
    const button = /** @type {HTMLButtonElement} */ (bar.querySelector(`[data-testid="${testid}"]`));
    const text = t(key, { name: p.name });
    button.setAttribute('aria-label', text);
    button.title = text;
    button.disabled = disabled;
  };
  label('tile-mute', 'host.mute', !p.audio);
  label('tile-camera-off', 'host.cameraOff', !p.video);
  label('tile-caucus', 'caucus.withName', false);
  label('tile-show-room', 'view.ask', false);
  label('tile-remove', 'host.remove', false);
}

/** @param {string} name */
function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  // Chinese names: the first character; others: first letters of two words.
  if (/[\u3400-\u9fff]/.test(words[0])) return words[0].slice(0, 1);
  return words.slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

/** @param {string} id */
export function renderRemoteTile(id) {
  const tile = tileOf(id);
  if (!tile) return;
  const p = state.participants.get(id);
  const stream = state.remoteStreams.get(id);
  const hasVideo = (stream?.getVideoTracks() ?? []).some((tr) => tr.readyState === 'live');
  // Someone in another room sends this person no video, camera on or not:
  // their tile says where they are, not that their camera is off.
  const away = (p?.room ?? '') !== myRoom();
  const shown = {
    name: p?.name ?? '…',
    role: p?.role ?? '',
    interprets_for: p?.interprets_for,
    room: p?.room ?? '',
    audio: p?.audio ?? true,
    video: (p?.video ?? true) && (hasVideo || away),
    hand: Boolean(p?.hand),
    reconnecting: Boolean(p?.reconnecting),
  };
  renderTile(tile, shown);
  renderHostActions(tile, { ...shown, video: p?.video ?? true });
  renderScreenTile(id);
}

export function renderSelfTile() {
  const tile = /** @type {HTMLElement | null} */ ($('grid').querySelector('[data-testid="self-tile"]'));
  if (!tile || !state.self) return;
  const video = /** @type {HTMLVideoElement} */ (tile.querySelector('video'));
  if (video.srcObject !== state.stream) video.srcObject = state.stream;
  video.play().catch(() => {});
  renderTile(tile, {
    name: state.self.name,
    role: state.self.role,
    interprets_for: state.self.interprets_for,
    room: state.self.room ?? '',
    audio: client.audioEnabled && hasTrack('audio'),
    video: client.videoEnabled && hasTrack('video'),
    hand: Boolean(state.self.hand),
    self: true,
  });
}

export function renderAllTiles() {
  if (state.view !== 'call' && client.state !== 'joined') return;
  renderSelfTile();
  for (const id of state.participants.keys()) renderRemoteTile(id);
  updateGridLayout();
}

// ---- Remote media -------------------------------------------------------------

/** @param {import('./protocol.js').RemoteTrack} detail */
export function onTrack({ participantId, track, screen }) {
  if (!participantId) return;
  if (screen) {
    if (track.kind === 'video') showScreen(participantId, track);
    return;
  }
  const tile = ensureTile(participantId);
  let stream = state.remoteStreams.get(participantId);
  if (!stream) {
    stream = new MediaStream();
    state.remoteStreams.set(participantId, stream);
  }
  // One track per kind: a newer one replaces the older.
  for (const old of stream.getTracks()) {
    if (old.kind === track.kind && old !== track) stream.removeTrack(old);
  }
  if (!stream.getTracks().includes(track)) stream.addTrack(track);
  const video = /** @type {HTMLVideoElement} */ (tile.querySelector('video'));
  if (video.srcObject !== stream) video.srcObject = stream;
  playRemote(video);
  renderRemoteTile(participantId);
}

/** @param {import('./protocol.js').RemoteTrack} detail */
export function onTrackRemoved({ participantId, track, screen }) {
  if (screen) {
    const video = /** @type {HTMLVideoElement | undefined} */ (screenTileOf(participantId)?.querySelector('video'));
    const shown = /** @type {MediaStream | null | undefined} */ (video?.srcObject);
    if (shown?.getVideoTracks()[0] === track) removeScreenTile(participantId);
    return;
  }
  const stream = state.remoteStreams.get(participantId);
  if (!stream) return;
  stream.removeTrack(track);
  renderRemoteTile(participantId);
}

/**
 * Plays a remote video with its sound. If the browser blocks autoplay,
 * offers a button (a click allows playback).
 * @param {HTMLVideoElement} video
 */
function playRemote(video) {
  video.play().catch((err) => {
    if (err instanceof DOMException && err.name === 'NotAllowedError') $('enable-sound').hidden = false;
  });
}

export function onEnableSound() {
  $('enable-sound').hidden = true;
  for (const video of $('grid').querySelectorAll('[data-testid="tile-video"]')) {
    playRemote(/** @type {HTMLVideoElement} */ (video));
  }
}

// ---- Controls -------------------------------------------------------------------

export function renderControls() {
  renderToggle('toggle-mic', 'mic', client.audioEnabled, hasTrack('audio'), 'control.mute', 'control.unmute');
  renderToggle('toggle-camera', 'camera', client.videoEnabled, hasTrack('video'), 'control.cameraOff', 'control.cameraOn');
  renderToggle('waiting-mic', 'mic', client.audioEnabled, hasTrack('audio'), 'control.mute', 'control.unmute');
  renderToggle('waiting-camera', 'camera', client.videoEnabled, hasTrack('video'), 'control.cameraOff', 'control.cameraOn');
  const leave = $('leave');
  leave.replaceChildren(icon('leave'), el('span', 'btn-text'));
  /** @type {HTMLElement} */ (leave.querySelector('.btn-text')).textContent = t('control.leave');

  const raised = Boolean(state.self?.hand);
  const hand = $('toggle-hand');
  hand.setAttribute('aria-pressed', String(raised));
  hand.classList.toggle('is-active', raised);
  hand.replaceChildren(icon('hand'), buttonText(t(raised ? 'control.lowerHand' : 'control.raiseHand')));

  const sharing = Boolean(client.screenTrack);
  const screen = /** @type {HTMLButtonElement} */ ($('toggle-screen'));
  // Phones cannot share a screen.
  screen.hidden = typeof navigator.mediaDevices?.getDisplayMedia !== 'function';
  screen.setAttribute('aria-pressed', String(sharing));
  screen.classList.toggle('is-active', sharing);
  screen.replaceChildren(icon('screen'), buttonText(t(sharing ? 'control.stopShare' : 'control.shareScreen')));

  const speaker = layout === 'speaker';
  const layoutButton = $('toggle-layout');
  layoutButton.setAttribute('aria-pressed', String(speaker));
  layoutButton.classList.toggle('is-active', speaker);
  layoutButton.title = t(speaker ? 'layout.toGrid' : 'layout.toSpeaker');
  layoutButton.replaceChildren(icon('layout'), buttonText(t('layout.speaker')));

  renderPanelToggle('toggle-chat', 'chat', 'chat', t('control.chat'), state.unread,
    state.unread ? t('control.chatUnread', { n: state.unread }) : t('control.chat'));
  const host = $('toggle-host');
  host.hidden = !isHost();
  const waiting = state.lobby.length;
  renderPanelToggle('toggle-host', 'host', 'people', t('control.host'), waiting,
    waiting ? t('control.hostWaiting', { n: waiting }) : t('control.host'));
  $('room-locked').hidden = !state.roomLocked || state.view !== 'call';
  $('room-locked-text').textContent = t('room.lockedBadge');
}

/** @param {string} text */
function buttonText(text) {
  const span = el('span', 'btn-text');
  span.textContent = text;
  return span;
}

/**
 * A button that opens a side panel, with a count badge.
 * @param {string} id
 * @param {'chat' | 'host'} panel
 * @param {'chat' | 'people'} iconName
 * @param {string} text
 * @param {number} count shown in a badge when not 0
 * @param {string} label the accessible name, with the count
 */
function renderPanelToggle(id, panel, iconName, text, count, label) {
  const button = $(id);
  const open = state.panel === panel;
  button.setAttribute('aria-expanded', String(open));
  button.setAttribute('aria-label', label);
  button.classList.toggle('is-active', open);
  const children = [icon(iconName), buttonText(text)];
  if (count) {
    const badge = el('span', 'count-badge', { 'data-testid': `${id}-count`, 'aria-hidden': 'true' });
    badge.textContent = count > 99 ? '99+' : String(count);
    children.push(badge);
  }
  button.replaceChildren(...children);
}

// ---- Side panels (chat, host controls) ------------------------------------------

/**
 * Shows one side panel, or none. Focus goes into the panel, and back to
 * its button when it closes.
 * @param {'' | 'chat' | 'host'} panel
 */
export function setPanel(panel) {
  const before = state.panel;
  if (panel === 'host' && !isHost()) panel = '';
  state.panel = panel;
  $('chat-panel').hidden = panel !== 'chat';
  $('host-panel').hidden = panel !== 'host';
  $('call-body').dataset.panel = panel;
  if (panel === 'chat') state.unread = 0;
  renderControls();
  if (panel === 'chat') {
    $('chat-input').focus();
    const list = $('chat-list');
    list.scrollTop = list.scrollHeight;
  } else if (panel === 'host') {
    $('host-panel-title').focus();
  } else if (before) {
    $(before === 'chat' ? 'toggle-chat' : 'toggle-host').focus();
  }
}

/** @param {'chat' | 'host'} panel */
export function togglePanel(panel) {
  setPanel(state.panel === panel ? '' : panel);
}

/**
 * @param {string} id
 * @param {'mic' | 'camera'} iconName
 * @param {boolean} on whether the device is enabled
 * @param {boolean} available whether there is a device at all
 * @param {string} offKey label of the action that turns it off
 * @param {string} onKey label of the action that turns it on
 */
function renderToggle(id, iconName, on, available, offKey, onKey) {
  const button = /** @type {HTMLButtonElement} */ ($(id));
  const active = on && available;
  button.disabled = !available;
  button.setAttribute('aria-pressed', String(!active));
  button.classList.toggle('is-off', !active);
  const text = el('span', 'btn-text');
  text.textContent = t(active ? offKey : onKey);
  button.replaceChildren(icon(iconName, !active), text);
}

export function onToggleMic() {
  client.setAudio(!client.audioEnabled);
  renderControls();
  renderSelfTile();
}

export function onToggleHand() {
  if (!state.self) return;
  const raised = !state.self.hand;
  if (!client.setHand(raised)) return;
  state.self = { ...state.self, hand: raised };
  noteHand(state.self);
  renderControls();
  renderSelfTile();
}

export function onToggleCamera() {
  client.setVideo(!client.videoEnabled);
  renderControls();
  renderSelfTile();
}

export async function onLeaveClick() {
  /** @type {HTMLButtonElement} */ ($('leave')).disabled = true;
  await client.leave();
  /** @type {HTMLButtonElement} */ ($('leave')).disabled = false;
}

// ---- Banner (reconnection, transient errors) ------------------------------------

/** @type {ReturnType<typeof setTimeout> | undefined} */
let bannerTimer;

/**
 * @param {string} text
 * @param {'info' | 'warn' | 'error'} kind
 * @param {number} [hideAfterMs] 0 to keep it
 */
export function showBanner(text, kind, hideAfterMs = 0) {
  const banner = $('banner');
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.className = `banner banner-${kind}`;
  banner.hidden = false;
  if (hideAfterMs) bannerTimer = setTimeout(() => { banner.hidden = true; }, hideAfterMs);
}
