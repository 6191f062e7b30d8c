// @ts-check
/**
 * The join page of Kuayang: pre-join (who, when, devices, consent), the
 * call (video grid, controls) and the screen after leaving, in one
 * document. Signaling and WebRTC live in protocol.js; this module and its
 * helpers only drive the DOM:
 *
 * - page.js     the shared page state and client
 * - prejoin.js  the pre-join and error views, joining
 * - call.js     the call view
 * - media.js    camera, microphone, device pickers, level meter
 * - dom.js      DOM helpers
 *
 * This module starts the page, wires the events, and draws the language
 * picker and the view after leaving.
 *
 * For tests: window.kuayang = {client, state}.
 *
 * @module app
 */

import { LANGUAGES, detectLanguage, getLanguage, has, setLanguage, t } from './i18n.js';
import { $, el } from './dom.js';
import { client, errorMessage, showView, state } from './page.js';
import {
  attachPreview, openMedia, openTrack, refreshDevices, renderDeviceOptions, setLocalTrack, startMeter, stopMedia,
} from './media.js';
import {
  joinCall, onJoinClick, renderDetails, renderError, renderMediaNote, showFatalError, showPrejoin,
  updateJoinButton, updateMediaNote,
} from './prejoin.js';
import {
  ensureTile, onEnableSound, onJoined, onLeaveClick, onToggleCamera, onToggleMic, onTrack, onTrackRemoved,
  removeTile, renderAllTiles, renderControls, renderRemoteTile, renderSelfTile, showBanner,
} from './call.js';

/** @type {any} */ (window).kuayang = { client, state };

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

// ---- Invite and devices ---------------------------------------------------

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
  const track = deviceId === 'none' ? null : await openTrack(kind, deviceId);
  await setLocalTrack(kind, track);
  attachPreview();
  updateMediaNote();
  await refreshDevices();
  if (kind === 'audio') startMeter();
  renderControls();
  renderSelfTile();
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
