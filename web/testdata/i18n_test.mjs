// Tests of static/i18n.js. Run: node --test web/testdata/i18n_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LANGUAGES, detectLanguage, normalize, setLanguage, t, has } from '../static/i18n.js';

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

test('normalize', () => {
  assert.equal(normalize('zh'), 'zh-CN');
  assert.equal(normalize('zh-TW'), 'zh-CN');
  assert.equal(normalize('it-IT'), 'it');
  assert.equal(normalize('EN_us'), 'en');
  assert.equal(normalize('fr'), null);
  assert.equal(normalize(''), null);
});

test('detectLanguage order: query, participant, browser, English', () => {
  assert.equal(detectLanguage({ search: '?lang=it', participantLanguage: 'zh-CN', browserLanguages: ['en'] }), 'it');
  assert.equal(detectLanguage({ search: '?lang=xx', participantLanguage: 'zh-CN', browserLanguages: ['en'] }), 'zh-CN');
  assert.equal(detectLanguage({ search: '', browserLanguages: ['fr-FR', 'it'] }), 'it');
  assert.equal(detectLanguage({ search: '', browserLanguages: ['fr'] }), 'en');
});

test('every language has every key, and placeholders match', () => {
  setLanguage('en');
  const source = readFileSync(new URL('../static/i18n.js', import.meta.url), 'utf8');
  const keys = [...source.matchAll(/^\s+'([a-z_.A-Z]+)': '/gm)].map((m) => m[1]);
  const english = new Set(keys);
  for (const { code } of LANGUAGES) {
    setLanguage(code);
    for (const key of english) {
      assert.ok(has(key), key);
      const text = t(key);
      setLanguage('en');
      const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
      assert.equal(placeholders(text), placeholders(t(key)), `${code} ${key}`);
      setLanguage(code);
    }
  }
  // Each key appears once per language: three times in the file.
  const counts = new Map();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const [k, n] of counts) assert.equal(n, LANGUAGES.length, `${k} appears ${n} times`);
});

test('t substitutes and falls back', () => {
  setLanguage('zh-CN');
  assert.equal(t('you', { name: '王' }), '王（我）');
  assert.equal(t('no.such.key'), 'no.such.key');
  setLanguage('it');
  assert.match(t('consent.text'), /registrazione/);
});

test('every key used by app.js and its modules exists', () => {
  const app = moduleSources('app.js', ['i18n.js']);
  assert.match(app, /export function renderControls/, 'the modules app.js imports are read');
  const html = readFileSync(new URL('../static/join.html', import.meta.url), 'utf8');
  const used = [
    ...[...app.matchAll(/\bt\('([a-zA-Z_.]+)'/g)].map((m) => m[1]),
    ...[...app.matchAll(/'((?:control|media|status)\.[a-zA-Z_]+)'/g)].map((m) => m[1]),
    ...[...html.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]),
  ];
  assert.ok(used.length > 20);
  for (const key of used) assert.ok(has(key), `missing key ${key}`);
});
