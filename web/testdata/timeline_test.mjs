// Tests of the DOM-free part of static/timeline.js: the model of a timeline
// answer, the fallback built from a recording listing, and the time axis.
// Run: node --test web/testdata/timeline_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRecording, normalize, shorten, ticks } from '../static/timeline.js';

const T0 = Date.parse('2026-11-27T06:00:00Z');
const iso = (ms) => new Date(ms).toISOString();

const answer = {
  session_id: 's1', time_zone: 'Asia/Shanghai', start: iso(T0), end: iso(T0 + 60000), source: 'manifest',
  lanes: [
    {
      participant_id: 'p1', name: '王芳', role: 'party',
      presence: [{ from: iso(T0 + 1000), to: iso(T0 + 50000) }],
      segments: [{ index: 1, from: iso(T0 + 31000), to: iso(T0 + 50000) }, { index: 0, from: iso(T0 + 1000), to: iso(T0 + 31000) }],
      gaps: [{ from: iso(T0 + 20000), to: iso(T0 + 22000), reason: 'disconnect' }, { from: 'bad', to: iso(T0) }],
      screen: [{ index: 2, from: iso(T0 + 40000), to: iso(T0 + 55000) }],
      speaking: [],
    },
    { participant_id: 'p2', name: 'Niccolò', role: 'interpreter', presence: [], segments: [], gaps: [] },
  ],
  marks: [
    { time: iso(T0 + 59000), kind: 'session.end', label: 'the session ended' },
    { time: iso(T0 + 900), kind: 'consent', label: '王芳 consented', participant_id: 'p1' },
    { time: 'nope', kind: 'join' },
  ],
};

test('normalize parses, sorts and drops malformed entries', () => {
  const m = normalize(answer);
  assert.equal(m.start, T0);
  assert.equal(m.end, T0 + 60000);
  assert.equal(m.zone, 'Asia/Shanghai');
  assert.equal(m.source, 'manifest');
  assert.equal(m.lanes.length, 2);
  assert.deepEqual(m.lanes[0].segments.map((s) => s.index), [0, 1]);
  assert.deepEqual(m.lanes[0].gaps, [{ from: T0 + 20000, to: T0 + 22000, reason: 'disconnect' }]);
  assert.deepEqual(m.lanes[1].speaking, [], 'a missing list is empty');
  assert.deepEqual(m.lanes[0].screen, [{ index: 2, from: T0 + 40000, to: T0 + 55000 }]);
  assert.deepEqual(m.lanes[1].screen, []);
  assert.deepEqual(m.marks.map((k) => k.kind), ['consent', 'session.end']);
  assert.equal(m.marks[0].participant, 'p1');
});

test('normalize widens the span to what it holds, and refuses an empty one', () => {
  const m = normalize({ ...answer, start: iso(T0 + 5000), end: undefined });
  assert.equal(m.start, T0 + 900);
  assert.equal(m.end, T0 + 59000);
  assert.equal(normalize({ lanes: [], marks: [] }), null);
  assert.equal(normalize({ start: iso(T0), end: iso(T0), lanes: [] }), null);
  assert.equal(normalize(null), null);
});

