// @ts-check
/**
 * Network quality and the active speaker in the call, both from the
 * statistics of the peer connections (client.getStats()).
 *
 * Quality: every 2 s, one level per tile, shown as signal bars (with the
 * numbers in the tooltip) and as data-quality="good|fair|poor" on the tile.
 * - This person: the publish connection. Bitrate of outbound-rtp (audio and
 *   video), loss (fractionLost) and round trip time of remote-inbound-rtp.
 * - Another participant: the inbound-rtp of their tracks on the subscribe
 *   connection (a received track's stream id is the sender's participant
 *   id): packets lost over lost + received since the last sample, jitter
 *   (of the audio: a video frame leaves as a paced burst of packets, so
 *   video's jitter is high on any network), bitrate; the round trip time of
 *   the subscribe connection's candidate pair.
 *
 * Levels (the worst condition wins):
 * - poor: loss > 8 %, or RTT > 600 ms, or jitter > 100 ms, or video at
 *   under 5 frames a second while the camera is on (frozen or starved).
 *   Not the video's bitrate: a still picture, or the smallest simulcast
 *   layer, is little data on a perfect network;
 * - fair: loss > 2 %, or RTT > 300 ms, or jitter > 30 ms;
 * - good: otherwise.
 * When this person's level is poor for 3 samples in a row, a warning with
 * advice shows, once: it can be dismissed, and shows again only after 3
 * samples that are not poor (recovery) and a new degradation.
 *
 * Active speaker: every 250 ms, the audioLevel of inbound-rtp audio (the
 * others) and of the microphone's media-source (this person). Someone
 * speaks from when their level is above SPEAKING_LEVEL until 300 ms after
 * it fell below (the hold), so that the highlight does not flicker.
 *
 * @module quality
 */

import { t } from './i18n.js';
import { $, icon } from './dom.js';
import { client, state } from './page.js';
import { hasTrack } from './media.js';
import { setSpeaking } from './call.js';

/** @typedef {'good' | 'fair' | 'poor'} Level */

const TICK_MS = 250;
/** Quality every QUALITY_TICKS ticks (2 s). */
const QUALITY_TICKS = 8;
const HOLD_MS = 300;
/** audioLevel (0..1) above which someone speaks. */
const SPEAKING_LEVEL = 0.03;

export const THRESHOLDS = {
  poor: { loss: 0.08, rttMs: 600, jitterMs: 100, videoFps: 5 },
  fair: { loss: 0.02, rttMs: 300, jitterMs: 30 },
};

const LEVEL_KEYS = { good: 'quality.good', fair: 'quality.fair', poor: 'quality.poor' };

/**
 * The level of a sample.
 * @param {{loss: number, rttMs: number, jitterMs: number, videoFps: number | null, videoOn: boolean}} s
 *   videoFps: frames a second of the video, null when not known
 * @returns {Level}
 */
export function levelOf(s) {
  const p = THRESHOLDS.poor;
  if (s.loss > p.loss || s.rttMs > p.rttMs || s.jitterMs > p.jitterMs || (s.videoOn && s.videoFps !== null && s.videoFps < p.videoFps)) return 'poor';
  const f = THRESHOLDS.fair;
  if (s.loss > f.loss || s.rttMs > f.rttMs || s.jitterMs > f.jitterMs) return 'fair';
  return 'good';
}

/**
 * The counters of the last sample, by stats id.
 * @type {Map<string, {at: number, bytes: number, lost: number, received: number}>}
 */
let previous = new Map();
/** @type {Map<string, {at: number, bytes: number, lost: number, received: number}>} the counters of this sample */
let next = new Map();
let ticks = 0;
let busy = false;
/** @type {Map<string, number>} when each participant was last heard above the level */
const lastLoud = new Map();
let poorStreak = 0;
let okStreak = 0;
/** whether the warning may show (not shown since the last recovery) */
let warningArmed = true;

/** Starts the measurements; they run only while in the call. */
export function startQuality() {
  $('quality-alert-close').addEventListener('click', dismissWarning);
  renderQualityTexts();
  setInterval(tick, TICK_MS);
}

/** Labels of the warning's close button (after a language change too). */
export function renderQualityTexts() {
  const close = $('quality-alert-close');
  close.setAttribute('aria-label', t('quality.dismiss'));
  close.title = t('quality.dismiss');
  close.replaceChildren(icon('close'));
}

function dismissWarning() {
  $('quality-alert').hidden = true;
}

