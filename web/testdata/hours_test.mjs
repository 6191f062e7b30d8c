// Tests of static/hours.js. Run: node --test web/testdata/hours_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, dayList, hoursInZone, placeOf, slotsByDay } from '../static/hours.js';

const wencheng = {
  time_zone: 'Asia/Shanghai', slot_minutes: 30, closed: [],
  weekly: { mon: ['14:00-22:00'], tue: ['14:00-22:00'], wed: ['14:00-22:00'], thu: ['14:00-22:00'], fri: ['14:00-22:00'], sat: ['14:00-22:00'] },
};

test('hours in Rome across the change to summer time', () => {
  // Thursday 26 March 2026; Rome moves to summer time on Sunday 29.
  const groups = hoursInZone(wencheng, 'Europe/Rome', Date.parse('2026-03-26T03:00:00Z'));
  assert.deepEqual(groups, [
    { days: [1, 2, 3], org: '14:00–22:00', viewer: '08:00–16:00', shift: 0 },
    { days: [4, 5, 6], org: '14:00–22:00', viewer: '07:00–15:00', shift: 0 },
  ]);
});

test('hours in the same zone, and a day earlier in New York', () => {
  const now = Date.parse('2026-06-10T00:00:00Z');
  assert.deepEqual(hoursInZone(wencheng, 'Asia/Shanghai', now), [
    { days: [1, 2, 3, 4, 5, 6], org: '14:00–22:00', viewer: '14:00–22:00', shift: 0 },
  ]);
  const ny = hoursInZone({ ...wencheng, weekly: { mon: ['09:00-12:00'] } }, 'America/New_York', now);
  assert.deepEqual(ny, [{ days: [1], org: '09:00–12:00', viewer: '21:00–00:00', shift: -1 }]);
  assert.deepEqual(hoursInZone({ ...wencheng, weekly: { sun: ['20:00-24:00'] } }, 'UTC', now),
    [{ days: [0], org: '20:00–24:00', viewer: '12:00–16:00', shift: 0 }]);
});

test('dayList, placeOf, addDays', () => {
  assert.equal(dayList([1, 2, 3, 4, 5, 6], 'en'), 'Mon–Sat');
  assert.equal(dayList([1, 3], 'en'), 'Mon, Wed');
  assert.equal(dayList([1, 2, 3, 5, 0], 'en'), 'Mon–Wed, Fri, Sun');
  assert.equal(placeOf('America/New_York'), 'New York');
  assert.equal(placeOf('UTC'), 'UTC');
  assert.equal(addDays('2026-02-28', 1), '2026-03-01');
});

test('slotsByDay groups by the viewer\'s date', () => {
  const slots = [
    { start: '2026-03-27T22:30:00Z', end: '2026-03-27T23:00:00Z' }, // 23:30 Rome, 27th
    { start: '2026-03-27T23:00:00Z', end: '2026-03-27T23:30:00Z' }, // 00:00 Rome, 28th
    { start: '2026-03-28T06:00:00Z', end: '2026-03-28T06:30:00Z' },
  ];
  const days = slotsByDay(slots, 'Europe/Rome');
  assert.deepEqual(days.map((d) => [d.date, d.slots.length]), [['2026-03-27', 1], ['2026-03-28', 2]]);
});
