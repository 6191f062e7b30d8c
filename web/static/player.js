// @ts-check
/**
 * The synchronized player of a recorded session: one tile per participant,
 * each with two <video> elements (the segment playing and the next one,
 * loaded ahead and swapped in at the boundary so that nothing jumps), all
 * driven by one shared clock in wall-clock time (playclock.js).
 *
 * Every TICK_MS the player asks the clock where it is, maps that instant to
 * each participant's segment and file time, loads or swaps segments, puts
 * back a video that drifted more than DRIFT_LIMIT, and holds the clock
 * while a video is loading or seeking so that none falls behind. Where a
 * participant has no media it shows "not recorded at this time".
 *
 * The playback links are short-lived: the player fetches fresh ones before
 * they expire (and after a media error), without interrupting playback.
 * The first Play fetches them as a play (audited as recording.play).
 *
 * For tests: debug() says where the clock and every video are.
 *
 * @module player
 */

import { has, t } from './i18n.js';
import { formatInstant } from './tz.js';
import { h, newId } from './staff-dom.js';
import {
  Clock, DRIFT_LIMIT, buildTracks, driftAction, linksStale, locate, preloadPos, updateLinks, wallAt,
} from './playclock.js';
import { gapLabel } from './timeline.js';

/** @typedef {import('./playclock.js').Track} Track */
/** @typedef {import('./playclock.js').Location} Location */
/** @typedef {import('./timeline.js').Model} Model */

export const SPEEDS = [0.5, 1, 1.5, 2];

const TICK_MS = 100;
/** A video that keeps the clock waiting longer than this (ms) is left behind. */
const STALL_LIMIT = 5000;
/** Media errors of one participant before the player gives up on it. */
const MAX_ERRORS = 4;
const HAVE_METADATA = 1;
const HAVE_FUTURE_DATA = 3;

/**
 * @typedef {object} Lane
 * @property {string} id
 * @property {string} name
 * @property {string} role
 * @property {Track | null} track
 * @property {HTMLVideoElement[]} videos two slots
 * @property {number} active the slot on show
 * @property {number[]} loaded the segment position (in track.segments) each slot holds, -1 for none
 * @property {(number | null)[]} want the file time each slot seeks to once its metadata is in
 * @property {HTMLElement} tile
 * @property {HTMLElement} gap the "not recorded" placeholder
 * @property {Location | null} loc where the clock is in this lane
 * @property {number} stallSince performance.now() when it started keeping the clock waiting, 0 when not
 * @property {number} errors
 * @property {number} swaps how many times the standby video took over
 * @property {boolean} hidden
 * @property {boolean} waitLinks a video failed: wait for fresh links before loading again
 */

/**
 * @typedef {object} PlayerOptions
 * @property {any} recording the recording listing (with links)
 * @property {{id: string, name: string, role: string}[]} people every participant to show, in order
 * @property {{start: number, end: number}} span
 * @property {Model | null} timeline for the reasons of gaps
 * @property {string} viewerZone
 * @property {(play: boolean) => Promise<any>} fetchLinks a fresh listing; play says it is fetched to play
 * @property {(ms: number) => void} [onTime] called with the clock on every tick
 * @property {(err: unknown) => void} [onError] a failure to fetch the links
 */

