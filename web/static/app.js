// @ts-check
/**
 * The join page of Kuayang: pre-join (who, when, devices, consent), the
 * call (video grid, controls) and the screen after leaving, in one
 * document. Signaling and WebRTC live in protocol.js; this module only
 * drives the DOM.
 *
 * For tests: window.kuayang = {client, state}.
 *
 * @module app
 */

import { Client, isPermanent } from './protocol.js';
import { LANGUAGES, detectLanguage, getLanguage, has, setLanguage, t } from './i18n.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').JoinInfo} JoinInfo */

/** Plain, inspectable page state. */
const state = {
  /** @type {'loading' | 'error' | 'prejoin' | 'call' | 'left'} */
  view: 'loading',
  invite: '',
  /** @type {JoinInfo | null} */
  info: null,
  /** whether ?lang= chose the language (then the participant's does not) */
  langFromQuery: false,
  /** @type {MediaStream | null} local camera and microphone */
  stream: null,
  /** @type {string} i18n key of the note about missing devices, or '' */
  mediaNote: '',
  /** @type {{video: string, audio: string}} chosen device ids, 'none' for none, '' for default */
  devices: { video: '', audio: '' },
  audio: true,
  video: true,
  consent: false,
  /** whether the first attempt to open camera and microphone is over */
  mediaReady: false,
  /** @type {Participant | null} */
  self: null,
  /** @type {Map<string, Participant>} the others, by id */
  participants: new Map(),
  /** @type {Map<string, MediaStream>} one stream per remote participant */
  remoteStreams: new Map(),
  /** @type {{code: string, message: string} | null} */
  error: null,
  /** @type {string} why the call ended */
  closedReason: '',
};

const client = new Client();
/** @type {any} */ (window).kuayang = { client, state };

// ---- DOM helpers ------------------------------------------------------------

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return /** @type {T} */ (el);
}

/**
 * Creates an element with classes and attributes.
 * @param {string} tag
 * @param {string} [className]
 * @param {Record<string, string>} [attrs]
 */
function el(tag, className = '', attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Shapes of the small icons, drawn on a 24x24 grid. */
const ICONS = {
  mic: [
    ['rect', { x: '9', y: '3', width: '6', height: '11', rx: '3' }],
    ['path', { d: 'M6 11a6 6 0 0 0 12 0', fill: 'none' }],
    ['line', { x1: '12', y1: '17', x2: '12', y2: '21' }],
  ],
  camera: [
    ['rect', { x: '3', y: '7', width: '12', height: '10', rx: '2' }],
    ['path', { d: 'M15 11 21 8v8l-6-3z' }],
  ],
  leave: [
    ['path', { d: 'M10 5H5v14h5M14 8l4 4-4 4M18 12H9', fill: 'none' }],
  ],
};

/**
 * An inline SVG icon, optionally struck through.
 * @param {keyof typeof ICONS} name
 * @param {boolean} [struck]
 */
function icon(name, struck = false) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const shapes = [...ICONS[name]];
  if (struck) shapes.push(['line', { x1: '4', y1: '4', x2: '20', y2: '20' }]);
  for (const [tag, attrs] of shapes) {
    const shape = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
    svg.append(shape);
  }
  return svg;
}

/** @param {typeof state.view} view */
function showView(view) {
  state.view = view;
  for (const section of document.querySelectorAll('main > section[data-view]')) {
    /** @type {HTMLElement} */ (section).hidden = section.getAttribute('data-view') !== view;
  }
  document.body.dataset.screen = view; // for tests and styles
}

// ---- Language -------------------------------------------------------------

/** Fills the language picker once. */
function setupLanguagePicker() {
  const select = /** @type {HTMLSelectElement} */ ($('lang-select'));
  for (const { code, name } of LANGUAGES) {
    const option = el('option', '', { value: code, lang: code });
    option.textContent = name;
    select.append(option);
  }
  select.value = getLanguage();
  select.addEventListener('change', () => {
    setLanguage(select.value);
    state.langFromQuery = true;
    const url = new URL(location.href);
    url.searchParams.set('lang', getLanguage());
    history.replaceState(null, '', url);
    renderAll();
  });
}

/** Translates the elements that carry data-i18n. */
function translateStatic() {
  document.documentElement.lang = getLanguage();
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.getAttribute('data-i18n') ?? '');
  }
  /** @type {HTMLSelectElement} */ ($('lang-select')).value = getLanguage();
}

/** Re-renders every text after a language change. */
function renderAll() {
  translateStatic();
  if (state.info) renderDetails(state.info);
  renderMediaNote();
  renderDeviceOptions();
  renderControls();
  renderAllTiles();
  renderError();
  renderLeft();
}

