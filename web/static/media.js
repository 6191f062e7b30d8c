// @ts-check
/**
 * Local media of the join page: opening camera and microphone, the
 * preview, the device pickers, switching a track, and the microphone level
 * meter of the pre-join page.
 *
 * @module media
 */

import { $, el } from './dom.js';
import { t } from './i18n.js';
import { client, state } from './page.js';

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
export async function openMedia() {
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

/** @param {'audio' | 'video'} kind */
export function hasTrack(kind) {
  return (state.stream?.getTracks() ?? []).some((tr) => tr.kind === kind && tr.readyState === 'live');
}

export function attachPreview() {
  const preview = /** @type {HTMLVideoElement} */ ($('preview'));
  if (preview.srcObject !== state.stream) preview.srcObject = state.stream;
  preview.classList.toggle('no-video', !hasTrack('video'));
  preview.play().catch(() => {}); // muted: allowed; errors only while swapping
}

export function stopMedia() {
  stopMeter();
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
}

// ---- Devices ------------------------------------------------------------------

/** @type {MediaDeviceInfo[]} */
let knownDevices = [];

/**
 * Opens one device.
 * @param {'audio' | 'video'} kind
 * @param {string} deviceId
 * @returns {Promise<MediaStreamTrack | null>} null if it cannot be opened
 */
export async function openTrack(kind, deviceId) {
  try {
    const s = await navigator.mediaDevices.getUserMedia({ [kind]: constraintsFor(kind, deviceId) });
    return s.getTracks()[0] ?? null;
  } catch (err) {
    console.warn('kuayang: cannot open device', err);
    return null;
  }
}

/** Lists devices (labels are known once permission was granted). */
export async function refreshDevices() {
  try {
    knownDevices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    knownDevices = [];
  }
  renderDeviceOptions();
}

export function renderDeviceOptions() {
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
 * Puts track in the local stream (and on the wire when in a call).
 * @param {'audio' | 'video'} kind
 * @param {MediaStreamTrack | null} track
 */
export async function setLocalTrack(kind, track) {
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
export function startMeter() {
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

export function stopMeter() {
  if (!meter) return;
  cancelAnimationFrame(meter.frame);
  meter.context.close().catch(() => {});
  meter = null;
  /** @type {HTMLMeterElement} */ ($('mic-level')).value = 0;
}