export class SyncPlayer {
  /** @param {PlayerOptions} opts */
  constructor(opts) {
    this.opts = opts;
    this.tracks = buildTracks(opts.recording);
    this.linksExpire = opts.recording.links_expire;
    this.clock = new Clock(opts.span.start, opts.span.end);
    // Open on the first recorded frame rather than on an empty start.
    const first = Math.min(...this.tracks.flatMap((tr) => tr.segments.map((sg) => sg.wallStart)));
    if (Number.isFinite(first)) this.clock.seek(first, performance.now());
    /** fetched as a play at least once */
    this.played = false;
    this.refreshing = false;
    this.refreshAfter = 0;
    this.scrubbing = false;
    /** @type {Lane[]} */
    this.lanes = opts.people.map((p) => this.makeLane(p));
    this.element = this.build();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  // ---- Building -----------------------------------------------------------------

  /**
   * @param {{id: string, name: string, role: string}} p
   * @returns {Lane}
   */
  makeLane(p) {
    const track = this.tracks.find((tr) => tr.id === p.id) ?? null;
    const videos = [0, 1].map((slot) => {
      const v = /** @type {HTMLVideoElement} */ (h('video', { playsinline: true, preload: 'auto', 'data-testid': 'player-video', 'data-slot': slot, 'aria-hidden': 'true' }));
      v.disablePictureInPicture = true;
      return v;
    });
    const gap = h('div', { class: 'player-gap', 'data-testid': 'player-gap', role: 'status' });
    const nameId = newId('player-name');
    const tile = h('figure', { class: 'player-tile', 'data-testid': 'player-tile', 'data-participant-id': p.id, 'aria-labelledby': nameId },
      h('div', { class: 'player-frame' }, ...videos, gap));
    /** @type {Lane} */
    const lane = {
      id: p.id, name: p.name, role: p.role, track, videos, active: 0, loaded: [-1, -1], want: [null, null], tile, gap,
      loc: null, stallSince: 0, errors: 0, swaps: 0, hidden: false, waitLinks: false,
    };
    videos.forEach((v, slot) => {
      v.addEventListener('loadedmetadata', () => {
        const want = lane.want[slot];
        lane.want[slot] = null;
        if (want !== null && Math.abs(v.currentTime - want) > 0.01) v.currentTime = want;
      });
      v.addEventListener('error', () => this.mediaError(lane, slot));
      // Media that plays again forgives earlier failures (links expire
      // more than once in a long session).
      v.addEventListener('playing', () => { lane.errors = 0; });
    });
    const mute = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'player-mute', 'aria-pressed': 'false' }));
    const hide = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'player-hide', 'aria-pressed': 'false' }));
    const label = () => {
      const muted = videos[0].muted;
      mute.textContent = muted ? t('staff.player.unmute') : t('staff.player.mute');
      mute.setAttribute('aria-pressed', String(muted));
      mute.setAttribute('aria-label', `${mute.textContent}: ${p.name}`);
      hide.textContent = lane.hidden ? t('staff.player.show') : t('staff.player.hide');
      hide.setAttribute('aria-pressed', String(lane.hidden));
      hide.setAttribute('aria-label', `${hide.textContent}: ${p.name}`);
    };
    mute.addEventListener('click', () => {
      const muted = !videos[0].muted;
      for (const v of videos) v.muted = muted;
      label();
    });
    hide.addEventListener('click', () => {
      lane.hidden = !lane.hidden;
      tile.classList.toggle('is-hidden', lane.hidden);
      label();
    });
    label();
    tile.append(h('figcaption', { class: 'player-caption' },
      h('span', { class: 'player-name', id: nameId, 'data-testid': 'player-name', text: p.name }),
      h('span', { class: 'muted player-role', text: has(`role.${p.role}`) ? t(`role.${p.role}`) : p.role }),
      h('span', { class: 'player-buttons' }, mute, hide)));
    return lane;
  }

  build() {
    const { start, end } = this.opts.span;
    this.playButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-primary player-play', 'data-testid': 'player-play', text: t('staff.player.play') }));
    this.playButton.addEventListener('click', () => (this.clock.playing ? this.pause() : this.play()));
    this.seekBar = /** @type {HTMLInputElement} */ (h('input', {
      type: 'range', min: 0, max: Math.round((end - start) / 100), step: 1, value: 0, class: 'player-seek',
      'data-testid': 'player-seek', 'aria-label': t('staff.player.position'),
    }));
    this.seekBar.addEventListener('input', () => {
      this.scrubbing = true;
      this.seek(start + Number(this.seekBar.value) * 100);
    });
    this.seekBar.addEventListener('change', () => { this.scrubbing = false; });
    this.elapsed = h('span', { class: 'player-elapsed mono', 'data-testid': 'player-elapsed' });
    const speed = /** @type {HTMLSelectElement} */ (h('select', { 'data-testid': 'player-speed', 'aria-label': t('staff.player.speed') },
      SPEEDS.map((r) => h('option', { value: String(r), text: `${r}×` }))));
    speed.value = '1';
    speed.addEventListener('change', () => this.setRate(Number(speed.value)));
    this.speedSelect = speed;
    this.utc = h('span', { class: 'mono', 'data-testid': 'player-clock-utc' });
    this.local = h('span', { class: 'mono', 'data-testid': 'player-clock-local' });
    this.message = h('p', { class: 'error-text', role: 'alert', 'data-testid': 'player-error', hidden: true });
    const stage = h('div', { class: 'player-stage', 'data-count': String(this.lanes.length) }, this.lanes.map((l) => l.tile));
    return h('div', { class: 'player', 'data-testid': 'player' },
      h('div', { class: 'player-clock', 'data-testid': 'player-clock' },
        h('span', { class: 'player-clock-line' }, h('span', { class: 'muted', text: 'UTC ' }), this.utc),
        h('span', { class: 'player-clock-line', hidden: this.opts.viewerZone === 'UTC' || this.opts.viewerZone === 'Etc/UTC' },
          h('span', { class: 'muted', text: `${this.opts.viewerZone} ` }), this.local)),
      stage,
      h('div', { class: 'player-controls' },
        this.playButton,
        h('div', { class: 'player-seek-row' }, this.seekBar, this.elapsed),
        h('label', { class: 'player-speed' }, h('span', { text: t('staff.player.speed') }), speed)),
      this.message);
  }

  // ---- Controls ----------------------------------------------------------------

  async play() {
    if (!this.played) {
      // The first play fetches the links as a play, so that it is audited.
      this.playButton.disabled = true;
      try {
        await this.refreshLinks(true);
      } finally {
        this.playButton.disabled = false;
      }
      if (!this.played) return;
    }
    this.clock.play(performance.now());
    this.playButton.textContent = t('staff.player.pause');
    this.tick();
  }

  pause() {
    this.clock.pause(performance.now());
    this.playButton.textContent = t('staff.player.play');
    this.tick();
  }

  /** @param {number} ms a wall-clock instant */
  seek(ms) {
    this.clock.seek(ms, performance.now());
    for (const l of this.lanes) l.stallSince = 0;
    this.tick();
  }

  /** @param {number} rate */
  setRate(rate) {
    this.clock.setRate(rate, performance.now());
    if (this.speedSelect.value !== String(rate)) this.speedSelect.value = String(rate);
    this.tick();
  }

  destroy() {
    clearInterval(this.timer);
    for (const l of this.lanes) {
      for (const v of l.videos) {
        v.pause();
        v.removeAttribute('src');
        v.load();
      }
    }
  }

  // ---- Links -------------------------------------------------------------------

  /**
   * Fetches fresh links and puts them in the tracks; a standby video
   * loaded with an old link loads again.
   * @param {boolean} play
   */
  async refreshLinks(play) {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const rec = await this.opts.fetchLinks(play || this.played);
      if (play) this.played = true;
      updateLinks(this.tracks, rec);
      this.linksExpire = rec.links_expire;
      this.message.hidden = true;
      for (const l of this.lanes) {
        const standby = 1 - l.active;
        const pos = l.loaded[standby];
        if (pos >= 0 && l.track && l.videos[standby].src !== new URL(l.track.segments[pos].url, location.href).href) l.loaded[standby] = -1;
      }
      for (const l of this.lanes) l.waitLinks = false;
    } catch (err) {
      for (const l of this.lanes) l.waitLinks = false;
      this.refreshAfter = Date.now() + 10000;
      this.message.textContent = t('staff.player.linksFailed');
      this.message.hidden = false;
      this.opts.onError?.(err);
    } finally {
      this.refreshing = false;
    }
  }

  /**
   * A video failed: most likely its link expired. Fetch fresh links and
   * load it again, a few times.
   * @param {Lane} lane
   * @param {number} slot
   */
  mediaError(lane, slot) {
    if (!lane.videos[slot].getAttribute('src')) return;
    lane.errors += 1;
    lane.loaded[slot] = -1;
    if (lane.errors >= MAX_ERRORS) return;
    lane.waitLinks = true;
    this.refreshLinks(false);
  }

  // ---- The tick ----------------------------------------------------------------

  tick() {
    const now = performance.now();
    if (!this.refreshing && Date.now() >= this.refreshAfter && linksStale(this.linksExpire, Date.now())) this.refreshLinks(false);
    if (this.clock.playing && this.clock.ended(now)) this.pause();
    const at = this.clock.now(now);
    let stalled = false;
    for (const lane of this.lanes) {
      if (this.syncLane(lane, at, now)) stalled = true;
    }
    this.clock.hold(stalled, now);
    const run = this.clock.playing && !this.clock.held;
    for (const lane of this.lanes) this.applyPlay(lane, run);
    this.drawTime(at);
    this.opts.onTime?.(at);
  }

  /**
   * Puts the lane's videos where the clock is; says whether the lane keeps
   * the clock waiting.
   * @param {Lane} lane
   * @param {number} at
   * @param {number} now
   */
  syncLane(lane, at, now) {
    const tr = lane.track;
    /** @type {Location} */
    const loc = tr && lane.errors < MAX_ERRORS ? locate(tr, at) : { kind: 'gap', next: -1, prev: -1 };
    lane.loc = loc;
    const standby = () => 1 - lane.active;
    if (loc.kind === 'gap') {
      this.showGap(lane, at);
      if (tr) this.preload(lane, at);
      lane.stallSince = 0;
      return false;
    }
    if (lane.loaded[lane.active] !== loc.pos) {
      if (lane.waitLinks) return this.stalling(lane, now);
      if (lane.loaded[standby()] === loc.pos) {
        lane.active = standby();
        lane.swaps += 1;
      } else {
        this.load(lane, lane.active, loc.pos, loc.time);
      }
    }
    this.showMedia(lane);
    this.preload(lane, at);
    const v = lane.videos[lane.active];
    if (v.readyState < HAVE_METADATA) return this.stalling(lane, now);
    if (!loc.held) {
      const limit = this.clock.playing ? DRIFT_LIMIT : 0.04;
      const d = driftAction(loc.time, v.currentTime, { seeking: v.seeking, limit });
      if (d.action === 'seek' && d.to !== undefined) v.currentTime = d.to;
    }
    if (loc.held || v.ended) {
      lane.stallSince = 0;
      return false;
    }
    if (v.seeking || v.readyState < HAVE_FUTURE_DATA) return this.stalling(lane, now);
    lane.stallSince = 0;
    return false;
  }

  /**
   * The lane is not ready: it holds the clock, up to STALL_LIMIT.
   * @param {Lane} lane
   * @param {number} now
   */
  stalling(lane, now) {
    if (!this.clock.playing) return false;
    if (!lane.stallSince) lane.stallSince = now;
    return now - lane.stallSince < STALL_LIMIT;
  }

  /**
   * Loads segment pos of the lane into slot, to show file time `time`.
   * @param {Lane} lane
   * @param {number} slot
   * @param {number} pos
   * @param {number} time
   */
  load(lane, slot, pos, time) {
    const seg = lane.track?.segments[pos];
    if (!seg) return;
    const v = lane.videos[slot];
    lane.loaded[slot] = pos;
    lane.want[slot] = time;
    v.pause();
    v.src = seg.url;
    v.dataset.segmentIndex = String(seg.index);
  }

  /**
   * Loads the lane's next segment into the standby video shortly before it
   * starts.
   * @param {Lane} lane
   * @param {number} at
   */
  preload(lane, at) {
    if (!lane.track || lane.waitLinks) return;
    const pos = preloadPos(lane.track, at);
    const slot = 1 - lane.active;
    if (pos < 0 || lane.loaded[lane.active] === pos || lane.loaded[slot] === pos) return;
    this.load(lane, slot, pos, lane.track.segments[pos].fileStart);
  }

  /** @param {Lane} lane */
  showMedia(lane) {
    lane.tile.dataset.state = 'media';
    lane.gap.hidden = true;
    lane.videos.forEach((v, slot) => v.classList.toggle('is-active', slot === lane.active));
    lane.tile.dataset.segmentIndex = String(lane.track?.segments[lane.loaded[lane.active]]?.index ?? '');
  }

  /**
   * @param {Lane} lane
   * @param {number} at
   */
  showGap(lane, at) {
    lane.tile.dataset.state = 'gap';
    lane.tile.dataset.segmentIndex = '';
    for (const v of lane.videos) v.classList.remove('is-active');
    let text;
    const tlLane = this.opts.timeline?.lanes.find((l) => l.id === lane.id);
    // A recorded private room's media is sealed to the mediator.
    const sealed = tlLane?.segments.some((sg) => sg.sealed && sg.from <= at && at < sg.to);
    if (sealed) text = t('staff.player.sealed');
    else if (!lane.track || lane.track.segments.length === 0) text = t('staff.player.noMedia');
    else if (lane.errors >= MAX_ERRORS) text = t('staff.player.broken');
    else {
      const tl = this.opts.timeline?.lanes.find((l) => l.id === lane.id);
      const gap = tl?.gaps.find((g) => g.from <= at && at < g.to);
      const present = tl ? tl.presence.some((p) => p.from <= at && at < p.to) : true;
      if (gap) text = t('staff.player.gapReason', { reason: gapLabel(gap.reason) });
      else if (!present) text = t('staff.player.absent');
      else text = t('staff.player.gap');
    }
    if (lane.gap.textContent !== text) lane.gap.textContent = text;
    lane.gap.hidden = false;
  }

  /**
   * @param {Lane} lane
   * @param {boolean} run
   */
  applyPlay(lane, run) {
    const v = lane.videos[lane.active];
    const other = lane.videos[1 - lane.active];
    if (!other.paused) other.pause();
    const go = run && lane.loc?.kind === 'media' && !lane.loc.held && lane.loaded[lane.active] >= 0;
    if (go) {
      if (v.playbackRate !== this.clock.rate) v.playbackRate = this.clock.rate;
      if (v.paused && !v.ended && v.readyState >= HAVE_METADATA) v.play().catch(() => {});
    } else if (!v.paused) {
      v.pause();
    }
  }

  /** @param {number} at */
  drawTime(at) {
    const { start, end } = this.opts.span;
    this.utc.textContent = formatInstant(at, 'UTC', { tenths: true });
    this.local.textContent = formatInstant(at, this.opts.viewerZone, { tenths: true });
    if (!this.scrubbing) this.seekBar.value = String(Math.round((at - start) / 100));
    this.seekBar.setAttribute('aria-valuetext', `${formatInstant(at, this.opts.viewerZone)} (${this.opts.viewerZone})`);
    this.elapsed.textContent = `${duration(at - start)} / ${duration(end - start)}`;
    this.element.dataset.playing = String(this.clock.playing);
  }

  // ---- For tests -----------------------------------------------------------------

  /** Where the clock and every video are. */
  debug() {
    const now = performance.now();
    return {
      clock: this.clock.now(now), start: this.clock.start, end: this.clock.end, playing: this.clock.playing,
      held: this.clock.held, rate: this.clock.rate, played: this.played, linksExpire: this.linksExpire,
      lanes: this.lanes.map((l) => {
        const v = l.videos[l.active];
        const seg = l.track?.segments[l.loaded[l.active]] ?? null;
        return {
          id: l.id, name: l.name, state: l.loc?.kind ?? 'gap', index: seg?.index ?? -1, segments: l.track?.segments.length ?? 0,
          currentTime: v.currentTime, wall: seg && l.loc?.kind === 'media' ? wallAt(seg, v.currentTime) : null,
          paused: v.paused, seeking: v.seeking, readyState: v.readyState, swaps: l.swaps, errors: l.errors,
          hidden: l.hidden, muted: v.muted, width: v.videoWidth,
        };
      }),
    };
  }
}

/**
 * A length of time as m:ss or h:mm:ss.
 * @param {number} ms
 */
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