/** @param {string} role */
function roleLabel(role) {
  return has(`role.${role}`) ? t(`role.${role}`) : role;
}

/**
 * The localized text of an error code, or the server's message.
 * @param {{code: string, message?: string}} err
 */
function errorMessage(err) {
  if (has(`error.${err.code}`)) return t(`error.${err.code}`);
  return err.message || t('error.unknown');
}

// ---- Loading and fatal errors --------------------------------------------

/** @returns {string} the invite token from /join/{token}, or '' */
function inviteFromPath() {
  const match = /^\/join\/([^/]+)\/?$/.exec(location.pathname);
  if (!match) return '';
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return '';
  }
}

/** @param {{code: string, message?: string}} err */
function showFatalError(err) {
  state.error = { code: err.code, message: err.message ?? '' };
  stopMedia();
  renderError();
  showView('error');
}

function renderError() {
  if (!state.error) return;
  $('error-text').textContent = errorMessage(state.error);
  $('error-code').textContent = state.error.code;
}

// ---- Pre-join -------------------------------------------------------------

/** @param {JoinInfo} info */
function renderDetails(info) {
  const { session, participant } = info;
  $('session-title').textContent = session.title || 'Kuayang';
  document.title = `${session.title} · 跨洋 Kuayang`;
  const c = session.case;
  $('case-line').textContent = c
    ? [c.number, c.title, has(`kind.${c.kind}`) ? t(`kind.${c.kind}`) : c.kind].filter(Boolean).join(' · ')
    : '';
  $('you-line').textContent = `${participant.name} · ${roleLabel(participant.role)}`;
  renderSchedule(session.scheduled_start, session.time_zone);
  $('consent-row').hidden = !session.record;
  updateJoinButton();
}

/**
 * Shows the start time in the viewer's zone and in the organizer's.
 * @param {string | undefined} start RFC 3339
 * @param {string | undefined} zone IANA zone
 */
function renderSchedule(start, zone) {
  const date = start ? new Date(start) : null;
  const valid = date !== null && !Number.isNaN(date.getTime());
  $('scheduled-label').hidden = !valid;
  $('scheduled-line').hidden = !valid;
  if (!valid) return;
  $('time-local').textContent = t('time.local', { time: formatTime(date) });
  const organizer = zone ? formatTime(date, zone) : '';
  $('time-organizer').textContent = organizer ? t('time.organizer', { time: organizer, zone: zone ?? '' }) : '';
  $('time-organizer').hidden = !organizer;
}

/**
 * @param {Date} date
 * @param {string} [timeZone] the viewer's zone when missing
 * @returns {string} '' if timeZone is not a known zone
 */
function formatTime(date, timeZone) {
  try {
    return new Intl.DateTimeFormat(getLanguage(), {
      weekday: 'short', year: 'numeric', month: 'long', day: 'numeric',
      hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone,
    }).format(date);
  } catch {
    return '';
  }
}

function updateJoinButton() {
  const join = /** @type {HTMLButtonElement} */ ($('join'));
  const needsConsent = Boolean(state.info?.session.record);
  const consent = /** @type {HTMLInputElement} */ ($('consent'));
  join.disabled = !state.mediaReady || client.state === 'connecting' || (needsConsent && !consent.checked);
}

function renderMediaNote() {
  const note = $('media-note');
  note.hidden = !state.mediaNote;
  note.textContent = state.mediaNote ? t(state.mediaNote) : '';
}

// ---- Local media ------------------------------------------------------------

/**
 * Constraints for one kind of device.
 * @param {'audio' | 'video'} kind
 * @param {string} deviceId '' for the default device
 * @returns {MediaTrackConstraints}
 */
function constraintsFor(kind, deviceId) {
  const device = deviceId ? { deviceId: { exact: deviceId } } : {};
  if (kind === 'video') {
    return { ...device, width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 }, ...(deviceId ? {} : { facingMode: 'user' }) };
  }
  return { ...device, echoCancellation: true, noiseSuppression: true, autoGainControl: true };
}

/**
 * Opens camera and microphone, falling back to whichever works.
 * @returns {Promise<{stream: MediaStream | null, error: unknown}>}
 */
