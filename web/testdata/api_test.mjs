// Tests of static/api.js with a fake fetch. Run: node --test web/testdata/api_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Api, ApiError, query } from '../static/api.js';

/**
 * A fake fetch that answers from a queue and records the requests.
 * @param {...{status?: number, body?: unknown, headers?: Record<string, string>, raw?: string, throws?: Error}} answers
 */
function fakeFetch(...answers) {
  const calls = [];
  const fn = async (url, init = {}) => {
    calls.push({ url, method: init.method, headers: { ...init.headers }, body: init.body === undefined ? undefined : JSON.parse(init.body), init });
    const a = answers.shift();
    if (!a) throw new Error(`unexpected request ${init.method} ${url}`);
    if (a.throws) throw a.throws;
    const status = a.status ?? 200;
    const text = a.raw ?? (a.body === undefined ? '' : JSON.stringify(a.body));
    return new Response(status === 204 ? null : text, { status, headers: a.headers ?? { 'Content-Type': 'application/json' } });
  };
  fn.calls = calls;
  return fn;
}

const account = { id: 'a1', org_id: 'o1', email: 'clerk@example.org', name: 'Hu Jing', role: 'clerk' };

test('login keeps the CSRF token, drops the login token, and writes send it', async () => {
  const fetch = fakeFetch(
    { body: { token: 'SECRET-LOGIN', csrf_token: 'csrf-1', expires_at: '2026-12-01T00:00:00Z', account } },
    { status: 201, body: { id: 'c1', number: 'N1', title: 'T', kind: 'mediation' } },
    { body: { cases: [], total: 0, limit: 20, offset: 0 } },
    { status: 204 },
  );
  const api = new Api({ fetch });
  const me = await api.login('clerk@example.org', 'pw');
  assert.deepEqual(me.account, account);
  assert.equal(api.csrf, 'csrf-1');
  assert.ok(!JSON.stringify(api).includes('SECRET-LOGIN'), 'the login token must not be kept');
  // The login itself has no CSRF token yet.
  assert.equal(fetch.calls[0].url, '/api/v1/login');
  assert.equal(fetch.calls[0].method, 'POST');
  assert.equal(fetch.calls[0].headers['X-CSRF-Token'], undefined);
  assert.deepEqual(fetch.calls[0].body, { email: 'clerk@example.org', password: 'pw' });
  assert.equal(fetch.calls[0].init.credentials, 'same-origin');

  const c = await api.createCase({ kind: 'mediation', number: 'N1', title: 'T' });
  assert.equal(c.id, 'c1');
  assert.equal(fetch.calls[1].headers['X-CSRF-Token'], 'csrf-1');
  assert.equal(fetch.calls[1].headers['Content-Type'], 'application/json');

  await api.searchCases({ q: 'Chen Wei', kind: '', limit: 20, offset: 0 });
  assert.equal(fetch.calls[2].method, 'GET');
  assert.equal(fetch.calls[2].url, '/api/v1/cases?q=Chen+Wei&limit=20&offset=0');
  assert.equal(fetch.calls[2].headers['X-CSRF-Token'], undefined, 'reads need no CSRF token');

  assert.equal(await api.revokeInvite('i/1'), null);
  assert.equal(fetch.calls[3].method, 'DELETE');
  assert.equal(fetch.calls[3].url, '/api/v1/invites/i%2F1');
  assert.equal(fetch.calls[3].headers['X-CSRF-Token'], 'csrf-1');
});

test('me restores the CSRF token after a reload; logout forgets it', async () => {
  const fetch = fakeFetch(
    { body: { account, csrf_token: 'csrf-2', expires_at: 'x' } },
    { status: 201, body: { id: 's1' } },
    { status: 201, body: { id: 'inv', participant_id: 'p', url: 'http://x/join/t', expires_at: 'y' } },
    { status: 204 },
  );
  const api = new Api({ fetch, base: 'http://node' });
  await api.me();
  assert.equal(api.csrf, 'csrf-2');
  await api.createSession('c 1', { title: 'S', scheduled_start: '2026-12-01T06:00:00Z', time_zone: 'Asia/Shanghai' });
  assert.equal(fetch.calls[1].url, 'http://node/api/v1/cases/c%201/sessions');
  assert.equal(fetch.calls[1].headers['X-CSRF-Token'], 'csrf-2');
  const inv = await api.createInvite('s1', { name: 'Chen Wei', role: 'party', language: 'it' });
  assert.equal(inv.url, 'http://x/join/t');
  assert.equal(fetch.calls[2].url, 'http://node/api/v1/sessions/s1/invites');
  assert.equal(fetch.calls[2].headers['X-CSRF-Token'], 'csrf-2');
  await api.logout();
  assert.equal(fetch.calls[3].headers['X-CSRF-Token'], 'csrf-2');
  assert.equal(api.csrf, '');
});

