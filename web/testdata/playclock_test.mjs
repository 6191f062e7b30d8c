// Tests of static/playclock.js: wall time → (segment, file time), segment
// boundaries, gaps, preloading, drift decisions, the shared clock and link
// refreshes. Run: node --test web/testdata/playclock_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Clock, DRIFT_LIMIT, HOLE_TOLERANCE, buildTracks, driftAction, fileStarts, fileTimeAt, linksStale, locate, preloadPos,
  spanOf, updateLinks, wallAt,
} from '../static/playclock.js';

const T0 = Date.parse('2026-11-27T06:00:00Z');
const iso = (ms) => new Date(ms).toISOString();

/**
 * A participant's raw segments as the API lists them: [startSeconds,
 * endSeconds] after T0, media times within the file.
 */
function rawSegments(spans, { cumulative = false } = {}) {
  let first = null;
  return spans.map(([a, b], i) => {
    first ??= a;
    const mediaStart = cumulative ? a - first : 0;
    return {
      index: i, key: `sessions/s/p/${String(i).padStart(6, '0')}.webm`, bytes: 1000 * (i + 1), sha256: 'x',
      wall_start: iso(T0 + a * 1000), wall_end: iso(T0 + b * 1000),
      media_start: mediaStart, media_end: mediaStart + (b - a), url: `/api/v1/media/${i}?v=1`,
    };
  });
}

const recording = {
  links_expire: iso(T0 + 15 * 60000),
  participants: [
    // Three 2-second segments back to back, then a 3-second disconnect gap, then one more.
    { id: 'a', name: 'Chen Wei', role: 'party', segments: rawSegments([[0, 2], [2, 4], [4, 6], [9, 11]]) },
    // Joins a second late; listed out of order.
    { id: 'b', name: 'Giulia', role: 'party', segments: rawSegments([[3, 5], [1, 3]]).map((s, i) => ({ ...s, index: 1 - i })) },
  ],
};

test('buildTracks sorts segments by wall time and keeps their links', () => {
  const [a, b] = buildTracks(recording);
  assert.equal(a.id, 'a');
  assert.equal(a.segments.length, 4);
  assert.deepEqual(b.segments.map((s) => s.index), [0, 1]);
  assert.equal(b.segments[0].wallStart, T0 + 1000);
  assert.equal(a.segments[3].fileStart, 0);
  assert.equal(a.segments[3].fileEnd, 2);
  assert.equal(a.segments[1].url, '/api/v1/media/1?v=1');
});

test('buildTracks makes a screen share a track of its own, and refreshes its links', () => {
  const [cam0, cam1, scr] = rawSegments([[0, 2], [4, 6], [1, 5]]);
  const rec = { participants: [{ id: 'a', name: 'Chen Wei', role: 'party', segments: [
    cam0, { ...scr, index: 1, stream: 'screen', key: 'sessions/s/a/screen/000001.webm', url: '/s?v=1', media_start: 0 },
    { ...cam1, index: 2 }] }] };
  const tracks = buildTracks(rec);
  assert.deepEqual(tracks.map((tr) => [tr.id, tr.name, tr.segments.map((s) => s.index)]),
    [['a', 'Chen Wei', [0, 2]], ['a~screen', 'Chen Wei', [1]]]);
  // The camera's hole while the screen was shared stays a hole.
  assert.equal(locate(tracks[0], T0 + 3000).kind, 'gap');
  assert.equal(locate(tracks[1], T0 + 3000).time, 2);
  rec.participants[0].segments[1].url = '/s?v=2';
  assert.equal(updateLinks(tracks, rec), 1);
  assert.equal(tracks[1].segments[0].url, '/s?v=2');
  assert.equal(tracks[0].segments[0].url, '/api/v1/media/0?v=1');
});

test('buildTracks drops segments without a valid span', () => {
  const [tr] = buildTracks({ participants: [{ id: 'x', segments: [
    { index: 0, wall_start: 'bad', wall_end: iso(T0) },
    { index: 1, wall_start: iso(T0 + 1000), wall_end: iso(T0 + 1000) },
    { index: 2, wall_start: iso(T0), wall_end: iso(T0 + 500) },
  ] }] });
  assert.deepEqual(tr.segments.map((s) => s.index), [2]);
});

