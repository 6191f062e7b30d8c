// Tests of static/tz.js. Run: node --test web/testdata/tz_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COMMON_ZONES, formatInstant, formatOffset, instantToWallTime, isValidZone, parseWallTime, toRFC3339, wallTimeToInstant, zoneOffset,
} from '../static/tz.js';

/** @param {string} wall @param {string} zone */
function convert(wall, zone) {
  const r = wallTimeToInstant(wall, zone);
  assert.ok(r, `${wall} ${zone}`);
  return { iso: toRFC3339(r.date), kind: r.kind };
}

test('plain conversions', () => {
  assert.deepEqual(convert('2026-12-01T14:00', 'Asia/Shanghai'), { iso: '2026-12-01T06:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-07-01T09:00', 'Europe/Rome'), { iso: '2026-07-01T07:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-01-15T09:00', 'Europe/Rome'), { iso: '2026-01-15T08:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-07-01T09:00', 'America/New_York'), { iso: '2026-07-01T13:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-07-01T09:00', 'Europe/London'), { iso: '2026-07-01T08:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-07-01T09:00:30', 'UTC'), { iso: '2026-07-01T09:00:30Z', kind: 'exact' });
  // Crossing the date line backwards: early morning in Shanghai is the day before in UTC.
  assert.deepEqual(convert('2027-01-01T03:00', 'Asia/Shanghai'), { iso: '2026-12-31T19:00:00Z', kind: 'exact' });
  // Half-hour zones.
  assert.deepEqual(convert('2026-12-01T14:00', 'Asia/Kolkata'), { iso: '2026-12-01T08:30:00Z', kind: 'exact' });
});

test('the hours around a change of offset convert exactly', () => {
  // Europe/Rome goes to summer time on 2026-03-29 at 02:00 (01:00Z).
  assert.deepEqual(convert('2026-03-29T01:59', 'Europe/Rome'), { iso: '2026-03-29T00:59:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-03-29T03:00', 'Europe/Rome'), { iso: '2026-03-29T01:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-03-29T12:00', 'Europe/Rome'), { iso: '2026-03-29T10:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-03-28T23:30', 'Europe/Rome'), { iso: '2026-03-28T22:30:00Z', kind: 'exact' });
});

test('DST gap: a wall time that does not exist moves forward by the jump', () => {
  // 02:30 does not exist in Rome on 2026-03-29: 02:30 winter time is 03:30 summer time.
  assert.deepEqual(convert('2026-03-29T02:30', 'Europe/Rome'), { iso: '2026-03-29T01:30:00Z', kind: 'gap' });
  assert.equal(instantToWallTime(wallTimeToInstant('2026-03-29T02:30', 'Europe/Rome').date, 'Europe/Rome'), '2026-03-29T03:30');
  // New York springs forward on 2026-03-08 at 02:00 (07:00Z).
  assert.deepEqual(convert('2026-03-08T02:15', 'America/New_York'), { iso: '2026-03-08T07:15:00Z', kind: 'gap' });
});

test('DST overlap: a wall time that happens twice takes the earlier instant', () => {
  // Rome falls back on 2026-10-25 at 03:00 summer time (01:00Z): 02:30 happens at 00:30Z and 01:30Z.
  assert.deepEqual(convert('2026-10-25T02:30', 'Europe/Rome'), { iso: '2026-10-25T00:30:00Z', kind: 'overlap' });
  assert.deepEqual(convert('2026-10-25T03:00', 'Europe/Rome'), { iso: '2026-10-25T02:00:00Z', kind: 'exact' });
  assert.deepEqual(convert('2026-10-25T01:59', 'Europe/Rome'), { iso: '2026-10-24T23:59:00Z', kind: 'exact' });
  // New York falls back on 2026-11-01 at 02:00 EDT (06:00Z).
  assert.deepEqual(convert('2026-11-01T01:30', 'America/New_York'), { iso: '2026-11-01T05:30:00Z', kind: 'overlap' });
});

test('instantToWallTime is the inverse away from changes', () => {
  for (const zone of COMMON_ZONES) {
    for (const wall of ['2026-01-10T08:15', '2026-06-30T23:45', '2026-12-31T00:00']) {
      const r = wallTimeToInstant(wall, zone);
      assert.equal(instantToWallTime(r.date, zone), wall, `${zone} ${wall}`);
    }
  }
});

test('offsets', () => {
  assert.equal(zoneOffset('Asia/Shanghai', Date.UTC(2026, 6, 1)), 8 * 3600e3);
  assert.equal(zoneOffset('Europe/Rome', Date.UTC(2026, 6, 1)), 2 * 3600e3);
  assert.equal(zoneOffset('Europe/Rome', Date.UTC(2026, 0, 1)), 3600e3);
  assert.equal(zoneOffset('America/New_York', Date.UTC(2026, 0, 1)), -5 * 3600e3);
  assert.equal(zoneOffset('UTC', Date.UTC(2026, 0, 1, 12, 34, 56, 789)), 0);
  assert.equal(formatOffset(8 * 3600e3), 'UTC+08:00');
  assert.equal(formatOffset(-5 * 3600e3), 'UTC-05:00');
  assert.equal(formatOffset(5.5 * 3600e3), 'UTC+05:30');
  assert.equal(formatOffset(0), 'UTC');
});

test('bad input', () => {
  assert.equal(wallTimeToInstant('', 'Asia/Shanghai'), null);
  assert.equal(wallTimeToInstant('2026-02-30T10:00', 'Asia/Shanghai'), null);
  assert.equal(wallTimeToInstant('2026-12-01T24:00', 'Asia/Shanghai'), null);
  assert.equal(wallTimeToInstant('01/12/2026 14:00', 'Asia/Shanghai'), null);
  assert.equal(wallTimeToInstant('2026-12-01T14:00', 'Mars/Olympus'), null);
  assert.equal(wallTimeToInstant('2026-12-01T14:00', ''), null);
  assert.equal(isValidZone('Europe/Rome'), true);
  assert.equal(isValidZone('Not/AZone'), false);
  assert.equal(parseWallTime('2026-12-01T14:00'), Date.UTC(2026, 11, 1, 14, 0));
  assert.equal(parseWallTime('2024-02-29T00:00'), Date.UTC(2024, 1, 29));
  assert.equal(parseWallTime('2026-02-29T00:00'), null);
});

test('RFC 3339 has no fraction and ends in Z', () => {
  assert.equal(toRFC3339(new Date(Date.UTC(2026, 11, 1, 6, 0, 0, 123))), '2026-12-01T06:00:00Z');
});

test('formatInstant: numeric wall times in a zone', () => {
  const ms = Date.parse('2026-11-27T06:00:03.250Z');
  assert.equal(formatInstant(ms, 'UTC'), '2026-11-27 06:00:03');
  assert.equal(formatInstant(ms, 'Asia/Shanghai', { tenths: true }), '2026-11-27 14:00:03.2');
  assert.equal(formatInstant(ms, 'Europe/Rome', { date: false }), '07:00:03');
  assert.equal(formatInstant(ms, 'America/New_York', { date: false, seconds: false }), '01:00');
  assert.equal(formatInstant(Date.parse('2026-12-31T19:30:00Z'), 'Asia/Shanghai'), '2027-01-01 03:30:00');
  assert.equal(formatInstant(ms, 'Not/AZone'), '');
  assert.equal(formatInstant(Number.NaN, 'UTC'), '');
});
