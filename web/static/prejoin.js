// @ts-check
/**
 * The pre-join view of the join page (who, when, devices, consent, the
 * Join button), joining, and the error view shown instead when joining
 * cannot succeed.
 *
 * @module prejoin
 */

import { isPermanent } from './protocol.js';
import { has, t } from './i18n.js';
import { $ } from './dom.js';
import { client, errorMessage, formatTime, roleLabel, showView, state } from './page.js';
import { attachPreview, hasTrack, openMedia, refreshDevices, startMeter, stopMedia, stopMeter } from './media.js';
import { enterRoom } from './waitroom.js';
import { checkNetwork } from './netcheck.js';
import { renderOfficeHours } from './prejoinhours.js';
import { renderIdentityNote } from './identity.js';

/** @typedef {import('./protocol.js').JoinInfo} JoinInfo */

// ---- Fatal errors -----------------------------------------------------------

/** @param {{code: string, message?: string}} err */
export function showFatalError(err) {
  state.error = { code: err.code, message: err.message ?? '' };
  stopMedia();
  renderError();
  showView('error');
}

export function renderError() {
  if (!state.error) return;
  $('error-text').textContent = errorMessage(state.error);
  $('error-code').textContent = state.error.code;
}

// ---- Pre-join -------------------------------------------------------------

/** @param {JoinInfo} info */
export function renderDetails(info) {
  const { session, participant } = info;
  $('session-title').textContent = session.title || 'Kuayang';
  document.title = `${session.title} · 跨洋 Kuayang`;
  const c = session.case;
  $('case-line').textContent = c
    ? [c.number, c.title, has(`kind.${c.kind}`) ? t(`kind.${c.kind}`) : c.kind].filter(Boolean).join(' · ')
    : '';
  $('you-line').textContent = `${participant.name} · ${roleLabel(participant.role)}`;
  renderSchedule(session.scheduled_start, session.time_zone);
  renderOfficeHours(info, state.invite);
  $('consent-row').hidden = !session.record;
  renderIdentityNote(info);
  renderNet();
  updateJoinButton();
}

// ---- Network check and speaker test -------------------------------------------

/** @type {import('./netcheck.js').NetResult | null | 'checking'} */
let net = null;

/** The texts of the network check's verdicts. */
const NET_TEXT = {
  good: 'net.good', tcp: 'net.tcp', relay: 'net.relay', slow: 'net.slow', failed: 'net.failed',
};

/** Runs the network check (once at a time) and shows its verdict. */
export async function startNetCheck() {
  if (net === 'checking' || !state.info) return;
  net = 'checking';
  renderNet();
  net = await checkNetwork({ token: state.info.join_token, iceServers: state.info.ice_servers ?? [] });
  renderNet();
}

function renderNet() {
  const line = $('net-line');
  const again = $('net-again');
  if (net === null) {
    line.textContent = '';
    again.hidden = true;
    return;
  }
  if (net === 'checking') {
    line.textContent = t('net.checking');
    line.dataset.verdict = 'checking';
    again.hidden = true;
    return;
  }
  line.textContent = t(NET_TEXT[net.verdict], { rtt: String(net.rtt), lost: String(Math.round(net.lost * 100)) });
  line.dataset.verdict = net.verdict;
  line.dataset.transport = net.transport;
  again.hidden = false;
}

/** Plays a short tone, so a person hears whether their speakers work. */
export function testSpeakers() {
  const Ctx = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext;
  if (!Ctx) return;
  const ctx = new Ctx();
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.frequency.value = 660;
  gain.gain.setValueAtTime(0.0001, ctx.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.05);
  gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.8);
  osc.connect(gain).connect(ctx.destination);
  osc.start();
  osc.stop(ctx.currentTime + 0.85);
  osc.onended = () => ctx.close();
  const note = $('speaker-note');
  note.textContent = t('speaker.playing');
  setTimeout(() => { note.textContent = ''; }, 3000);
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
  const local = formatTime(date);
  const organizer = zone ? formatTime(date, zone) : '';
  // The viewer in the organizer's zone: one line says both.
  const same = organizer !== '' && organizer === local;
  $('time-local').textContent = t(same ? 'time.same' : 'time.local', { time: local });
  $('time-organizer').textContent = organizer && !same ? t('time.organizer', { time: organizer, zone: zone ?? '' }) : '';
  $('time-organizer').hidden = !organizer || same;
}

export function updateJoinButton() {
  const join = /** @type {HTMLButtonElement} */ ($('join'));
  const needsConsent = Boolean(state.info?.session.record);
  const consent = /** @type {HTMLInputElement} */ ($('consent'));
  join.disabled = !state.mediaReady || client.state === 'connecting' || (needsConsent && !consent.checked);
}

export function renderMediaNote() {
  const note = $('media-note');
  note.hidden = !state.mediaNote;
  note.textContent = state.mediaNote ? t(state.mediaNote) : '';
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
export function updateMediaNote(denied = false) {
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

export async function showPrejoin() {
  showView('prejoin');
  if (!state.stream) await startMedia();
  else startMeter();
}

// ---- Joining ----------------------------------------------------------------

export async function onJoinClick() {
  const consent = /** @type {HTMLInputElement} */ ($('consent'));
  state.consent = Boolean(state.info?.session.record) && consent.checked;
  await joinCall();
}

/** Joins with the current stream; errors show on the pre-join page. */
export async function joinCall() {
  const join = /** @type {HTMLButtonElement} */ ($('join'));
  const joinError = $('join-error');
  joinError.hidden = true;
  join.disabled = true;
  join.textContent = t('joining');
  try {
    await client.join({ invite: state.invite, consent: state.consent, stream: state.stream });
    stopMeter();
    state.error = null;
    enterRoom();
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
