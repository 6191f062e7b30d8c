// @ts-check
/**
 * The clock of the synchronized player of a recorded session, without the
 * DOM: which segment file of a participant holds the wall-clock instant T
 * and at which time within that file, where the gaps are, which segment to
 * preload next, when a video has drifted far enough from the shared clock
 * to be put back, and when the playback links must be fetched again.
 *
 * Every time here is a wall-clock instant in milliseconds since the epoch
 * (the shared clock of all participants), except file times, which are
 * seconds within one segment file (a <video>'s currentTime).
 *
 * The recorder writes each segment so that file time 0 is its wall_start
 * (recorder/segment.go), so the file time of T is T − wall_start, plus
 * media_start when the API gives media_start within the file (the contract
 * of the clerk's desk). An older API gave media_start counted from the
 * participant's first media in the session instead; such a media_start is
 * recognized and ignored (see fileStarts).
 *
 * Tested by testdata/playclock_test.mjs.
 *
 * @module playclock
 */

/** How far (seconds) a video may drift from the shared clock before it is put back. */
export const DRIFT_LIMIT = 0.15;

/** A hole between two segments shorter than this (ms) is bridged, not shown as a gap. */
export const HOLE_TOLERANCE = 250;

/** How long before a segment starts (ms) its file is loaded into the standby video. */
export const PRELOAD_AHEAD = 4000;

/** How long before the links expire (ms) fresh ones are fetched. */
export const REFRESH_MARGIN = 60000;

/**
 * @typedef {object} Seg one segment file of a participant
 * @property {number} index the segment's number in the session
 * @property {number} wallStart ms
 * @property {number} wallEnd ms
 * @property {number} fileStart seconds in the file at wallStart
 * @property {number} fileEnd seconds in the file at wallEnd
 * @property {string} url the playback link
 * @property {number} bytes
 * @property {string} key
 */

/**
 * @typedef {object} Track the recorded media of one participant
 * @property {string} id participant id
 * @property {string} name
 * @property {string} role
 * @property {Seg[]} segments by wallStart
 */

/**
 * @typedef {{kind: 'media', pos: number, seg: Seg, time: number, held: boolean}
 *   | {kind: 'gap', next: number, prev: number}} Location
 *   'media': the track's segment at position pos (in track.segments) holds
 *   the instant at file time `time`; held means the instant falls in a tiny
 *   hole after the segment and the video holds its last frame. 'gap': no
 *   media at that instant; next and prev are the positions of the segments
 *   after and before it, -1 when none.
 */

/**
 * @param {string | null | undefined} iso
 * @returns {number} ms since the epoch, NaN when missing or malformed
 */
export function parseTime(iso) {
  if (!iso) return Number.NaN;
  return new Date(iso).getTime();
}

/**
 * Where each segment's wall_start falls in its file, in seconds, for the
 * raw segments of one participant: media_start when the API gives it
 * within the file, else 0 (the recorder's file time 0 is wall_start).
 *
 * Counted from the participant's first media instead, media_start equals
 * the segment's wall_start minus the first segment's: when that holds for
 * every segment and makes a difference for one, it is not a file time.
 * @param {{wall_start: string, media_start?: number}[]} raw
 * @returns {number[]}
 */
export function fileStarts(raw) {
  const starts = raw.map((s) => {
    const v = Number(s.media_start);
    return Number.isFinite(v) && v > 0 ? v : 0;
  });
  const walls = raw.map((s) => parseTime(s.wall_start));
  const first = Math.min(...walls.filter(Number.isFinite));
  if (Number.isFinite(first)) {
    let matches = true;
    let differs = false;
    raw.forEach((_, i) => {
      const sinceFirst = (walls[i] - first) / 1000;
      if (!(Math.abs(starts[i] - sinceFirst) <= 0.5)) matches = false;
      if (sinceFirst > 0.5) differs = true;
    });
    if (matches && differs) return starts.map(() => 0);
  }
  return starts;
}

/**
 * The tracks of a recording listing (GET /api/v1/sessions/{id}/recordings):
 * one per participant with segments, segments sorted by wall time; segments
 * without a valid time span are dropped. A participant's screen share is a
 * track of its own, with the id `<participant id>~screen` (screenTrackID).
 * @param {{participants?: any[]}} recording
 * @returns {Track[]}
 */