test('fromRecording: lanes of segments, presence merged, gaps inside segments', () => {
  const rec = {
    session_id: 's1', started_at: iso(T0), ended_at: iso(T0 + 12000),
    participants: [{
      id: 'p1', name: 'Chen Wei', role: 'party', segments: [
        { index: 1, wall_start: iso(T0 + 2000), wall_end: iso(T0 + 4000), gaps: [{ from: iso(T0 + 2500), to: iso(T0 + 2600), reason: 'packet_loss', packets: 3 }] },
        { index: 0, wall_start: iso(T0), wall_end: iso(T0 + 2000) },
        { index: 2, wall_start: iso(T0 + 8000), wall_end: iso(T0 + 10000) },
        // A screen share: on the lane, not in its segments nor its presence.
        { index: 3, stream: 'screen', wall_start: iso(T0 + 5000), wall_end: iso(T0 + 7000) },
      ],
    }],
  };
  const m = normalize(fromRecording(rec, 'Europe/Rome'));
  assert.equal(m.source, 'records');
  assert.equal(m.zone, 'Europe/Rome');
  assert.equal(m.start, T0);
  assert.equal(m.end, T0 + 12000);
  const [lane] = m.lanes;
  assert.deepEqual(lane.segments.map((s) => s.index), [0, 1, 2]);
  assert.deepEqual(lane.presence, [{ from: T0, to: T0 + 4000 }, { from: T0 + 8000, to: T0 + 10000 }]);
  assert.deepEqual(lane.screen, [{ index: 3, from: T0 + 5000, to: T0 + 7000 }]);
  assert.equal(lane.gaps.length, 1);
  assert.equal(lane.gaps[0].reason, 'packet_loss');
  assert.deepEqual(m.marks.map((k) => k.kind), ['session.end']);
});

test('segments sealed to the mediator are marked, in the answer and in the fallback', () => {
  const m = normalize({ ...answer, lanes: [{ participant_id: 'p1', name: 'A', role: 'party', presence: [], gaps: [], speaking: [],
    segments: [{ index: 0, from: iso(T0), to: iso(T0 + 1000) }, { index: 1, from: iso(T0 + 1000), to: iso(T0 + 2000), sealed: true, room: 'private-1' }],
    screen: [{ index: 2, from: iso(T0 + 1000), to: iso(T0 + 2000), sealed: true, room: 'private-1' }] }] });
  assert.deepEqual(m.lanes[0].segments.map((s) => Boolean(s.sealed)), [false, true]);
  assert.equal(m.lanes[0].screen[0].sealed, true);
  const f = normalize(fromRecording({ started_at: iso(T0), ended_at: iso(T0 + 3000), participants: [{ id: 'p1', name: 'A', role: 'party', segments: [
    { index: 0, wall_start: iso(T0), wall_end: iso(T0 + 1000), url: '/a' },
    { index: 1, wall_start: iso(T0 + 1000), wall_end: iso(T0 + 2000), sealed: true, room: 'private-1', url: '' },
  ] }] }));
  assert.deepEqual(f.lanes[0].segments.map((s) => Boolean(s.sealed)), [false, true]);
});

test('ticks: round steps, at most max, aligned to the zone', () => {
  let r = ticks(T0, T0 + 60000, 6, 'UTC');
  assert.equal(r.step, 15000);
  assert.deepEqual(r.ticks, [T0, T0 + 15000, T0 + 30000, T0 + 45000, T0 + 60000]);
  r = ticks(T0 + 1234, T0 + 9000, 10, 'UTC');
  assert.equal(r.step, 1000);
  assert.equal(r.ticks[0], T0 + 2000);
  assert.ok(r.ticks.length <= 10);
  // An hour-long session in a +05:45 zone: ticks on round local quarter hours.
  const start = Date.parse('2026-11-27T06:07:00Z');
  r = ticks(start, start + 3600000, 5, 'Asia/Kathmandu');
  assert.equal(r.step, 900000);
  for (const tk of r.ticks) {
    const local = new Date(tk + 5.75 * 3600000);
    assert.equal(local.getUTCMinutes() % 15, 0, new Date(tk).toISOString());
    assert.equal(local.getUTCSeconds(), 0);
  }
  r = ticks(T0, T0 + 10 * 86400000, 3, 'UTC');
  assert.equal(r.step, 86400000, 'the largest step when nothing fits');
});

test('shorten counts characters, not UTF-16 units', () => {
  assert.equal(shorten('Niccolò Rossi', 20), 'Niccolò Rossi');
  assert.equal(shorten('Niccolò Rossi', 8), 'Niccolò…');
  assert.equal(shorten('王芳王芳王芳', 3), '王芳…');
});
