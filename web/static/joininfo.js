// @ts-check
/**
 * The join call of the signaling client (protocol.js): `POST /api/v1/join`,
 * the freshness of its join token, and the websocket URL it names. Plain
 * functions; the browser globals are passed in.
 *
 * @module joininfo
 */

import { ProtocolError, errorText } from './protocol-errors.js';

/** @typedef {import('./protocol.js').JoinInfo} JoinInfo */

/** A cached join token is used only if it stays valid this long. */
const TOKEN_MARGIN_MS = 10_000;

/**
 * POST /api/v1/join.
 * @param {typeof fetch} fetchFn
 * @param {string} apiBase prefix of the API URL, '' for same origin
 * @param {string} invite
 * @returns {Promise<JoinInfo>}
 * @throws {ProtocolError} with the API's error code, or `network`
 */
export async function fetchJoinInfo(fetchFn, apiBase, invite) {
  let res;
  try {
    res = await fetchFn(`${apiBase}/api/v1/join`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ invite }),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch (err) {
    throw new ProtocolError('network', errorText(err));
  }
  const body = await readJSON(res);
  if (!res.ok) {
    const e = body?.error;
    const code = typeof e?.code === 'string' ? e.code : (res.status >= 500 ? 'internal' : 'bad_request');
    throw new ProtocolError(code, e?.message ?? `HTTP ${res.status}`, { status: res.status });
  }
  if (!body || typeof body.join_token !== 'string' || !body.session || !body.participant) {
    throw new ProtocolError('internal', 'malformed join answer');
  }
  return body;
}

/**
 * The body of res as JSON, or null if it is not JSON (a proxy's error
 * page, for instance).
 * @param {Response} res
 * @returns {Promise<any>}
 */
async function readJSON(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/**
 * Reports whether the join token of info stays valid long enough to use.
 * @param {JoinInfo} info
 */
export function tokenIsFresh(info) {
  const expires = Date.parse(info.expires_at ?? '');
  return !(Number.isFinite(expires) && expires - Date.now() < TOKEN_MARGIN_MS);
}

/**
 * The websocket URL: wsURL from the join answer, resolved against the
 * page, or /ws on the page's host.
 * @param {string} pageHref
 * @param {string | undefined} wsURL
 */
export function webSocketURL(pageHref, wsURL) {
  const url = new URL(wsURL || '/ws', pageHref);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol === 'http:') url.protocol = 'ws:';
  return url.toString();
}
