// Tests of the staff pages' strings (static/staff-strings.js) against the
// keys static/staff.js and static/staff.html use.
// Run: node --test web/testdata/staff_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LANGUAGES, addStrings, has, setLanguage, t } from '../static/i18n.js';
import { STAFF_STRINGS } from '../static/staff-strings.js';
import { ORDERS, SORTS, filtersQuery, readFilters, searchParams } from '../static/staff-cases.js';
import { SPEEDS, duration } from '../static/player.js';

/**
 * The source of the module entry (a file in static/) and of every module it
 * imports, directly or not, except those named in skip.
 * @param {string} entry
 * @param {string[]} [skip]
 */
function moduleSources(entry, skip = []) {
  const seen = new Set(skip);
  const sources = [];
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const src = readFileSync(new URL(`../static/${name}`, import.meta.url), 'utf8');
    sources.push(src);
    for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from '\.\/([\w-]+\.js)'/gm)) visit(m[1]);
  };
  visit(entry);
  return sources.join('\n');
}

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

test('every language has the same staff keys and placeholders', () => {
  const english = Object.keys(STAFF_STRINGS.en);
  assert.ok(english.length > 100);
  for (const { code } of LANGUAGES) {
    const table = STAFF_STRINGS[code];
    assert.ok(table, code);
    assert.deepEqual(Object.keys(table).sort(), [...english].sort(), `${code} keys`);
    for (const key of english) {
      assert.ok(table[key].trim(), `${code} ${key} is empty`);
      assert.equal(placeholders(table[key]), placeholders(STAFF_STRINGS.en[key]), `${code} ${key}`);
    }
  }
});

test('addStrings merges the staff table', () => {
  assert.equal(has('staff.login.submit'), false);
  addStrings(STAFF_STRINGS);
  setLanguage('it');
  assert.equal(t('staff.login.submit'), 'Accedi');
  assert.equal(t('role.party'), 'Parte', 'the shared strings stay');
  setLanguage('zh-CN');
  assert.equal(t('staff.error.rate_limited', { seconds: 42 }), '登录失败次数过多，请 42 秒后再试。');
  setLanguage('en');
});

test('every key staff.js, its modules and staff.html use exists', () => {
  addStrings(STAFF_STRINGS);
  const js = moduleSources('staff.js', ['i18n.js', 'staff-strings.js']);
  assert.match(js, /export function drawSessions/, 'the modules staff.js imports are read');
  const html = readFileSync(new URL('../static/staff.html', import.meta.url), 'utf8');
  const used = [
    ...[...js.matchAll(/\bt\('([a-zA-Z_.]+)'/g)].map((m) => m[1]),
    ...[...js.matchAll(/'(staff\.[a-zA-Z_.]+)'/g)].map((m) => m[1]),
    ...[...html.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]),
  ];
  assert.ok(used.length > 80);
  for (const key of used) assert.ok(has(key), `missing key ${key}`);
  // Keys built at run time: states, statuses, actors, actions, error codes.
  for (const s of ['scheduled', 'live', 'ended']) assert.ok(has(`staff.state.${s}`), s);
  for (const a of ['login', 'login.failed', 'logout', 'case.create', 'case.view', 'session.create', 'invite.create',
    'invite.revoke', 'consent', 'session.join', 'session.leave', 'audit.view']) assert.ok(has(`staff.action.${a}`), a);
  for (const c of ['bad_credentials', 'rate_limited', 'login_expired', 'forbidden', 'not_found', 'csrf', 'duplicate_number',
    'recording_required']) assert.ok(has(`staff.error.${c}`), c);
  for (const r of ['party', 'interpreter', 'observer', 'mediator', 'notary', 'judge', 'clerk', 'admin']) assert.ok(has(`role.${r}`), r);
  // The clerk's desk: audit actions, timeline marks, gap reasons, verify problems, search and recording states.
  for (const a of ['recording.start', 'recording.stop', 'recording.failure', 'recording.sealed', 'recording.view', 'recording.play',
    'recording.timeline', 'recording.verify', 'recording.export', 'recording.certificate', 'recording.legal_hold', 'session.end',
    'audit.export']) assert.ok(has(`staff.action.${a}`), a);
  for (const m of ['consent', 'join', 'leave', 'recording.pause', 'recording.resume', 'session.end']) assert.ok(has(`staff.mark.${m}`), m);
  for (const g of ['disconnect', 'node_failure', 'loss', 'packet_loss', 'upload_failure', 'unknown']) assert.ok(has(`staff.gap.${g}`), g);
  for (const p of ['missing_file', 'extra_file', 'bad_bundle', 'bad_signature', 'wrong_key', 'bad_manifest', 'chain_broken', 'audit_broken',
    'size_mismatch', 'hash_mismatch', 'manifest_mismatch']) assert.ok(has(`staff.verify.problem.${p}`), p);
  for (const k of SORTS) assert.ok(has(`staff.search.sort.${k}`), k);
  for (const k of ORDERS) assert.ok(has(`staff.search.order.${k}`), k);
  for (const k of ['presence', 'segment', 'gap', 'speaking', 'mark']) assert.ok(has(`staff.timeline.legend.${k}`), k);
  for (const k of ['recording', 'sealing', 'sealed', 'failed']) assert.ok(has(`staff.recording.${k}`), k);
  for (const c of ['not_sealed', 'no_recording', 'link_expired', 'not_intact']) assert.ok(has(`staff.error.${c}`), c);
  for (const a of ['account.list']) assert.ok(has(`staff.action.${a}`), a);
});