test('buildTracks leaves out segments sealed to the mediator without a link, keeps them with one', () => {
  const segs = (url) => [
    { index: 0, wall_start: iso(T0), wall_end: iso(T0 + 1000), url: '/a' },
    { index: 1, wall_start: iso(T0 + 1000), wall_end: iso(T0 + 2000), room: 'private-1', sealed: true, url },
    { index: 2, wall_start: iso(T0 + 2000), wall_end: iso(T0 + 3000), url: '/c' },
  ];
  const [others] = buildTracks({ participants: [{ id: 'x', segments: segs('') }] });
  assert.deepEqual(others.segments.map((s) => s.index), [0, 2]);
  assert.equal(locate(others, T0 + 1500).kind, 'gap');
  const [mediator] = buildTracks({ participants: [{ id: 'x', segments: segs('/b') }] });
  assert.deepEqual(mediator.segments.map((s) => s.index), [0, 1, 2]);
});

test('media_start within the file is used; counted from the first media it is not', () => {
  assert.deepEqual(fileStarts(rawSegments([[0, 2], [2, 4], [4, 6]])), [0, 0, 0]);
  assert.deepEqual(fileStarts(rawSegments([[0, 2], [2, 4], [4, 6]], { cumulative: true })), [0, 0, 0]);
  assert.deepEqual(fileStarts(rawSegments([[0, 30], [31, 40]], { cumulative: true })), [0, 0]);
  const inFile = rawSegments([[0, 2], [2, 4]]).map((s) => ({ ...s, media_start: 0.04, media_end: 2.04 }));
  assert.deepEqual(fileStarts(inFile), [0.04, 0.04]);
  const [tr] = buildTracks({ participants: [{ id: 'c', segments: inFile }] });
  assert.equal(fileTimeAt(tr.segments[1], T0 + 3000), 1.04);
  // Cumulative times of a track that starts late still map to file time 0.
  const late = buildTracks({ participants: [{ id: 'd', segments: rawSegments([[5, 7], [7, 9], [9, 10]], { cumulative: true }) }] })[0];
  assert.deepEqual(late.segments.map((s) => s.fileStart), [0, 0, 0]);
  assert.equal(locate(late, T0 + 8500).time, 1.5);
});

test('locate maps wall time to segment and file time', () => {
  const [a, b] = buildTracks(recording);
  let loc = locate(a, T0 + 500);
  assert.equal(loc.kind, 'media');
  assert.equal(loc.pos, 0);
  assert.equal(loc.time, 0.5);
  loc = locate(a, T0 + 5250);
  assert.equal(loc.pos, 2);
  assert.equal(loc.seg.index, 2);
  assert.equal(loc.time, 1.25);
  loc = locate(b, T0 + 3999);
  assert.equal(loc.pos, 1);
  assert.ok(Math.abs(loc.time - 0.999) < 1e-9);
  loc = locate(a, T0 + 10000);
  assert.equal(loc.pos, 3);
  assert.equal(loc.time, 1);
});

test('at a boundary the next segment plays', () => {
  const [a] = buildTracks(recording);
  for (const [t, pos, time] of [[2000, 1, 0], [4000, 2, 0], [1999, 0, 1.999], [3999.9, 1, 1.9999]]) {
    const loc = locate(a, T0 + t);
    assert.equal(loc.kind, 'media', `${t}`);
    assert.equal(loc.pos, pos, `${t}`);
    assert.ok(Math.abs(loc.time - time) < 1e-6, `${t}: ${loc.time}`);
  }
});

test('gaps: before the first segment, between segments, after the last', () => {
  const [a, b] = buildTracks(recording);
  let loc = locate(b, T0 + 500);
  assert.deepEqual(loc, { kind: 'gap', next: 0, prev: -1 });
  loc = locate(a, T0 + 6000);
  assert.deepEqual(loc, { kind: 'gap', next: 3, prev: 2 });
  loc = locate(a, T0 + 8999);
  assert.equal(loc.kind, 'gap');
  loc = locate(a, T0 + 11000);
  assert.deepEqual(loc, { kind: 'gap', next: -1, prev: 3 });
  loc = locate(a, T0 - 1);
  assert.equal(loc.kind, 'gap');
});

test('a hole shorter than the tolerance holds the last frame', () => {
  const [tr] = buildTracks({ participants: [{ id: 'h', segments: rawSegments([[0, 2], [2.1, 4], [5, 6]]) }] });
  assert.ok(HOLE_TOLERANCE >= 100);
  const loc = locate(tr, T0 + 2050);
  assert.equal(loc.kind, 'media');
  assert.equal(loc.pos, 0);
  assert.equal(loc.held, true);
  assert.equal(loc.time, 2);
  assert.equal(locate(tr, T0 + 4500).kind, 'gap', 'a second is a real gap');
});

test('overlapping segments: the later one wins once it starts', () => {
  const [tr] = buildTracks({ participants: [{ id: 'o', segments: rawSegments([[0, 2.1], [2, 4]]) }] });
  assert.equal(locate(tr, T0 + 2050).pos, 1);
  assert.equal(locate(tr, T0 + 1950).pos, 0);
});

