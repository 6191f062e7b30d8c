// Tests of the pure parts of static/staff-identity.js.
// Run: node --test web/testdata/staff_identity_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addStrings, setLanguage } from '../static/i18n.js';
import { STAFF_STRINGS } from '../static/staff-strings.js';
import { MAX_RETENTION_DAYS, documentNumber, methodText, parseRetention, splitImages, viewableCount } from '../static/staff-identity.js';

const img = (index, kind, step = 0, deleted = false) => ({ index, kind, step, sha256: '', bytes: 1, width: 64, height: 64, deleted });

test('the viewer puts the document, front first, beside the frames in challenge order, without deleted images', () => {
  const check = { images: [img(0, 'face', 1), img(1, 'document_back'), img(2, 'face', 0), img(3, 'document_front'),
    img(4, 'face', 0), img(5, 'face', 2, true)] };
  const { documents, frames } = splitImages(check);
  assert.deepEqual(documents.map((i) => i.index), [3, 1]);
  assert.deepEqual(frames.map((i) => i.index), [2, 4, 0]);
  assert.equal(viewableCount(check), 5);
  assert.deepEqual(splitImages({}), { documents: [], frames: [] });
  assert.equal(viewableCount({ images: [img(0, 'face', 0, true)] }), 0);
});

test('the method names the presider and any verification service with its score', () => {
  addStrings(STAFF_STRINGS);
  setLanguage('en');
  assert.equal(methodText({}), 'Presider\'s decision');
  assert.equal(methodText({ provider: { name: 'acme', state: 'match', score: 0.934 } }), 'Presider\'s decision · acme: match, score 0.93');
  assert.equal(methodText({ provider: { name: 'acme', state: 'pending' } }), 'Presider\'s decision · acme: pending');
  assert.equal(methodText({ provider: { name: 'acme', state: 'strange' } }), 'Presider\'s decision · acme: strange');
  setLanguage('it');
  assert.equal(methodText({ provider: { name: 'acme', state: 'no_match', score: 0.1 } }), 'Decisione di chi presiede · acme: non corrisponde, punteggio 0.10');
  setLanguage('en');
});

test('the document number is the stored one, masked or not', () => {
  assert.equal(documentNumber({ mrz: { document_number: '******2C3' } }), '******2C3');
  assert.equal(documentNumber({}), '');
});

test('the retention is a whole number of days from 1 to 3650', () => {
  assert.equal(parseRetention('30'), 30);
  assert.equal(parseRetention(' 1 '), 1);
  assert.equal(parseRetention(String(MAX_RETENTION_DAYS)), 3650);
  for (const bad of ['0', '3651', '', '2.5', '-3', '1e3', 'abc', '10000']) assert.equal(parseRetention(bad), null, bad);
});