export function buildTracks(recording) {
  /** @type {Track[]} */
  const tracks = [];
  for (const p of recording.participants ?? []) {
    const all = p.segments ?? [];
    const camera = all.filter((/** @type {any} */ s) => !s.stream);
    const screen = all.filter((/** @type {any} */ s) => s.stream === 'screen');
    tracks.push(buildTrack(p.id, p, camera));
    if (screen.length) tracks.push(buildTrack(screenTrackID(p.id), p, screen));
  }
  return tracks;
}

/**
 * The id of the track of a participant's screen share.
 * @param {string} id the participant's
 */
export function screenTrackID(id) { return `${id}~screen`; }

/**
 * One track of the raw segments of one of a participant's streams.
 * @param {string} id
 * @param {{name: string, role: string}} p
 * @param {any[]} raw
 * @returns {Track}
 */
function buildTrack(id, p, raw) {
  /** @type {Seg[]} */
  const segments = [];
  const starts = fileStarts(raw);
  raw.forEach((/** @type {any} */ s, /** @type {number} */ i) => {
    const wallStart = parseTime(s.wall_start);
    const wallEnd = parseTime(s.wall_end);
    if (!Number.isFinite(wallStart) || !Number.isFinite(wallEnd) || wallEnd <= wallStart) return;
    // Sealed to the mediator, and this viewer is not: nothing to play.
    if (s.sealed && !s.url) return;
    const fileStart = starts[i];
    segments.push({
      index: Number(s.index), wallStart, wallEnd, fileStart,
      fileEnd: fileStart + (wallEnd - wallStart) / 1000,
      url: String(s.url ?? ''), bytes: Number(s.bytes) || 0, key: String(s.key ?? ''),
    });
  });
  segments.sort((a, b) => a.wallStart - b.wallStart || a.index - b.index);
  return { id, name: p.name, role: p.role, segments };
}

/**
 * The file time of instant t in segment s, kept within the file.
 * @param {Seg} s
 * @param {number} t ms
 */
export function fileTimeAt(s, t) {
  const time = s.fileStart + (t - s.wallStart) / 1000;
  return Math.min(s.fileEnd, Math.max(s.fileStart, time));
}

/**
 * The instant (ms) shown at file time `time` of segment s.
 * @param {Seg} s
 * @param {number} time seconds
 */
export function wallAt(s, time) {
  return s.wallStart + (time - s.fileStart) * 1000;
}

/**
 * Which segment of the track holds instant t, and where in its file.
 * Segments are half-open, [wallStart, wallEnd): at a boundary the next
 * segment plays. Where segments overlap the later one wins.
 * @param {Track} track
 * @param {number} t ms
 * @returns {Location}
 */
export function locate(track, t) {
  const segs = track.segments;
  // The last segment that starts at or before t.
  let lo = 0;
  let hi = segs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid].wallStart <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found >= 0) {
    const s = segs[found];
    if (t < s.wallEnd) return { kind: 'media', pos: found, seg: s, time: fileTimeAt(s, t), held: false };
    // An earlier, longer segment may still cover t (overlap).
    for (let i = found - 1; i >= 0 && found - i <= 2; i--) {
      if (segs[i].wallStart <= t && t < segs[i].wallEnd) return { kind: 'media', pos: i, seg: segs[i], time: fileTimeAt(segs[i], t), held: false };
    }
    const next = segs[found + 1];
    if (next && next.wallStart - s.wallEnd <= HOLE_TOLERANCE) {
      return { kind: 'media', pos: found, seg: s, time: s.fileEnd, held: true };
    }
  }
  return { kind: 'gap', next: found + 1 < segs.length ? found + 1 : -1, prev: found };
}

/**
 * The position of the segment to load into the standby video at instant t:
 * the one after the current (or after the gap) when it starts within
 * `ahead` ms; -1 when none.
 * @param {Track} track
 * @param {number} t ms
 * @param {number} [ahead] ms
 */
export function preloadPos(track, t, ahead = PRELOAD_AHEAD) {
  const loc = locate(track, t);
  const next = loc.kind === 'media' ? loc.pos + 1 : loc.next;
  if (next < 0 || next >= track.segments.length) return -1;
  const s = track.segments[next];
  return s.wallStart - t <= ahead ? next : -1;
}

/**
 * The time span of the recording: from the first segment's start to the
 * last one's end over every track, widened to the timeline's start and end
 * when given.
 * @param {Track[]} tracks
 * @param {{start?: string, end?: string}} [timeline]
 * @returns {{start: number, end: number} | null} null when there is nothing
 */
