// @ts-check
/**
 * The join page of Kuayang: pre-join (who, when, devices, consent), the
 * call (video grid, controls) and the screen after leaving, in one
 * document. Signaling and WebRTC live in protocol.js; this module and its
 * helpers only drive the DOM:
 *
 * - page.js     the shared page state and client
 * - prejoin.js  the pre-join and error views, joining
 * - waitroom.js the waiting room, as the waiting person sees it
 * - call.js     the call view: tiles, controls, side panels
 * - quality.js  network quality per tile, the active speaker
 * - chat.js     the chat panel
 * - host.js     the host panel: waiting room, raised hands, lock, end
 * - caucus.js   the host's private rooms and recording pause; being asked to show the room
 * - rooms.js    which room everyone is in, its recording policy, the recording's state
 * - notary.js   the notary's script, the document under notarization and its hash
 * - dialog.js   the confirmation dialog
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
import { $, el, icon } from './dom.js';
import { announce, client, errorMessage, showView, state } from './page.js';
import {
  attachPreview, openMedia, openTrack, refreshDevices, renderDeviceOptions, setLocalTrack, startMeter, stopMedia,
} from './media.js';
import {
  joinCall, onJoinClick, renderDetails, renderError, renderMediaNote, showFatalError, showPrejoin,
  startNetCheck, testSpeakers,
  updateJoinButton, updateMediaNote,
} from './prejoin.js';
import {
  ensureTile, forgetHand, noteHand, onAdmitted, onEnableSound, onJoined, onLeaveClick, onToggleCamera, onToggleHand,
  onOwnScreen, onToggleLayout, onToggleMic, onToggleScreen, onTrack, onTrackRemoved, onWaitingInCall, removeTile, renderAllTiles, renderControls,
  renderRemoteTile, renderSelfTile, setPanel, showBanner, togglePanel,
} from './call.js';
import { renderQualityTexts, startQuality } from './quality.js';
import { clearNotices, enterRoom, onNotice, onWaiting, renderWaiting, renderWaitingMedia } from './waitroom.js';
import { addChatMessages, onChatError, renderChat, setupChat } from './chat.js';
import { dismissLobbyAlert, onLobby, onRoom, renderHostPanel, resetHost, setupHost } from './host.js';
import { closeDialog, setupDialog } from './dialog.js';
import { renderRooms } from './rooms.js';
import { closeCaucusDialog, onViewRequested } from './caucus.js';
import { setupSettlement } from './settlement.js';
import { renderNotary, setupNotary } from './notary.js';
import { startIdentity } from './identity.js';

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
  for (const node of document.querySelectorAll('[data-i18n-label]')) {
    node.setAttribute('aria-label', t(node.getAttribute('data-i18n-label') ?? ''));
  }
  for (const id of ['chat-close', 'host-close']) {
    const button = $(id);
    button.setAttribute('aria-label', t(id === 'chat-close' ? 'chat.close' : 'host.close'));
    button.replaceChildren(icon('close'));
  }
  /** @type {HTMLTextAreaElement} */ ($('chat-input')).placeholder = t('chat.placeholder');
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
  renderQualityTexts();
  renderError();
  renderLeft();
  if (state.view === 'waiting') renderWaiting();
  renderChat();
  renderHostPanel();
  renderRooms();
  renderNotary();
}

/** Someone moved between rooms, or the rooms changed: tiles, banner, host panel. */
function refreshRooms() {
  renderAllTiles();
  renderRooms();
  renderHostPanel();
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
  renderWaitingMedia();
}

// ---- After the call -------------------------------------------------------------

/** @param {{reason: string, message?: string}} detail */
function onClosed({ reason, message }) {
  state.closedReason = reason;
  state.closedMessage = message ?? '';
  closeDialog();
  closeCaucusDialog();
  setPanel('');
  $('lobby-alert').hidden = true;
  $('room-locked').hidden = true;
  stopMedia();
  $('rec').hidden = true;
  $('banner').hidden = true;
  $('grid').replaceChildren();
  state.remoteStreams.clear();
  state.participants.clear();
  state.rooms = [];
  renderRooms();
  renderLeft();
  showView('left');
}

