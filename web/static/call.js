// @ts-check
/**
 * The call view of the join page: the video grid with one tile per
 * participant, the controls (microphone, camera, leave) and the banner of
 * reconnections and transient errors.
 *
 * @module call
 */

import { t } from './i18n.js';
import { $, el, icon } from './dom.js';
import { client, roleLabel, state } from './page.js';
import { hasTrack } from './media.js';

// ---- Tiles --------------------------------------------------------------------

/** @param {import('./protocol.js').JoinedDetail} detail */
export function onJoined(detail) {
  state.self = detail.self;
  state.participants = new Map(detail.participants.map((p) => [p.id, p]));
  state.remoteStreams.clear();
  $('rec').hidden = !detail.session.record;
  const grid = $('grid');
  grid.replaceChildren(createSelfTile());
  for (const p of detail.participants) ensureTile(p.id);
  renderAllTiles();
  renderControls();
}

function createSelfTile() {
  const tile = el('figure', 'tile tile-self', { 'data-testid': 'self-tile' });
  const video = /** @type {HTMLVideoElement} */ (el('video', 'mirror', { 'data-testid': 'self-video', playsinline: '', autoplay: '' }));
  video.muted = true;
  tile.append(video, el('div', 'tile-avatar', { 'aria-hidden': 'true' }), createLabel());
  return tile;
}

function createLabel() {
  const label = el('figcaption', 'tile-label');
  label.append(
    el('span', 'tile-name'),
    el('span', 'tile-role'),
    el('span', 'indicator indicator-muted', { 'data-testid': 'indicator-muted', role: 'img' }),
    el('span', 'indicator indicator-camera', { 'data-testid': 'indicator-camera-off', role: 'img' }),
  );
  label.querySelector('.indicator-muted')?.append(icon('mic', true));
  label.querySelector('.indicator-camera')?.append(icon('camera', true));
  return label;
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
  tile.append(video, el('div', 'tile-avatar', { 'aria-hidden': 'true' }), createLabel());
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
  updateGridLayout();
}

/** Tells the CSS how many tiles there are, and whether anyone else is here. */
export function updateGridLayout() {
  const grid = $('grid');
  const count = grid.querySelectorAll('.tile').length;
  grid.dataset.count = String(Math.min(count, 9));
  $('waiting').hidden = count > 1 || state.view !== 'call';
}

/**
 * Fills a tile's label and indicators.
 * @param {HTMLElement} tile
 * @param {{name: string, role: string, audio: boolean, video: boolean, self?: boolean}} p
 */
function renderTile(tile, p) {
  const name = p.self ? t('you', { name: p.name }) : p.name;
  /** @type {HTMLElement} */ (tile.querySelector('.tile-name')).textContent = name;
  /** @type {HTMLElement} */ (tile.querySelector('.tile-role')).textContent = roleLabel(p.role);
  /** @type {HTMLElement} */ (tile.querySelector('.tile-avatar')).textContent = initials(p.name);
  const muted = /** @type {HTMLElement} */ (tile.querySelector('.indicator-muted'));
  const cameraOff = /** @type {HTMLElement} */ (tile.querySelector('.indicator-camera'));
  muted.hidden = p.audio;
  muted.setAttribute('aria-label', t('indicator.muted'));
  cameraOff.hidden = p.video;
  cameraOff.setAttribute('aria-label', t('indicator.cameraOff'));
  tile.classList.toggle('video-off', !p.video);
  tile.dataset.audio = String(p.audio);
  tile.dataset.video = String(p.video);
  tile.setAttribute('aria-label', `${name}, ${roleLabel(p.role)}`);
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
  renderTile(tile, {
    name: p?.name ?? '…',
    role: p?.role ?? '',
    audio: p?.audio ?? true,
    video: (p?.video ?? true) && hasVideo,
  });
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
    audio: client.audioEnabled && hasTrack('audio'),
    video: client.videoEnabled && hasTrack('video'),
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
export function onTrack({ participantId, track }) {
  if (!participantId) return;
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
export function onTrackRemoved({ participantId, track }) {
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
  const leave = $('leave');
  leave.replaceChildren(icon('leave'), el('span', 'btn-text'));
  /** @type {HTMLElement} */ (leave.querySelector('.btn-text')).textContent = t('control.leave');
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