export function spanOf(tracks, timeline) {
  let start = Infinity;
  let end = -Infinity;
  for (const tr of tracks) {
    for (const s of tr.segments) {
      start = Math.min(start, s.wallStart);
      end = Math.max(end, s.wallEnd);
    }
  }
  const ts = parseTime(timeline?.start);
  const te = parseTime(timeline?.end);
  if (Number.isFinite(ts)) start = Math.min(start, ts);
  if (Number.isFinite(te)) end = Math.max(end, te);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return null;
  return { start, end };
}

/**
 * What to do with a video whose currentTime is `actual` while the shared
 * clock says `expected` (seconds in the same file): nothing, wait (it is
 * seeking already), or seek it back to the clock.
 * @param {number} expected
 * @param {number} actual
 * @param {{seeking?: boolean, limit?: number}} [options]
 * @returns {{action: 'none' | 'wait' | 'seek', drift: number, to?: number}}
 *   drift is actual − expected, seconds
 */
export function driftAction(expected, actual, { seeking = false, limit = DRIFT_LIMIT } = {}) {
  const drift = actual - expected;
  if (seeking) return { action: 'wait', drift };
  if (!Number.isFinite(drift) || Math.abs(drift) > limit) return { action: 'seek', drift, to: expected };
  return { action: 'none', drift };
}

/**
 * Whether links that expire at `expires` must be fetched again at `now`.
 * @param {string | number | undefined} expires RFC 3339 or ms
 * @param {number} now ms
 * @param {number} [margin] ms
 */
export function linksStale(expires, now, margin = REFRESH_MARGIN) {
  const at = typeof expires === 'number' ? expires : parseTime(expires);
  if (!Number.isFinite(at)) return false;
  return at - now <= margin;
}

/**
 * Puts the fresh links of a new listing into tracks (by participant and
 * segment index) and returns how many changed.
 * @param {Track[]} tracks
 * @param {{participants?: any[]}} recording
 */
export function updateLinks(tracks, recording) {
  let changed = 0;
  for (const p of recording.participants ?? []) {
    for (const s of p.segments ?? []) {
      const id = s.stream === 'screen' ? screenTrackID(p.id) : p.id;
      const seg = tracks.find((tr) => tr.id === id)?.segments.find((x) => x.index === Number(s.index));
      if (seg && s.url && seg.url !== s.url) {
        seg.url = String(s.url);
        changed += 1;
      }
    }
  }
  return changed;
}

/**
 * The shared clock: a wall-clock position that advances at `rate` while
 * playing and not held (a video is buffering or seeking). Callers pass the
 * current monotonic time (performance.now()) so that tests control it.
 */
export class Clock {
  /**
   * @param {number} start ms
   * @param {number} end ms
   */
  constructor(start, end) {
    this.start = start;
    this.end = end;
    /** the position at `anchor` */
    this.pos = start;
    /** the monotonic time pos was taken at */
    this.anchor = 0;
    this.rate = 1;
    this.playing = false;
    this.held = false;
  }

  /** @param {number} now monotonic ms */
  now(now) {
    if (!this.playing || this.held) return this.pos;
    return Math.min(this.end, this.pos + (now - this.anchor) * this.rate);
  }

  /** @param {number} now */
  rebase(now) {
    this.pos = this.now(now);
    this.anchor = now;
  }

  /** @param {number} now */
  play(now) {
    this.rebase(now);
    if (this.pos >= this.end) this.pos = this.start;
    this.playing = true;
  }

  /** @param {number} now */
  pause(now) {
    this.rebase(now);
    this.playing = false;
  }

  /**
   * @param {number} t ms, kept within the span
   * @param {number} now
   */
  seek(t, now) {
    this.pos = Math.min(this.end, Math.max(this.start, t));
    this.anchor = now;
  }

  /**
   * @param {number} rate
   * @param {number} now
   */
  setRate(rate, now) {
    this.rebase(now);
    this.rate = rate;
  }

  /**
   * Holds the clock (true) while a video catches up, or lets it go on.
   * @param {boolean} on
   * @param {number} now
   */
  hold(on, now) {
    if (on === this.held) return;
    this.rebase(now);
    this.held = on;
  }

  /** @param {number} now */
  ended(now) {
    return this.now(now) >= this.end;
  }
}