async function openMedia() {
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, error: new Error('no mediaDevices') };
  const wantVideo = state.devices.video !== 'none';
  const wantAudio = state.devices.audio !== 'none';
  const video = wantVideo ? constraintsFor('video', state.devices.video) : false;
  const audio = wantAudio ? constraintsFor('audio', state.devices.audio) : false;
  /** @type {[MediaTrackConstraints | false, MediaTrackConstraints | false][]} */
  const attempts = [[video, audio], [false, audio], [video, false]];
  let error = null;
  for (const [v, a] of attempts) {
    if (!v && !a) continue;
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ video: v, audio: a }), error: null };
    } catch (err) {
      error ??= err;
      // A stale device id: fall back to the default device next time.
      if (err instanceof DOMException && err.name === 'OverconstrainedError') state.devices = { video: '', audio: '' };
    }
  }
  return { stream: null, error };
}

/** Starts the preview, the pickers and the meter. */
async function startMedia() {
  setMediaNote('media.starting');
  const { stream, error } = await openMedia();
  state.stream = stream;
  attachPreview();
  const denied = error instanceof DOMException && error.name === 'NotAllowedError';
  updateMediaNote(denied);
  await refreshDevices();
  startMeter();
  state.mediaReady = true;
  updateJoinButton();
}

/** @param {boolean} [denied] whether the browser refused access */
function updateMediaNote(denied = false) {
  const hasVideo = hasTrack('video');
  const hasAudio = hasTrack('audio');
  if (!hasVideo && !hasAudio) setMediaNote(denied ? 'media.denied' : 'media.none');
  else if (!hasVideo && state.devices.video !== 'none') setMediaNote('media.audioOnly');
  else if (!hasAudio && state.devices.audio !== 'none') setMediaNote('media.videoOnly');
  else setMediaNote('');
}

/** @param {string} key */
function setMediaNote(key) {
  state.mediaNote = key;
  renderMediaNote();
}

/** @param {'audio' | 'video'} kind */
function hasTrack(kind) {
  return (state.stream?.getTracks() ?? []).some((tr) => tr.kind === kind && tr.readyState === 'live');
}

function attachPreview() {
  const preview = /** @type {HTMLVideoElement} */ ($('preview'));
  if (preview.srcObject !== state.stream) preview.srcObject = state.stream;
  preview.classList.toggle('no-video', !hasTrack('video'));
  preview.play().catch(() => {}); // muted: allowed; errors only while swapping
}

function stopMedia() {
  stopMeter();
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
}

/** @type {MediaDeviceInfo[]} */
let knownDevices = [];

/** Lists devices (labels are known once permission was granted). */
async function refreshDevices() {
  try {
    knownDevices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    knownDevices = [];
  }
  renderDeviceOptions();
}

function renderDeviceOptions() {
  fillDeviceSelect(/** @type {HTMLSelectElement} */ ($('camera-select')), 'video');
  fillDeviceSelect(/** @type {HTMLSelectElement} */ ($('mic-select')), 'audio');
}

/**
 * @param {HTMLSelectElement} select
 * @param {'audio' | 'video'} kind
 */
function fillDeviceSelect(select, kind) {
  const inputs = knownDevices.filter((d) => d.kind === `${kind}input` && d.deviceId);
  select.replaceChildren();
  inputs.forEach((device, i) => {
    const option = el('option', '', { value: device.deviceId });
    option.textContent = device.label || t('device.unnamed', { n: i + 1 });
    select.append(option);
  });
  const none = el('option', '', { value: 'none' });
  none.textContent = t('device.none');
  select.append(none);
  const current = state.stream?.getTracks().find((tr) => tr.kind === kind && tr.readyState === 'live');
  select.value = current?.getSettings().deviceId ?? 'none';
}

/**
 * Switches one kind of device: opens the new one and swaps the track, in
 * the preview and, when in a call, in what is sent.
 * @param {'audio' | 'video'} kind
 * @param {string} deviceId or 'none'
 */
async function switchDevice(kind, deviceId) {
  state.devices[kind] = deviceId;
  const old = state.stream?.getTracks().find((tr) => tr.kind === kind) ?? null;
  old?.stop(); // phones cannot open two cameras at once
  /** @type {MediaStreamTrack | null} */
  let track = null;
  if (deviceId !== 'none') {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ [kind]: constraintsFor(kind, deviceId) });
      track = s.getTracks()[0] ?? null;
    } catch (err) {
      console.warn('kuayang: cannot open device', err);
    }
  }
  await setLocalTrack(kind, track);
  attachPreview();
  updateMediaNote();
  await refreshDevices();
  if (kind === 'audio') startMeter();
  renderControls();
  renderSelfTile();
}

/**
 * Puts track in the local stream (and on the wire when in a call).
 * @param {'audio' | 'video'} kind
 * @param {MediaStreamTrack | null} track
 */