function renderLeft() {
  const reason = state.closedReason;
  if (!reason) return;
  // Turned away or removed by a host: said plainly, with the host's words.
  $('left-title').textContent = has(`left.title.${reason}`) ? t(`left.title.${reason}`) : t('left.title');
  const detail = reason === 'left' ? ''
    : has(`closed.${reason}`) ? t(`closed.${reason}`)
    : errorMessage({ code: reason });
  $('left-detail').textContent = detail;
  $('left-detail').dataset.reason = reason;
  $('left-message').textContent = state.closedMessage; // as text, never as HTML
  $('left-message-box').hidden = !state.closedMessage;
  const final = reason === 'session_ended' || isPermanentCode(reason);
  $('rejoin').hidden = final;
  // Who was turned away or removed may ask again; a host decides.
  $('rejoin').textContent = t(reason === 'rejected' || reason === 'removed' ? 'left.askAgain' : 'left.rejoin');
}

/** @param {string} code */
function isPermanentCode(code) {
  return ['invite_invalid', 'invite_expired', 'invite_revoked', 'unsupported_version'].includes(code);
}

/** Rejoins after leaving: media again, then join with the consent given. */
async function onRejoinClick() {
  /** @type {HTMLButtonElement} */ ($('rejoin')).disabled = true;
  state.closedReason = '';
  state.closedMessage = '';
  state.stream = (await openMedia()).stream;
  /** @type {HTMLButtonElement} */ ($('rejoin')).disabled = false;
  await joinCall();
}

// ---- Wiring -----------------------------------------------------------------------

/** @param {import('./protocol.js').JoinedDetail} detail */
function onJoinedEvent(detail) {
  const rejoin = state.view === 'call' || state.view === 'waiting';
  if (!rejoin) clearNotices();
  state.waitingReason = '';
  onJoined(detail);
  resetHost();
  addChatMessages(detail.chat, true);
  if (rejoin) enterRoom(); // a reconnection: the call, or the waiting room again
  startIdentity();
}