test('the search filters survive a round trip through the URL', () => {
  const f = readFilters('?q=%E7%8E%8B&kind=hearing&from=2026-11-01&to=2026-11-30&presider=acc-1&sort=last_session&order=asc&mine=1&page=3');
  assert.deepEqual(f, { q: '王', kind: 'hearing', from: '2026-11-01', to: '2026-11-30', presider: 'acc-1', sort: 'last_session', order: 'asc', mine: true, page: 3 });
  assert.equal(filtersQuery(f), '?q=%E7%8E%8B&kind=hearing&from=2026-11-01&to=2026-11-30&presider=acc-1&sort=last_session&order=asc&mine=1&page=3');
  assert.deepEqual(readFilters(filtersQuery(f)), f);
  const defaults = readFilters('');
  assert.deepEqual(defaults, { q: '', kind: '', from: '', to: '', presider: '', sort: 'created', order: 'desc', mine: false, page: 1 });
  assert.equal(filtersQuery(defaults), '', 'the defaults are not written');
  // Anything unknown or malformed is dropped.
  assert.deepEqual(readFilters('?kind=divorce&from=2026-13-01&to=yesterday&sort=size&order=up&page=-2&mine=yes'), defaults);
  assert.equal(readFilters('?from=2026-02-30').from, '', 'not a real day');
});

test('searchParams turns the viewer\'s days into instants and pages into offsets', () => {
  const f = readFilters('?q=Niccol%C3%B2&from=2026-11-01&to=2026-11-30&page=2&sort=number&order=asc');
  const built = searchParams(f, 'Asia/Shanghai', 20);
  assert.ok('params' in built);
  assert.deepEqual(built.params, {
    q: 'Niccolò', kind: undefined, from: '2026-10-31T16:00:00Z', to: '2026-11-30T15:59:59Z', presider: undefined,
    sort: 'number', order: 'asc', mine: undefined, limit: 20, offset: 20,
  });
  // Across a change of offset: Rome leaves summer time on 2026-10-25.
  const rome = searchParams(readFilters('?from=2026-10-25&to=2026-10-25'), 'Europe/Rome', 20);
  assert.equal(rome.params.from, '2026-10-24T22:00:00Z');
  assert.equal(rome.params.to, '2026-10-25T22:59:59Z');
  assert.deepEqual(searchParams(readFilters('?from=2026-11-30&to=2026-11-01'), 'UTC'), { error: 'staff.search.badRange' });
  const plain = searchParams(readFilters(''), 'UTC', 20);
  assert.deepEqual(plain.params, { q: undefined, kind: undefined, from: undefined, to: undefined, presider: undefined, sort: undefined, order: undefined, mine: undefined, limit: 20, offset: 0 });
});

test('player speeds and durations', () => {
  assert.deepEqual(SPEEDS, [0.5, 1, 1.5, 2]);
  assert.equal(duration(0), '0:00');
  assert.equal(duration(65400), '1:05');
  assert.equal(duration(3723000), '1:02:03');
  assert.equal(duration(-5), '0:00');
});

test('the staff page has no inline code', () => {
  const html = readFileSync(new URL('../static/staff.html', import.meta.url), 'utf8').toLowerCase();
  for (const bad of ['<style', ' style=', ' onclick=', 'javascript:']) assert.ok(!html.includes(bad), bad);
  const js = moduleSources('staff.js');
  assert.ok(!/innerHTML|insertAdjacentHTML|document\.write/.test(js), 'the staff pages must build the DOM without HTML strings');
});