test('wallAt inverts fileTimeAt', () => {
  const [a] = buildTracks(recording);
  const s = a.segments[2];
  for (const t of [T0 + 4000, T0 + 4500, T0 + 5999]) assert.ok(Math.abs(wallAt(s, fileTimeAt(s, t)) - t) < 1e-6);
  assert.equal(fileTimeAt(s, T0 + 9000), s.fileEnd, 'kept within the file');
  assert.equal(fileTimeAt(s, T0), s.fileStart);
});

test('preloadPos names the next segment shortly before it starts', () => {
  const [a, b] = buildTracks(recording);
  assert.equal(preloadPos(a, T0 + 500, 1000), -1, 'too early');
  assert.equal(preloadPos(a, T0 + 1200, 1000), 1);
  assert.equal(preloadPos(a, T0 + 5500, 4000), 3, 'across a gap');
  assert.equal(preloadPos(a, T0 + 7000, 4000), 3, 'inside the gap');
  assert.equal(preloadPos(a, T0 + 10000, 4000), -1, 'last segment');
  assert.equal(preloadPos(b, T0, 2000), 0, 'before the first');
});

test('spanOf covers every track and the timeline', () => {
  const tracks = buildTracks(recording);
  assert.deepEqual(spanOf(tracks), { start: T0, end: T0 + 11000 });
  assert.deepEqual(spanOf(tracks, { start: iso(T0 - 5000), end: iso(T0 + 12000) }), { start: T0 - 5000, end: T0 + 12000 });
  assert.equal(spanOf([]), null);
  assert.deepEqual(spanOf([], { start: iso(T0), end: iso(T0 + 1) }), { start: T0, end: T0 + 1 });
});

test('driftAction: within the limit nothing, beyond it a seek, while seeking wait', () => {
  assert.ok(DRIFT_LIMIT > 0.1 && DRIFT_LIMIT <= 0.2);
  assert.deepEqual(driftAction(10, 10.1), { action: 'none', drift: 10.1 - 10 });
  assert.equal(driftAction(10, 9.9).action, 'none');
  assert.deepEqual(driftAction(10, 10.2), { action: 'seek', drift: 10.2 - 10, to: 10 });
  assert.equal(driftAction(10, 9.8).action, 'seek');
  assert.equal(driftAction(10, 12, { seeking: true }).action, 'wait');
  assert.equal(driftAction(10, Number.NaN).action, 'seek');
  assert.equal(driftAction(10, 10.3, { limit: 0.5 }).action, 'none');
});

test('Clock: play, pause, seek, rate, hold, end', () => {
  const c = new Clock(T0, T0 + 10000);
  assert.equal(c.now(0), T0);
  c.play(1000);
  assert.equal(c.now(1500), T0 + 500);
  c.setRate(2, 1500);
  assert.equal(c.now(2000), T0 + 1500);
  c.pause(2000);
  assert.equal(c.now(9000), T0 + 1500, 'paused');
  c.seek(T0 + 8000, 9000);
  c.setRate(0.5, 9000);
  c.play(9000);
  assert.equal(c.now(11000), T0 + 9000);
  c.hold(true, 11000);
  assert.equal(c.now(15000), T0 + 9000, 'held');
  c.hold(false, 15000);
  assert.equal(c.now(16000), T0 + 9500);
  assert.equal(c.now(100000), T0 + 10000, 'stops at the end');
  assert.equal(c.ended(100000), true);
  c.pause(100000);
  c.play(100000);
  assert.equal(c.now(100000), T0, 'playing again from the end starts over');
  c.seek(T0 - 5, 0);
  assert.equal(c.pos, T0, 'seek is kept within the span');
});

test('linksStale and updateLinks', () => {
  const now = T0;
  assert.equal(linksStale(iso(now + 120000), now), false);
  assert.equal(linksStale(iso(now + 30000), now), true);
  assert.equal(linksStale(iso(now - 1), now), true);
  assert.equal(linksStale(undefined, now), false);
  assert.equal(linksStale(now + 10, now, 0), false);
  const tracks = buildTracks(recording);
  const fresh = structuredClone(recording);
  fresh.participants[0].segments[2].url = '/api/v1/media/2?v=2';
  fresh.participants[1].segments[0].url = '/api/v1/media/b1?v=2';
  assert.equal(updateLinks(tracks, fresh), 2);
  assert.equal(tracks[0].segments[2].url, '/api/v1/media/2?v=2');
  assert.equal(tracks[1].segments.find((s) => s.index === 1).url, '/api/v1/media/b1?v=2');
  assert.equal(updateLinks(tracks, fresh), 0);
});
