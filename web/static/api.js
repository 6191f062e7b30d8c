// @ts-check
/**
 * The staff REST API (docs/api.md) for the browser: a thin wrapper around
 * fetch with no DOM dependency, so that node tests can drive it with a fake
 * fetch.
 *
 * The browser authenticates with the HttpOnly login cookie that the login
 * answer sets; this module never keeps the login token itself. It keeps the
 * login's CSRF token in memory (from the login answer, or from GET /me
 * after a reload) and sends it as X-CSRF-Token on every write. Errors come
 * out as {@link ApiError} with the server's stable code.
 *
 * @module api
 */

/**
 * @typedef {{id: string, org_id: string, email: string, name: string, role: string}} Account
 * @typedef {{id: string, name: string, role: string}} Presider
 * @typedef {{id: string, org_id: string, kind: string, number: string, title: string, status: string, created_by: string, created_at: string,
 *   last_session_at?: string | null, session_count?: number, presiders?: Presider[]}} Case
 * @typedef {{state: string, sealed_at?: string, retain_until?: string, legal_hold: boolean, failure?: string, gap_count?: number}} RecordingSummary
 * @typedef {{id: string, expires_at: string, revoked_at?: string, created_at: string}} InviteInfo
 * @typedef {{id: string, role: string, name: string, language: string, time_zone: string, email?: string,
 *   consent_at?: string, joined_at?: string, left_at?: string, interprets_for?: string, invites: InviteInfo[]}} Participant
 * @typedef {{id: string, case_id: string, title: string, scheduled_start: string, scheduled_end?: string,
 *   time_zone: string, record: boolean, waiting_room: boolean, state: string, started_at?: string,
 *   ended_at?: string, participants: Participant[], recording?: RecordingSummary | null,
 *   self_booking?: {open: boolean, booked_at: string | null}}} Session
 * @typedef {{name: string, role: string, language: string}} Party
 * @typedef {{seq: number, time: string, actor_kind: string, actor_id: string, actor_name?: string, action: string, case_id?: string,
 *   session_id?: string, ip: string, detail?: string, hash: string}} AuditEntry
 * @typedef {{subject: string, body: string, ics: string, ics_filename: string}} Invitation
 * @typedef {{id: string, participant_id: string, url: string, expires_at: string, invitation?: Invitation}} NewInvite
 */

/** An error answered by the API, or a failure to reach it. */
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the server was not reached
   * @param {string} code the stable error code ('network' when not reached)
   * @param {string} message for a person
   * @param {number} [retryAfter] seconds to wait, from Retry-After
   */
  constructor(status, code, message, retryAfter = 0) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** Whether the login is missing or over: the page should log in again. */
  get unauthenticated() {
    return this.status === 401 && this.code !== 'bad_credentials';
  }
}