test('errors come out as ApiError with the code, message and Retry-After', async () => {
  const fetch = fakeFetch(
    { status: 401, body: { error: { code: 'bad_credentials', message: 'wrong email or password' } } },
    { status: 429, body: { error: { code: 'rate_limited', message: 'too many failed logins; try again in 42 seconds' } }, headers: { 'Retry-After': '42', 'Content-Type': 'application/json' } },
    { status: 401, body: { error: { code: 'login_expired', message: 'log in again' } } },
    { status: 409, body: { error: { code: 'duplicate_number', message: 'exists' } } },
    { status: 502, raw: '<html>Bad gateway</html>', headers: { 'Content-Type': 'text/html' } },
    { throws: new TypeError('Failed to fetch') },
    { status: 200, raw: 'not json' },
  );
  const api = new Api({ fetch });
  await assert.rejects(api.login('a@b', 'x'), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'bad_credentials');
    assert.equal(err.message, 'wrong email or password');
    assert.equal(err.unauthenticated, false, 'a wrong password is not a lost login');
    return true;
  });
  assert.equal(api.csrf, '');
  await assert.rejects(api.login('a@b', 'x'), { name: 'ApiError', code: 'rate_limited', status: 429, retryAfter: 42 });
  await assert.rejects(api.getCase('c1'), (err) => err.code === 'login_expired' && err.unauthenticated === true);
  await assert.rejects(api.createCase({ kind: 'mediation', number: 'n', title: 't' }), { code: 'duplicate_number', status: 409 });
  await assert.rejects(api.audit({ case_id: 'c1' }), { code: 'internal', status: 502 });
  await assert.rejects(api.me(), { code: 'network', status: 0 });
  await assert.rejects(api.searchCases(), { code: 'bad_answer' });
});

test('audit and session reads', async () => {
  const fetch = fakeFetch(
    { body: { entries: [{ seq: 1, action: 'case.create' }] } },
    { body: { session: { id: 's1' }, case: { id: 'c1' } } },
  );
  const api = new Api({ fetch });
  const { entries } = await api.audit({ case_id: 'c1', after_seq: undefined, limit: 200 });
  assert.equal(entries[0].action, 'case.create');
  assert.equal(fetch.calls[0].url, '/api/v1/audit?case_id=c1&limit=200');
  const s = await api.getSession('s1');
  assert.equal(s.session.id, 's1');
  assert.equal(fetch.calls[1].url, '/api/v1/sessions/s1');
});

test('query skips empty values', () => {
  assert.equal(query({}), '');
  assert.equal(query({ q: '', kind: undefined, limit: 0 }), '?limit=0');
  assert.equal(query({ q: '浙0328' }), '?q=%E6%B5%990328');
});

test('the clerk desk routes: search filters, presiders, timeline, play, verify, legal hold, links', async () => {
  const fetch = fakeFetch(
    { body: { cases: [], total: 0, limit: 20, offset: 20 } },
    { body: { presiders: [{ id: 'm1', name: 'Li Ming', role: 'mediator' }] } },
    { body: { session_id: 's/1', lanes: [], marks: [] } },
    { body: { participants: [] } },
    { body: { participants: [] } },
    { body: { ok: true, summary: 'intact' } },
    { status: 204 },
    { body: { entries: [] } },
  );
  const api = new Api({ fetch });
  api.csrf = 'c';
  await api.searchCases({ q: '王', kind: 'hearing', from: '2026-11-01', to: '2026-11-30', presider: 'm1', sort: 'last_session', order: 'asc', limit: 20, offset: 20 });
  assert.equal(fetch.calls[0].url, '/api/v1/cases?q=%E7%8E%8B&kind=hearing&from=2026-11-01&to=2026-11-30&presider=m1&sort=last_session&order=asc&limit=20&offset=20');
  assert.equal((await api.presiders()).presiders[0].name, 'Li Ming');
  assert.equal(fetch.calls[1].url, '/api/v1/presiders');
  await api.timeline('s/1');
  assert.equal(fetch.calls[2].url, '/api/v1/sessions/s%2F1/timeline');
  await api.recording('s1');
  assert.equal(fetch.calls[3].url, '/api/v1/sessions/s1/recordings');
  await api.recording('s1', { play: true });
  assert.equal(fetch.calls[4].url, '/api/v1/sessions/s1/recordings?play=1');
  assert.equal((await api.verify('s1')).ok, true);
  assert.equal(fetch.calls[5].method, 'POST');
  assert.equal(fetch.calls[5].url, '/api/v1/sessions/s1/verify');
  assert.equal(fetch.calls[5].body, undefined, 'verify sends no body');
  assert.equal(fetch.calls[5].headers['X-CSRF-Token'], 'c');
  assert.equal(await api.setLegalHold('s1', false), null);
  assert.deepEqual(fetch.calls[6].body, { on: false });
  assert.equal(fetch.calls[6].url, '/api/v1/sessions/s1/legal-hold');
  await api.audit({ case_id: 'c1', access: 1, limit: 500 });
  assert.equal(fetch.calls[7].url, '/api/v1/audit?case_id=c1&access=1&limit=500');
  assert.equal(api.bundleURL('s1'), '/api/v1/sessions/s1/bundle');
  assert.equal(api.certificateURL('s 1'), '/api/v1/sessions/s%201/certificate');
  assert.equal(api.auditCSVURL({ case_id: 'c1', access: 1 }), '/api/v1/audit?case_id=c1&access=1&format=csv');
});

test('bundleSize asks with HEAD and reads Content-Length', async () => {
  const fetch = fakeFetch(
    { raw: '', headers: { 'Content-Length': '1234567' } },
    { raw: '', headers: {} },
    { status: 409, raw: '' },
  );
  const api = new Api({ fetch });
  assert.equal(await api.bundleSize('s1'), 1234567);
  assert.equal(fetch.calls[0].method, 'HEAD');
  assert.equal(fetch.calls[0].url, '/api/v1/sessions/s1/bundle');
  assert.equal(await api.bundleSize('s1'), null);
  await assert.rejects(api.bundleSize('s1'), (err) => err instanceof ApiError && err.status === 409);
});