async function tick() {
  if (busy) return;
  if (state.view !== 'call' || client.state !== 'joined') {
    if (previous.size) previous = new Map();
    lastLoud.clear();
    poorStreak = 0;
    $('quality-alert').hidden = true;
    return;
  }
  busy = true;
  try {
    const stats = await client.getStats();
    speakers(stats);
    if (ticks++ % QUALITY_TICKS === 0) quality(stats);
  } catch {
    // A connection closing meanwhile: the next tick tries again.
  } finally {
    busy = false;
  }
}

/**
 * Which participant each received track belongs to, by track id.
 * @returns {Map<string, string>}
 */
function trackOwners() {
  const owners = new Map();
  for (const [id, stream] of state.remoteStreams) {
    for (const track of stream.getTracks()) owners.set(track.id, id);
  }
  return owners;
}

/**
 * The active speaker, from the audio levels.
 * @param {{publish: any[], subscribe: any[]}} stats
 */
function speakers(stats) {
  const now = performance.now();
  const owners = trackOwners();
  /** @type {Map<string, number>} */
  const levels = new Map();
  for (const r of stats.subscribe) {
    if (r.type !== 'inbound-rtp' || r.kind !== 'audio' || typeof r.audioLevel !== 'number') continue;
    const id = owners.get(r.trackIdentifier);
    if (id && state.participants.get(id)?.audio !== false) levels.set(id, Math.max(levels.get(id) ?? 0, r.audioLevel));
  }
  const self = state.self?.id ?? '';
  if (self && client.audioEnabled && hasTrack('audio')) {
    for (const r of stats.publish) {
      if (r.type === 'media-source' && r.kind === 'audio' && typeof r.audioLevel === 'number') levels.set(self, r.audioLevel);
    }
  }
  let loudest = '';
  let loudestLevel = 0;
  for (const [id, level] of levels) {
    if (level < SPEAKING_LEVEL) continue;
    lastLoud.set(id, now);
    if (id !== self && level > loudestLevel) {
      loudest = id;
      loudestLevel = level;
    }
  }
  const speaking = new Set();
  for (const [id, at] of lastLoud) {
    if (now - at <= HOLD_MS) speaking.add(id);
    else lastLoud.delete(id);
  }
  setSpeaking(speaking, loudest);
}

/**
 * Rate and share of a counter since the last sample.
 * @param {string} key
 * @param {number} at ms
 * @param {number} bytes
 * @param {number} lost
 * @param {number} received
 */
function delta(key, at, bytes, lost, received) {
  const before = previous.get(key);
  next.set(key, { at, bytes, lost, received });
  if (!before || at <= before.at) return null;
  const seconds = (at - before.at) / 1000;
  return {
    kbps: Math.max(0, (bytes - before.bytes) * 8 / 1000 / seconds),
    lost: Math.max(0, lost - before.lost),
    received: Math.max(0, received - before.received),
  };
}

/**
 * The quality of every tile.
 * @param {{publish: any[], subscribe: any[]}} stats
 */
