// @ts-check
/**
 * Wall times in IANA time zones, with nothing but Intl: JS Date knows only
 * UTC and the browser's own zone, so the offset of another zone at an
 * instant is read from Intl.DateTimeFormat parts.
 *
 * No DOM dependency; tested by testdata/tz_test.mjs.
 *
 * @module tz
 */

/** The zones the scheduling form offers, besides the browser's own. */
export const COMMON_ZONES = /** @type {const} */ ([
  'Asia/Shanghai',
  'Europe/Rome',
  'Europe/Madrid',
  'Europe/Paris',
  'Europe/London',
  'America/New_York',
  'UTC',
]);

/** @type {Map<string, Intl.DateTimeFormat>} */
const formatters = new Map();

/**
 * A formatter giving numeric parts of a date in zone, 24-hour clock.
 * @param {string} zone
 */
function partsFormatter(zone) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * Whether zone is an IANA zone this browser knows.
 * @param {string} zone
 */
export function isValidZone(zone) {
  if (!zone) return false;
  try {
    partsFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** @returns {string} the browser's zone, or 'UTC' if it cannot tell */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * The wall clock of zone at the instant ms, as the milliseconds of the same
 * wall clock read as UTC (seconds precision).
 * @param {string} zone
 * @param {number} ms
 */
function wallClockAsUTC(zone, ms) {
  /** @type {Record<string, string>} */
  const p = {};
  for (const { type, value } of partsFormatter(zone).formatToParts(new Date(ms))) p[type] = value;
  let year = Number(p.year);
  if (p.era === 'BC' || p.era === 'B') year = 1 - year;
  const hour = Number(p.hour) % 24; // some engines say 24 for midnight
  const d = new Date(0);
  d.setUTCFullYear(year, Number(p.month) - 1, Number(p.day));
  d.setUTCHours(hour, Number(p.minute), Number(p.second), 0);
  return d.getTime();
}

/**
 * The offset of zone from UTC at the instant ms, in milliseconds (positive
 * east of Greenwich: Asia/Shanghai is +8 h).
 * @param {string} zone
 * @param {number} ms
 */
export function zoneOffset(zone, ms) {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClockAsUTC(zone, whole) - whole;
}

/**
 * Parses 'YYYY-MM-DDTHH:mm[:ss]' (the value of an
 * <input type="datetime-local">) into its wall clock read as UTC.
 * @param {string} wall
 * @returns {number | null} null if malformed or not a real date
 */
export function parseWallTime(wall) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(wall.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  // Reject 2026-02-30 and the like, which Date would roll over.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return date.getTime();
}

/**
 * @typedef {object} Conversion
 * @property {Date} date the instant
 * @property {'exact' | 'gap' | 'overlap'} kind 'gap': that wall time does not
 *   exist in the zone (the clocks jumped forward over it) and the instant is
 *   the same length of time after the jump, as clocks read it after the jump
 *   ('02:30' becomes 03:30 summer time); 'overlap': the wall time happens
 *   twice (the clocks went back) and the instant is the earlier one
 */

/**
 * Converts a wall time in zone to the instant it names.
 *
 * A first guess takes the zone's offset at the wall time read as UTC; the
 * offset at that guess gives a second guess, and the offset there a third.
 * Away from a change of offset they all agree. Near one, the offsets the
 * zone has a few hours either side are each tried: if the wall time
 * matches under both, it is an overlap (the earlier instant wins); under
 * neither, a gap (the offset from before the jump is used, which moves the
 * time forward by the jump, as JS Date does for the browser's own zone).
 *
 * @param {string} wall 'YYYY-MM-DDTHH:mm[:ss]'
 * @param {string} zone IANA zone
 * @returns {Conversion | null} null if wall is malformed or zone unknown
 */
export function wallTimeToInstant(wall, zone) {
  const w = parseWallTime(wall);
  if (w === null || !isValidZone(zone)) return null;
  // Iterate: guess, then correct with the offset at the guess, twice.
  let offset = zoneOffset(zone, w);
  offset = zoneOffset(zone, w - offset);
  const settled = zoneOffset(zone, w - offset);
  const day = 864e5 / 2;
  const before = zoneOffset(zone, w - offset - day);
  const after = zoneOffset(zone, w - offset + day);
  if (settled === offset && before === after) {
    return { date: new Date(w - offset), kind: 'exact' };
  }
  // Near a change: which candidate offsets reproduce the wall time?
  const candidates = [...new Set([before, after, offset, settled])]
    .map((o) => w - o)
    .filter((t) => wallClockAsUTC(zone, t) === w)
    .sort((a, b) => a - b);
  if (candidates.length === 1) return { date: new Date(candidates[0]), kind: 'exact' };
  if (candidates.length > 1) return { date: new Date(candidates[0]), kind: 'overlap' };
  return { date: new Date(w - before), kind: 'gap' };
}

/**
 * The instant as RFC 3339 in UTC without fractions:
 * 2026-12-01T06:00:00Z.
 * @param {Date} date
 */
export function toRFC3339(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The wall time of date in zone, 'YYYY-MM-DDTHH:mm', as a
 * datetime-local input wants it.
 * @param {Date} date
 * @param {string} zone
 */
export function instantToWallTime(date, zone) {
  return new Date(wallClockAsUTC(zone, Math.floor(date.getTime() / 1000) * 1000)).toISOString().slice(0, 16);
}

/**
 * The offset as text: 'UTC+08:00', 'UTC−05:00', 'UTC'.
 * @param {number} ms
 */
export function formatOffset(ms) {
  if (ms === 0) return 'UTC';
  const sign = ms > 0 ? '+' : '-';
  const minutes = Math.round(Math.abs(ms) / 60000);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `UTC${sign}${hh}:${mm}`;
}

/**
 * The instant ms as a numeric wall time in zone, the same in every
 * language and unambiguous: '2026-11-27 14:00:03', with date false
 * '14:00:03', with tenths '14:00:03.2', with seconds false '14:00'.
 * '' when the zone is unknown or ms is not a time.
 * @param {number} ms
 * @param {string} zone
 * @param {{date?: boolean, seconds?: boolean, tenths?: boolean}} [options]
 */
export function formatInstant(ms, zone, { date = true, seconds = true, tenths = false } = {}) {
  if (!Number.isFinite(ms) || !isValidZone(zone)) return '';
  const whole = Math.floor(ms / 1000) * 1000;
  const iso = new Date(wallClockAsUTC(zone, whole)).toISOString(); // YYYY-MM-DDTHH:mm:ss.000Z
  let text = seconds ? iso.slice(11, 19) : iso.slice(11, 16);
  if (seconds && tenths) text += `.${Math.floor((ms - whole) / 100)}`;
  return date ? `${iso.slice(0, 10)} ${text}` : text;
}
