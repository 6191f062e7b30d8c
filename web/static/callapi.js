// @ts-check
/**
 * The call routes of the API (docs/api.md, "Call routes") for the call
 * page: requests on behalf of the participant in the call, authenticated
 * by the call token the server sent with joined or resumed (in a header,
 * never a cookie). Errors come out as {@link ApiError} with the server's
 * stable code.
 *
 * @module callapi
 */

import { ApiError } from './api.js';

/**
 * Sends one request of a call route.
 * @param {string} token the call token (SessionClient.callToken)
 * @param {string} method
 * @param {string} path e.g. /api/v1/call/<session>/me
 * @param {{json?: unknown, body?: Blob | ArrayBuffer, type?: string, fetch?: typeof fetch}} [options]
 *   json is sent as JSON; body as is, with type as its Content-Type
 * @returns {Promise<Response>} the answer when it is 2xx
 */
export async function callFetch(token, method, path, { json, body, type, fetch: fetchFn } = {}) {
  if (!token) throw new ApiError(401, 'call_token_invalid', 'not in a call');
  /** @type {Record<string, string>} */
  const headers = { 'Authorization': `Call ${token}` };
  /** @type {BodyInit | undefined} */
  let payload;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['Content-Type'] = type || 'application/octet-stream';
    payload = body;
  }
  /** @type {Response} */
  let res;
  try {
    res = await (fetchFn ?? globalThis.fetch)(path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
  }
  if (res.ok) return res;
  /** @type {any} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  throw new ApiError(res.status, data?.error?.code || data?.code || `http_${res.status}`, data?.error?.message || data?.message || res.statusText);
}

/**
 * A call route answering JSON.
 * @param {string} token
 * @param {string} method
 * @param {string} path
 * @param {unknown} [json]
 * @returns {Promise<any>}
 */
export async function callJSON(token, method, path, json) {
  const res = await callFetch(token, method, path, json === undefined ? {} : { json });
  return res.status === 204 ? null : res.json();
}
