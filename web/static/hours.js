// @ts-check
/**
 * An organization's office hours seen from another zone: an office in
 * Wencheng open 14:00–22:00 Shanghai time is open 07:00–15:00 in Milan in
 * winter and 08:00–16:00 in summer. The hours are wall times in the
 * organization's zone (time_zone), so each is converted at the instant it
 * next happens, this week.
 *
 * No DOM dependency; tested by testdata/hours_test.mjs.
 *
 * @module hours
 */

import { formatInstant, instantToWallTime, wallTimeToInstant } from './tz.js';

/**
 * @typedef {object} OfficeHours the API's office_hours
 * @property {string} time_zone IANA zone of the hours
 * @property {number} slot_minutes
 * @property {Record<string, string[]>} weekly ranges per day ('mon': ['14:00-22:00'])
 * @property {string[]} closed dates without service, YYYY-MM-DD
 * @property {string} [organization] the organization's name
 */

/**
 * @typedef {object} HoursGroup days whose hours read the same
 * @property {number[]} days weekdays of the organization (0 Sunday … 6 Saturday), Monday first
 * @property {string} org the range in the organization's zone, '14:00–22:00'
 * @property {string} viewer the range in the viewer's zone, '07:00–15:00'
 * @property {number} shift days from the organization's date to the viewer's at the start (-1, 0, 1)
 */

/** The API's day keys, in Date.getUTCDay() order. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * The date n days after date, both 'YYYY-MM-DD'.
 * @param {string} date
 * @param {number} n
 */
export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * Days from date a to date b ('YYYY-MM-DD').
 * @param {string} a
 * @param {string} b
 */
function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 864e5);
}

/**
 * The instant of a wall time in zone; '24:00' is the next day's midnight.
 * @param {string} date YYYY-MM-DD
 * @param {string} clock HH:MM
 * @param {string} zone
 * @returns {number | null}
 */
function instantOf(date, clock, zone) {
  const conv = clock === '24:00' ? wallTimeToInstant(`${addDays(date, 1)}T00:00`, zone) : wallTimeToInstant(`${date}T${clock}`, zone);
  return conv ? conv.date.getTime() : null;
}

/**
 * The hours of the coming week in the viewer's zone, grouped: days whose
 * ranges read the same in both zones form one group, ordered Monday first.
 * @param {OfficeHours} hours
 * @param {string} viewerZone IANA zone
 * @param {number} [now] ms since the epoch
 * @returns {HoursGroup[]}
 */
export function hoursInZone(hours, viewerZone, now = Date.now()) {
  const zone = hours.time_zone;
  const today = instantToWallTime(new Date(now), zone).slice(0, 10);
  /** @type {HoursGroup[]} */
  const groups = [];
  for (let i = 0; i < 7; i++) {
    const date = addDays(today, i);
    const day = new Date(`${date}T00:00:00Z`).getUTCDay();
    for (const range of hours.weekly?.[WEEKDAYS[day]] ?? []) {
      const [a, b] = range.split('-');
      const start = instantOf(date, a, zone);
      const end = instantOf(date, b, zone);
      if (start === null || end === null) continue;
      const vs = formatInstant(start, viewerZone, { seconds: false });
      const ve = formatInstant(end, viewerZone, { seconds: false });
      if (!vs || !ve) continue;
      const org = `${a}–${b}`;
      const viewer = `${vs.slice(11)}–${ve.slice(11)}`;
      const shift = daysBetween(date, vs.slice(0, 10));
      let g = groups.find((x) => x.org === org && x.viewer === viewer && x.shift === shift);
      if (!g) groups.push(g = { days: [], org, viewer, shift });
      g.days.push(day);
    }
  }
  const mondayFirst = (/** @type {number} */ d) => (d + 6) % 7;
  for (const g of groups) g.days.sort((x, y) => mondayFirst(x) - mondayFirst(y));
  groups.sort((x, y) => mondayFirst(x.days[0]) - mondayFirst(y.days[0]) || x.org.localeCompare(y.org));
  return groups;
}

/**
 * Weekdays as text in lang: runs of three or more become 'Mon–Sat', others
 * are listed ('Mon, Wed').
 * @param {number[]} days weekdays, Monday first
 * @param {string} lang BCP 47
 */
export function dayList(days, lang) {
  let fmt;
  try {
    fmt = new Intl.DateTimeFormat(lang, { weekday: 'short', timeZone: 'UTC' });
  } catch {
    fmt = new Intl.DateTimeFormat('en', { weekday: 'short', timeZone: 'UTC' });
  }
  const name = (/** @type {number} */ d) => fmt.format(Date.UTC(2023, 0, 1 + d)); // 1 January 2023 was a Sunday
  const order = (/** @type {number} */ d) => (d + 6) % 7;
  /** @type {number[][]} */
  const runs = [];
  for (const d of days) {
    const last = runs[runs.length - 1];
    if (last && order(d) === order(last[last.length - 1]) + 1) last.push(d);
    else runs.push([d]);
  }
  return runs.map((r) => (r.length >= 3 ? `${name(r[0])}–${name(r[r.length - 1])}` : r.map(name).join(', '))).join(', ');
}

/**
 * The place of a zone, for 'in Shanghai': its last part without
 * underscores ('America/New_York' gives 'New York').
 * @param {string} zone
 */
export function placeOf(zone) {
  return (zone.split('/').pop() ?? zone).replace(/_/g, ' ');
}

/**
 * Slots grouped by the viewer's date, in order.
 * @param {{start: string, end: string}[]} slots
 * @param {string} viewerZone
 * @returns {{date: string, slots: {start: string, end: string}[]}[]}
 */
export function slotsByDay(slots, viewerZone) {
  /** @type {{date: string, slots: {start: string, end: string}[]}[]} */
  const days = [];
  for (const s of slots) {
    const date = formatInstant(Date.parse(s.start), viewerZone).slice(0, 10);
    const last = days[days.length - 1];
    if (last && last.date === date) last.slots.push(s);
    else days.push({ date, slots: [s] });
  }
  return days;
}
