// Tests of the staff pages' strings (static/staff-strings.js) against the
// keys static/staff.js and static/staff.html use.
// Run: node --test web/testdata/staff_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LANGUAGES, addStrings, has, setLanguage, t } from '../static/i18n.js';
import { STAFF_STRINGS } from '../static/staff-strings.js';

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
});

test('the staff page has no inline code', () => {
  const html = readFileSync(new URL('../static/staff.html', import.meta.url), 'utf8').toLowerCase();
  for (const bad of ['<style', ' style=', ' onclick=', 'javascript:']) assert.ok(!html.includes(bad), bad);
  const js = moduleSources('staff.js');
  assert.ok(!/innerHTML|insertAdjacentHTML|document\.write/.test(js), 'the staff pages must build the DOM without HTML strings');
});