function wireClient() {
  client.on('joined', (d) => onJoinedEvent(d));
  client.on('waiting', ({ reason }) => {
    if (state.self) state.self = { ...state.self, hand: false };
    if (state.view === 'call') {
      // Sent back (the last host left): the media connections are closed;
      // the camera stays on for the preview.
      setPanel('');
      closeDialog();
      closeCaucusDialog();
      onWaitingInCall();
    }
    onWaiting(reason);
  });
  client.on('admitted', (d) => {
    onAdmitted(d);
    addChatMessages(d.chat, true);
    enterRoom();
    renderRooms();
    showBanner(t('status.admitted'), 'info', 4000);
  });
  client.on('rooms', ({ rooms }) => {
    state.rooms = rooms;
    refreshRooms();
  });
  client.on('recording', ({ paused, reason }) => {
    const was = state.recording.paused;
    state.recording = { paused: Boolean(paused), reason: reason ?? '' };
    renderRooms();
    renderHostPanel();
    if (was && !paused) showBanner(t('recording.resumed'), 'info', 5000);
  });
  client.on('view-requested', (d) => onViewRequested(d));
  client.on('notice', (d) => onNotice(d));
  client.on('lobby', ({ waiting }) => onLobby(waiting));
  client.on('room', ({ locked }) => onRoom(locked));
  client.on('muted', ({ kind }) => {
    renderControls();
    renderSelfTile();
    renderWaitingMedia();
    showBanner(t(kind === 'audio' ? 'muted.audio' : 'muted.video'), 'warn', 6000);
  });
  client.on('chat', (m) => addChatMessages([m]));
  client.on('participant-joined', ({ participant }) => {
    state.participants.set(participant.id, participant);
    noteHand(participant);
    ensureTile(participant.id);
    renderRemoteTile(participant.id);
    refreshRooms(); // an interpreter's party may have come
  });
  client.on('participant-updated', ({ participant }) => {
    const self = state.self;
    if (self && participant.id === self.id) {
      // Microphone and camera are local; hand, host and room come from the server.
      state.self = {
        ...self, hand: Boolean(participant.hand), host: Boolean(participant.host),
        room: participant.room ?? '', interprets_for: participant.interprets_for ?? self.interprets_for,
      };
      noteHand(state.self);
      renderControls();
      renderSelfTile();
      refreshRooms();
      return;
    }
    const before = state.participants.get(participant.id);
    state.participants.set(participant.id, participant);
    noteHand(participant);
    if (participant.hand && !before?.hand) announce(t('hands.raised', { name: participant.name }));
    if ((before?.room ?? '') !== (participant.room ?? '')) {
      refreshRooms();
      return;
    }
    renderRemoteTile(participant.id);
    renderHostPanel();
  });
  client.on('participant-left', ({ id }) => {
    state.participants.delete(id);
    forgetHand(id);
    removeTile(id);
    refreshRooms();
  });
  client.on('track', (d) => onTrack(d));
  client.on('screen', (d) => onOwnScreen(d));
  client.on('track-removed', (d) => onTrackRemoved(d));
  client.on('reconnecting', () => showBanner(t('status.reconnecting'), 'warn'));
  client.on('state', ({ state: s }) => {
    // The banner is outside the views: gone with the call.
    if (s === 'closed' || s === 'idle') $('banner').hidden = true;
  });
  client.on('reconnected', () => showBanner(t('status.reconnected'), 'info', 3000));
  client.on('error', ({ code, message, ref }) => {
    if (ref === 'chat') {
      onChatError({ code, message });
      return;
    }
    if (state.view === 'call') showBanner(`${errorMessage({ code, message })} (${code})`, 'error', 8000);
  });
  client.on('closed', (d) => onClosed(d));
}

function wireDom() {
  $('consent').addEventListener('change', updateJoinButton);
  $('join').addEventListener('click', onJoinClick);
  $('net-again').addEventListener('click', () => startNetCheck());
  $('speaker-test').addEventListener('click', testSpeakers);
  $('toggle-mic').addEventListener('click', onToggleMic);
  $('toggle-camera').addEventListener('click', onToggleCamera);
  $('waiting-mic').addEventListener('click', () => { onToggleMic(); renderWaitingMedia(); });
  $('waiting-camera').addEventListener('click', () => { onToggleCamera(); renderWaitingMedia(); });
  $('toggle-screen').addEventListener('click', onToggleScreen);
  $('toggle-hand').addEventListener('click', onToggleHand);
  $('toggle-layout').addEventListener('click', onToggleLayout);
  $('toggle-chat').addEventListener('click', () => togglePanel('chat'));
  $('toggle-host').addEventListener('click', () => {
    togglePanel('host');
    if (state.panel === 'host') dismissLobbyAlert(); // the list shows who waits
  });
  $('chat-close').addEventListener('click', () => setPanel(''));
  $('host-close').addEventListener('click', () => setPanel(''));
  for (const id of ['chat-panel', 'host-panel']) {
    $(id).addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) setPanel('');
    });
  }
  $('leave').addEventListener('click', onLeaveClick);
  $('waiting-leave').addEventListener('click', async () => {
    const button = /** @type {HTMLButtonElement} */ ($('waiting-leave'));
    button.disabled = true;
    await client.leave();
    button.disabled = false;
  });
  setupChat();
  setupHost();
  setupNotary();
  setupDialog();
  setupSettlement();
  startQuality();
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
  startNetCheck(); // beside the media preview, not before it
  await showPrejoin();
}

main();