async function setLocalTrack(kind, track) {
  if (client.state === 'joined' || client.state === 'reconnecting') {
    await client.replaceTrack(kind, track);
    state.stream = client.localStream;
    return;
  }
  if (!state.stream) {
    if (track) state.stream = new MediaStream([track]);
    return;
  }
  for (const old of state.stream.getTracks()) {
    if (old.kind === kind) state.stream.removeTrack(old);
  }
  if (track) state.stream.addTrack(track);
}

// ---- Microphone level meter -------------------------------------------------

/** @type {{context: AudioContext, frame: number} | null} */
let meter = null;

/** Shows the microphone's level (RMS) in the meter until stopMeter(). */
function startMeter() {
  stopMeter();
  const track = state.stream?.getAudioTracks()[0];
  const Ctx = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext;
  if (!track || !Ctx || state.view !== 'prejoin') return;
  const context = new Ctx();
  const source = context.createMediaStreamSource(new MediaStream([track]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const level = /** @type {HTMLMeterElement} */ ($('mic-level'));
  const tick = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    if (meter) meter.frame = requestAnimationFrame(tick);
  };
  meter = { context, frame: requestAnimationFrame(tick) };
  // Browsers start an AudioContext suspended until the user interacts.
  if (context.state === 'suspended') {
    document.addEventListener('pointerdown', () => context.resume(), { once: true });
  }
}

function stopMeter() {
  if (!meter) return;
  cancelAnimationFrame(meter.frame);
  meter.context.close().catch(() => {});
  meter = null;
  /** @type {HTMLMeterElement} */ ($('mic-level')).value = 0;
}

// ---- Joining ----------------------------------------------------------------

async function onJoinClick() {
  const consent = /** @type {HTMLInputElement} */ ($('consent'));
  state.consent = Boolean(state.info?.session.record) && consent.checked;
  await joinCall();
}

/** Joins with the current stream; errors show on the pre-join page. */
async function joinCall() {
  const join = /** @type {HTMLButtonElement} */ ($('join'));
  const joinError = $('join-error');
  joinError.hidden = true;
  join.disabled = true;
  join.textContent = t('joining');
  try {
    await client.join({ invite: state.invite, consent: state.consent, stream: state.stream });
    stopMeter();
    state.error = null;
    showView('call');
    updateGridLayout();
  } catch (err) {
    const e = /** @type {{code?: string, message?: string}} */ (err);
    const code = e.code ?? 'unknown';
    if (isPermanent(err) && code !== 'consent_required') {
      showFatalError({ code, message: e.message });
      return;
    }
    if (state.view !== 'prejoin') await showPrejoin();
    joinError.textContent = `${errorMessage({ code, message: e.message })} (${code})`;
    joinError.dataset.code = code;
    joinError.hidden = false;
  } finally {
    join.textContent = t('join');
    updateJoinButton();
  }
}

// ---- Call view ----------------------------------------------------------------

/** @param {import('./protocol.js').JoinedDetail} detail */
function onJoined(detail) {
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
function ensureTile(id) {
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
function removeTile(id) {
  tileOf(id)?.remove();
  state.remoteStreams.delete(id);
  updateGridLayout();
}

/** Tells the CSS how many tiles there are, and whether anyone else is here. */
function updateGridLayout() {
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
function renderRemoteTile(id) {
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

function renderSelfTile() {
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

function renderAllTiles() {
  if (state.view !== 'call' && client.state !== 'joined') return;
  renderSelfTile();
  for (const id of state.participants.keys()) renderRemoteTile(id);
  updateGridLayout();
}

/** @param {import('./protocol.js').RemoteTrack} detail */
function onTrack({ participantId, track }) {
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
function onTrackRemoved({ participantId, track }) {
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

function onEnableSound() {
  $('enable-sound').hidden = true;
  for (const video of $('grid').querySelectorAll('[data-testid="tile-video"]')) {
    playRemote(/** @type {HTMLVideoElement} */ (video));
  }
}

// ---- Controls -------------------------------------------------------------------

function renderControls() {
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

function onToggleMic() {
  client.setAudio(!client.audioEnabled);
  renderControls();
  renderSelfTile();
}

function onToggleCamera() {
  client.setVideo(!client.videoEnabled);
  renderControls();
  renderSelfTile();
}

async function onLeaveClick() {
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
function showBanner(text, kind, hideAfterMs = 0) {
  const banner = $('banner');
  clearTimeout(bannerTimer);
  banner.textContent = text;
  banner.className = `banner banner-${kind}`;
  banner.hidden = false;
  if (hideAfterMs) bannerTimer = setTimeout(() => { banner.hidden = true; }, hideAfterMs);
}

// ---- After the call -------------------------------------------------------------

/** @param {{reason: string}} detail */
function onClosed({ reason }) {
  state.closedReason = reason;
  stopMedia();
  $('rec').hidden = true;
  $('banner').hidden = true;
  $('grid').replaceChildren();
  state.remoteStreams.clear();
  state.participants.clear();
  renderLeft();
  showView('left');
}

function renderLeft() {
  const reason = state.closedReason;
  if (!reason) return;
  const detail = reason === 'left' ? ''
    : has(`closed.${reason}`) ? t(`closed.${reason}`)
    : errorMessage({ code: reason });
  $('left-detail').textContent = detail;
  $('left-detail').dataset.reason = reason;
  const final = reason === 'session_ended' || isPermanentCode(reason);
  $('rejoin').hidden = final;
}

/** @param {string} code */
function isPermanentCode(code) {
  return ['invite_invalid', 'invite_expired', 'invite_revoked', 'unsupported_version'].includes(code);
}

/** Rejoins after leaving: media again, then join with the consent given. */
async function onRejoinClick() {
  /** @type {HTMLButtonElement} */ ($('rejoin')).disabled = true;
  state.closedReason = '';
  state.stream = (await openMedia()).stream;
  /** @type {HTMLButtonElement} */ ($('rejoin')).disabled = false;
  await joinCall();
}

async function showPrejoin() {
  showView('prejoin');
  if (!state.stream) await startMedia();
  else startMeter();
}

// ---- Wiring -----------------------------------------------------------------------

function wireClient() {
  client.on('joined', (d) => onJoined(d));
  client.on('participant-joined', ({ participant }) => {
    state.participants.set(participant.id, participant);
    ensureTile(participant.id);
    renderRemoteTile(participant.id);
  });
  client.on('participant-updated', ({ participant }) => {
    if (participant.id === state.self?.id) return; // own state is local
    state.participants.set(participant.id, participant);
    renderRemoteTile(participant.id);
  });
  client.on('participant-left', ({ id }) => {
    state.participants.delete(id);
    removeTile(id);
  });
  client.on('track', (d) => onTrack(d));
  client.on('track-removed', (d) => onTrackRemoved(d));
  client.on('reconnecting', () => showBanner(t('status.reconnecting'), 'warn'));
  client.on('reconnected', () => showBanner(t('status.reconnected'), 'info', 3000));
  client.on('error', ({ code, message }) => {
    if (state.view === 'call') showBanner(`${errorMessage({ code, message })} (${code})`, 'error', 8000);
  });
  client.on('closed', (d) => onClosed(d));
}

function wireDom() {
  $('consent').addEventListener('change', updateJoinButton);
  $('join').addEventListener('click', onJoinClick);
  $('toggle-mic').addEventListener('click', onToggleMic);
  $('toggle-camera').addEventListener('click', onToggleCamera);
  $('leave').addEventListener('click', onLeaveClick);
  $('rejoin').addEventListener('click', onRejoinClick);
  $('enable-sound').addEventListener('click', onEnableSound);
  const camera = /** @type {HTMLSelectElement} */ ($('camera-select'));
  const mic = /** @type {HTMLSelectElement} */ ($('mic-select'));
  camera.addEventListener('change', () => switchDevice('video', camera.value));
  mic.addEventListener('change', () => switchDevice('audio', mic.value));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => refreshDevices());
  // Tell the server at once when the tab goes away, rather than by timeout.
  window.addEventListener('pagehide', () => { client.leave(); });
}

async function main() {
  const search = location.search;
  state.langFromQuery = new URLSearchParams(search).has('lang');
  setLanguage(detectLanguage({ search, browserLanguages: navigator.languages ?? [navigator.language] }));
  setupLanguagePicker();
  wireClient();
  wireDom();
  renderAll();

  state.invite = inviteFromPath();
  if (!state.invite) {
    showFatalError({ code: 'invite_invalid' });
    return;
  }
  try {
    state.info = await client.prepare(state.invite);
  } catch (err) {
    const e = /** @type {{code?: string, message?: string}} */ (err);
    showFatalError({ code: e.code ?? 'unknown', message: e.message });
    return;
  }
  if (!state.langFromQuery) {
    setLanguage(detectLanguage({
      search,
      participantLanguage: state.info.participant.language,
      browserLanguages: navigator.languages ?? [],
    }));
  }
  renderAll();
  await showPrejoin();
}

main();