function quality(stats) {
  next = new Map();
  // This person: what leaves.
  let kbps = 0;
  /** @type {number | null} */
  let videoFps = null;
  let sampled = false;
  let loss = 0;
  let rtt = 0;
  let jitter = 0;
  for (const r of stats.publish) {
    if (r.type === 'outbound-rtp') {
      const d = delta(`pub-${r.id}`, r.timestamp, r.bytesSent ?? 0, 0, 0);
      if (!d) continue;
      sampled = true;
      kbps += d.kbps;
      if (r.kind === 'video') videoFps = maxFps(videoFps, r);
    } else if (r.type === 'remote-inbound-rtp') {
      if (typeof r.fractionLost === 'number') loss = Math.max(loss, r.fractionLost);
      if (typeof r.roundTripTime === 'number') rtt = Math.max(rtt, r.roundTripTime * 1000);
      if (typeof r.jitter === 'number' && r.kind === 'audio') jitter = Math.max(jitter, r.jitter * 1000);
    }
  }
  const selfTile = /** @type {HTMLElement | null} */ ($('grid').querySelector('[data-testid="self-tile"]'));
  if (selfTile && sampled) {
    const videoOn = client.videoEnabled && hasTrack('video');
    const level = levelOf({ loss, rttMs: rtt, jitterMs: jitter, videoFps, videoOn });
    show(selfTile, level, { kbps, loss, rtt, jitter });
    warn(level);
  }

  // The others: what arrives from each.
  let subRtt = 0;
  for (const r of stats.subscribe) {
    if (r.type === 'candidate-pair' && r.nominated && typeof r.currentRoundTripTime === 'number') {
      subRtt = Math.max(subRtt, r.currentRoundTripTime * 1000);
    }
  }
  const owners = trackOwners();
  /** @type {Map<string, {kbps: number, videoFps: number | null, lost: number, received: number, jitter: number, sampled: boolean}>} */
  const byId = new Map();
  for (const r of stats.subscribe) {
    if (r.type !== 'inbound-rtp') continue;
    const id = owners.get(r.trackIdentifier);
    if (!id) continue;
    const d = delta(`sub-${r.id}`, r.timestamp, r.bytesReceived ?? 0, r.packetsLost ?? 0, r.packetsReceived ?? 0);
    const acc = byId.get(id) ?? { kbps: 0, videoFps: null, lost: 0, received: 0, jitter: 0, sampled: false };
    byId.set(id, acc);
    if (!d) continue;
    acc.sampled = true;
    acc.kbps += d.kbps;
    if (r.kind === 'video') acc.videoFps = maxFps(acc.videoFps, r);
    acc.lost += d.lost;
    acc.received += d.received;
    // Audio's jitter: a video frame leaves as a burst of packets, paced,
    // so video's is high on any network.
    if (typeof r.jitter === 'number' && r.kind === 'audio') acc.jitter = Math.max(acc.jitter, r.jitter * 1000);
  }
  for (const node of $('grid').querySelectorAll('[data-testid="tile"]')) {
    const tile = /** @type {HTMLElement} */ (node);
    const id = tile.dataset.participantId ?? '';
    const acc = byId.get(id);
    // Nothing to measure: someone in another room, or without media yet.
    if (!acc?.sampled || tile.classList.contains('is-away')) {
      show(tile, null, null);
      continue;
    }
    const total = acc.lost + acc.received;
    const lossShare = total > 0 ? acc.lost / total : 0;
    const stream = state.remoteStreams.get(id);
    const videoOn = tile.dataset.video === 'true' && (stream?.getVideoTracks() ?? []).some((tr) => tr.readyState === 'live');
    const level = levelOf({ loss: lossShare, rttMs: subRtt, jitterMs: acc.jitter, videoFps: acc.videoFps, videoOn });
    show(tile, level, { kbps: acc.kbps, loss: lossShare, rtt: subRtt, jitter: acc.jitter });
  }
  previous = next;
}

/**
 * The larger of fps and the frame rate an rtp stats entry reports (a
 * camera sent as simulcast has one entry per layer).
 * @param {number | null} fps
 * @param {any} r
 * @returns {number | null}
 */
function maxFps(fps, r) {
  let f = r.framesPerSecond;
  if (typeof f !== 'number') {
    // Left out while no frame went through in the last second: frozen.
    if (typeof r.framesDecoded !== 'number' && typeof r.framesEncoded !== 'number') return fps;
    f = 0;
  }
  return fps === null ? f : Math.max(fps, f);
}

/**
 * Shows a tile's level, or hides it (null).
 * @param {HTMLElement} tile
 * @param {Level | null} level
 * @param {{kbps: number, loss: number, rtt: number, jitter: number} | null} numbers
 */
function show(tile, level, numbers) {
  const badge = /** @type {HTMLElement | null} */ (tile.querySelector('[data-testid="quality"]'));
  if (!badge) return;
  if (!level || !numbers) {
    badge.hidden = true;
    delete tile.dataset.quality;
    return;
  }
  tile.dataset.quality = level;
  badge.hidden = false;
  badge.dataset.level = level;
  const details = t('quality.details', {
    bitrate: String(Math.round(numbers.kbps)),
    loss: (numbers.loss * 100).toFixed(1),
    rtt: String(Math.round(numbers.rtt)),
    jitter: String(Math.round(numbers.jitter)),
  });
  const text = `${t(LEVEL_KEYS[level])}: ${details}`;
  badge.setAttribute('aria-label', text);
  badge.title = text;
}

/**
 * The warning of a poor connection of this person.
 * @param {Level} level
 */
function warn(level) {
  if (level === 'poor') {
    poorStreak++;
    okStreak = 0;
  } else {
    poorStreak = 0;
    okStreak++;
  }
  if (okStreak >= 3) {
    warningArmed = true;
    $('quality-alert').hidden = true;
  }
  if (poorStreak >= 3 && warningArmed) {
    warningArmed = false;
    $('quality-alert-text').textContent = t('quality.warning');
    $('quality-alert').hidden = false;
  }
}