/** Methods that change something and need the CSRF header. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Builds a query string from the defined, non-empty values of params.
 * @param {Record<string, string | number | undefined | null>} params
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class Api {
  /**
   * @param {{fetch?: typeof fetch, base?: string}} [options] base is
   *   prepended to every path ('' for the page's origin)
   */
  constructor({ fetch: fetchFn, base = '' } = {}) {
    /** @type {typeof fetch} */
    this.fetch = fetchFn ?? ((input, init) => globalThis.fetch(input, init));
    this.base = base;
    /** The CSRF token of the current login, '' when logged out. */
    this.csrf = '';
  }

  /**
   * Sends one request and decodes the JSON answer.
   * @param {string} method
   * @param {string} path under the base, e.g. /api/v1/cases
   * @param {unknown} [body] sent as JSON when defined
   * @returns {Promise<any>} the decoded answer, or null for 204
   */
  async request(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (WRITES.has(method) && this.csrf) headers['X-CSRF-Token'] = this.csrf;
    /** @type {Response} */
    let res;
    try {
      res = await this.fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
    }
    if (res.status === 204) return null;
    const text = await res.text().catch(() => '');
    /** @type {any} */
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : null;
      const retry = Number.parseInt(res.headers.get('Retry-After') ?? '', 10);
      throw new ApiError(
        res.status,
        e && typeof e.code === 'string' ? e.code : (res.status >= 500 ? 'internal' : `http_${res.status}`),
        e && typeof e.message === 'string' ? e.message : res.statusText,
        Number.isFinite(retry) && retry > 0 ? retry : 0,
      );
    }
    if (data === null) throw new ApiError(res.status, 'bad_answer', 'the server answered something other than JSON');
    return data;
  }

  // ---- Authentication ----

  /**
   * Logs in; the browser keeps the cookie, this object the CSRF token.
   * The login token of the answer is dropped on purpose.
   * @param {string} email
   * @param {string} password
   * @returns {Promise<{account: Account, expires_at: string}>}
   */
  async login(email, password) {
    const a = await this.request('POST', '/api/v1/login', { email, password });
    this.csrf = a.csrf_token ?? '';
    return { account: a.account, expires_at: a.expires_at };
  }

  /** Ends the login. The CSRF token is forgotten even if the call fails. */
  async logout() {
    try {
      await this.request('POST', '/api/v1/logout');
    } finally {
      this.csrf = '';
    }
  }

  /**
   * Who is logged in (by the cookie); refreshes the CSRF token.
   * @returns {Promise<{account: Account, expires_at: string}>}
   */
  async me() {
    const a = await this.request('GET', '/api/v1/me');
    this.csrf = a.csrf_token ?? '';
    return { account: a.account, expires_at: a.expires_at };
  }

  // ---- Cases ----

  /**
   * Searches the organization's cases; every parameter is optional.
   * @param {{q?: string, kind?: string, from?: string, to?: string, presider?: string, mine?: number,
   *   sort?: string, order?: string, limit?: number, offset?: number}} [params]
   * @returns {Promise<{cases: Case[], total: number, limit: number, offset: number}>}
   */
  searchCases(params = {}) {
    return this.request('GET', '/api/v1/cases' + query(params));
  }

  /**
   * The organization's active mediators, notaries and judges.
   * @returns {Promise<{presiders: Presider[]}>}
   */
  presiders() {
    return this.request('GET', '/api/v1/presiders');
  }

  /**
   * @param {{kind: string, number: string, title: string}} c
   * @returns {Promise<Case>}
   */
  createCase(c) {
    return this.request('POST', '/api/v1/cases', c);
  }

  /**
   * @param {string} id
   * @returns {Promise<{case: Case, sessions: Session[], parties?: Party[]}>}
   */
  getCase(id) {
    return this.request('GET', `/api/v1/cases/${encodeURIComponent(id)}`);
  }

  // ---- Sessions ----

  /**
   * @param {string} caseId
   * @param {{title: string, scheduled_start?: string, scheduled_end?: string, time_zone: string, record?: boolean, waiting_room?: boolean, self_booking?: boolean}} s
   * @returns {Promise<Session>}
   */
  createSession(caseId, s) {
    return this.request('POST', `/api/v1/cases/${encodeURIComponent(caseId)}/sessions`, s);
  }

  /**
   * @param {string} id
   * @returns {Promise<{session: Session, case: Case}>}
   */
  getSession(id) {
    return this.request('GET', `/api/v1/sessions/${encodeURIComponent(id)}`);
  }

  // ---- Invites ----

  /**
   * Creates a participant and its invite link; the link is in this answer
   * only.
   * @param {string} sessionId
   * @param {{name: string, role: string, language?: string, email?: string, time_zone?: string, expires_at?: string,
   *   interprets_for?: string}} inv
   * @returns {Promise<NewInvite>}
   */
  createInvite(sessionId, inv) {
    return this.request('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/invites`, inv);
  }

  /**
   * @param {string} id
   * @returns {Promise<null>}
   */
  revokeInvite(id) {
    return this.request('DELETE', `/api/v1/invites/${encodeURIComponent(id)}`);
  }

  // ---- Recordings ----

  /**
   * The recording of a session: its state, and every participant's
   * segments with playback links. Listing it is audited, as
   * recording.play with play (the links are fetched to play them), else as
   * recording.view.
   * @param {string} sessionId
   * @param {{play?: boolean}} [options]
   * @returns {Promise<any>}
   */
  recording(sessionId, { play = false } = {}) {
    return this.request('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/recordings${play ? '?play=1' : ''}`);
  }

  /**
   * The timeline of a recorded session: a lane per participant (presence,
   * segments, gaps, speaking) and its marks. Audited.
   * @param {string} sessionId
   * @returns {Promise<any>}
   */
  timeline(sessionId) {
    return this.request('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/timeline`);
  }

  /**
   * Checks the stored recording as `kuayang verify` checks a bundle.
   * @param {string} sessionId
   * @returns {Promise<any>}
   */
  verify(sessionId) {
    return this.request('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/verify`);
  }

  /**
   * Puts a sealed recording on legal hold, or takes it off.
   * @param {string} sessionId
   * @param {boolean} on
   * @returns {Promise<null>}
   */
  setLegalHold(sessionId, on) {
    return this.request('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/legal-hold`, { on });
  }

  /**
   * The address of a sealed session's evidence bundle (a download).
   * @param {string} sessionId
   */
  bundleURL(sessionId) {
    return `${this.base}/api/v1/sessions/${encodeURIComponent(sessionId)}/bundle`;
  }

  /**
   * The exact size of a sealed session's evidence bundle in bytes (a HEAD
   * request: not an export), or null when the node does not say.
   * @param {string} sessionId
   * @returns {Promise<number | null>}
   */
  async bundleSize(sessionId) {
    /** @type {Response} */
    let res;
    try {
      res = await this.fetch(this.bundleURL(sessionId), { method: 'HEAD', credentials: 'same-origin', cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
    }
    if (!res.ok) throw new ApiError(res.status, res.status >= 500 ? 'internal' : `http_${res.status}`, res.statusText);
    const n = Number.parseInt(res.headers.get('Content-Length') ?? '', 10);
    return Number.isFinite(n) && n > 0 ? n : null;
  }

  /**
   * The address of a sealed session's printable certificate.
   * @param {string} sessionId
   */
  certificateURL(sessionId) {
    return `${this.base}/api/v1/sessions/${encodeURIComponent(sessionId)}/certificate`;
  }

  // ---- Audit ----

  /**
   * @param {{case_id?: string, session_id?: string, after_seq?: number, limit?: number, access?: number}} [params]
   *   access=1 keeps only who viewed, played, verified or exported what
   * @returns {Promise<{entries: AuditEntry[]}>}
   */
  audit(params = {}) {
    return this.request('GET', '/api/v1/audit' + query(params));
  }

  /**
   * The address of the same entries as a CSV download.
   * @param {{case_id?: string, session_id?: string, access?: number}} params
   */
  auditCSVURL(params) {
    return `${this.base}/api/v1/audit${query({ ...params, format: 'csv' })}`;
  }
}
