// @ts-check
/**
 * Client side of the Kuayang signaling protocol, version 1
 * (docs/protocol.md): the join call, the websocket, and the two
 * RTCPeerConnections of a participant.
 *
 * - The publish connection carries the participant's own media. The client
 *   offers (`publish`) and applies the server's `answer`.
 * - The subscribe connection carries everyone else's media. The server
 *   offers (`offer`) and the client answers (`answer`).
 *
 * This module touches no DOM: the page (app.js) listens to the events of a
 * {@link Client}. Browser globals (fetch, WebSocket, RTCPeerConnection,
 * location) can be replaced through the constructor options for tests.
 *
 * The peer connections and their negotiation are in peers.js, the join
 * call in joininfo.js, the reconnection delays in reconnect.js and the
 * errors in protocol-errors.js.
 *
 * Events (CustomEvent, payload in `detail`):
 * - `state`               {state} the connection state changed (see {@link ClientState})
 * - `joined`              {self, session, participants, admitted, room, chat}, after every successful
 *                         join, including rejoins; when admitted is false the client waits (no media)
 * - `waiting`             {reason} in the waiting room: no media flows (`waiting_room`, `locked`,
 *                         `host_absent`, `removed`)
 * - `admitted`            {participants, chat} in the call now; media starts
 * - `lobby`               {waiting} (hosts) who waits, each with `reason`
 * - `room`                {locked} the room was locked or unlocked
 * - `notice`              {from, text} a host's message to this waiting participant
 * - `muted`               {kind, by} a host turned off the microphone or camera; already applied
 * - `chat`                {id, from, name, role, text, at} a chat message (own ones included)
 * - `rooms`               {rooms} the private rooms (caucuses) now, each {id, record, members}
 * - `recording`           {paused, reason, by} a host paused or resumed the recording
 * - `view-requested`      {by} a host asks this participant to pan the camera around the room
 * - `settlement`          {settlement, by} the settlement agreement shared in the session, as it
 *                         is now (also after joined, admitted and resumed)
 * - `settlement-saved`    {version, sha256, text, shared} (mediator) a version was saved
 * - `settlement-template` {template, language, text} (mediator) a template, filled
 * - `participant-joined`  {participant}
 * - `participant-updated` {participant}
 * - `participant-left`    {id, participant}
 * - `track`               {participantId, track, stream, screen} a remote track arrived (screen:
 *                         the sender's screen share)
 * - `track-removed`       {participantId, track, stream, screen}
 * - `screen`              {track} this client's screen share started, or stopped (track null: the
 *                         button, the browser's own "stop sharing", leaving or the waiting room)
 * - `reconnecting`        {attempt, delay} the connection was lost; retrying after delay ms
 * - `reconnected`         {self, session, participants, resumed}: resumed when the server kept
 *                         the place (docs/protocol.md, "Reconnecting"): the media connections
 *                         stayed and restarted ICE, and the changes of the meantime came as the
 *                         events above; otherwise a new join (`joined` came first)
 * - `error`               {code, message, ref, fatal}
 * - `closed`              {reason, message?} final: `left`, a `bye` reason, or an error code;
 *                         message is the host's words with `rejected`
 *
 * @module protocol
 */

import { Peers } from './peers.js';
import { Backoff } from './reconnect.js';
import { fetchJoinInfo, tokenIsFresh, webSocketURL } from './joininfo.js';
import { FRESH_TOKEN_CODES, ProtocolError, errorText, isPermanent } from './protocol-errors.js';

export { FATAL_CODES, ProtocolError, isPermanent } from './protocol-errors.js';

/** Version sent in `join`. */
export const PROTOCOL_VERSION = 1;

/** How long to wait for `joined` after opening the websocket. */
const DEFAULT_JOIN_TIMEOUT_MS = 15_000;

/** How long media may stay failed after an ICE restart before the client joins afresh. */
const ICE_RESTART_TIMEOUT_MS = 15_000;

/**
 * How long the client keeps trying to resume on a node it cannot reach
 * before it joins afresh (within the server's window): a node that went
 * down keeps no place, and joining lets another node take the room.
 */
const RESUME_UNREACHABLE_MS = 8_000;

/** How long leave() waits for the server's `bye`. */
const LEAVE_TIMEOUT_MS = 2_000;

/** WebSocket.OPEN, spelled out so that injected fakes need not define it. */
const WS_OPEN = 1;

/**
 * How many `redirect`s one join attempt follows (the room's node moved
 * while the client was on its way) before it gives up.
 */
const MAX_REDIRECTS = 3;

/** A `redirect` from the server: the room lives on the node at url. */
class Redirect extends Error {
  /** @param {string} url the hosting node's public URL */
  constructor(url) {
    super(`the room is on ${url}`);
    this.url = url;
  }
}

/**
 * @typedef {object} Participant
 * @property {string} id
 * @property {string} name
 * @property {string} role
 * @property {boolean} [audio]
 * @property {boolean} [video]
 * @property {boolean} [hand] whether their hand is raised
 * @property {boolean} [host] whether their role presides the session (mediator, notary, judge)
 * @property {string} [reason] why they wait (in `lobby` only)
 * @property {string} [language] only in the join answer
 * @property {string} [room] the private room they are in, '' for the joint room
 * @property {string} [interprets_for] for an interpreter, the party they interpret for
 * @property {boolean} [reconnecting] their connection dropped and the server keeps their place
 * @property {boolean} [screen] whether they share their screen
 */

/**
 * A private room (caucus): its members hear and see only each other.
 * @typedef {object} PrivateRoom
 * @property {string} id
 * @property {boolean} record whether it is recorded (the session being recorded)
 * @property {string[]} members participant ids
 */

/**
 * Whether a host paused the recording, and why.
 * @typedef {object} RecordingState
 * @property {boolean} paused
 * @property {string} reason
 * @property {string} [by] the host's participant id (in `recording` messages)
 */

/**
 * @typedef {object} ChatMessage
 * @property {string} id
 * @property {string} from the sender's participant id
 * @property {string} name
 * @property {string} role
 * @property {string} text
 * @property {string} at RFC 3339, the server's time
 */

/**
 * @typedef {object} SessionInfo
 * @property {string} id
 * @property {string} title
 * @property {boolean} record
 * @property {boolean} [waiting_room]
 * @property {string} [scheduled_start] RFC 3339
 * @property {string} [time_zone] IANA zone of the organizer
 * @property {{number: string, title: string, kind: string}} [case]
 */

/**
 * The answer of `POST /api/v1/join`.
 * @typedef {object} JoinInfo
 * @property {string} join_token
 * @property {string} [expires_at] RFC 3339
 * @property {string} [ws_url]
 * @property {SessionInfo} session
 * @property {Participant} participant
 * @property {RTCIceServer[]} [ice_servers]
 */

/**
 * @typedef {object} JoinedDetail
 * @property {Participant} self
 * @property {SessionInfo} session join answer's session merged with `joined.session`
 * @property {Participant[]} participants the others present (empty while waiting)
 * @property {boolean} admitted whether the client is in the call (else it waits)
 * @property {{locked: boolean}} room
 * @property {ChatMessage[]} chat recent chat messages (empty while waiting)
 * @property {PrivateRoom[]} rooms the private rooms now
 * @property {RecordingState} recording whether the recording is paused
 */

/**
 * @typedef {object} RemoteTrack
 * @property {string} participantId the sender's id (the stream id, less `~screen`)
 * @property {MediaStreamTrack} track
 * @property {boolean} screen whether it is the sender's screen share
 * @property {MediaStream | null} stream
 */

/**
 * @typedef {'idle' | 'connecting' | 'joined' | 'reconnecting' | 'closed'} ClientState
 */

/**
 * @typedef {object} ClientOptions
 * @property {typeof fetch} [fetch]
 * @property {typeof WebSocket} [WebSocket]
 * @property {typeof RTCPeerConnection} [RTCPeerConnection]
 * @property {{protocol: string, host: string, href: string}} [location]
 * @property {string} [apiBase] prefix of the API URL, '' for same origin
 * @property {number[]} [backoff] reconnection delays in ms
 * @property {number} [joinTimeoutMs]
 */

/** One participant's connection to a Kuayang session. */
export class Client extends EventTarget {
  /** @type {typeof fetch} */ #fetch;
  /** @type {typeof WebSocket} */ #WebSocket;
  /** @type {{protocol: string, host: string, href: string}} */ #location;
  /** @type {string} */ #apiBase;
  /** @type {string} */ #homeApiBase;
  /** @type {number} */ #joinTimeoutMs;
  /** @type {Peers} */ #peers;
  /** @type {Backoff} */ #backoff;

  /** @type {ClientState} */ #state = 'idle';
  /** @type {string} */ #invite = '';
  /** @type {boolean} */ #consent = false;
  /** @type {MediaStream | null} */ #localStream = null;
  #audioEnabled = true;
  #videoEnabled = true;
  /** @type {MediaStreamTrack | null} the screen being shared */ #screenTrack = null;
  /** whether the client is in the call (not in the waiting room) */ #admitted = false;
  /** @type {string} why the client waits, '' when admitted */ #waitingReason = '';
  #roomLocked = false;
  /** @type {Participant[]} (hosts) who is in the waiting room */ #lobby = [];
  /** @type {PrivateRoom[]} the private rooms (caucuses) */ #rooms = [];
  /** @type {RecordingState} */ #recording = { paused: false, reason: '' };

  /** @type {JoinInfo | null} the last join answer */ #info = null;
  /** @type {{token: string, window: number} | null} how to resume after a drop */ #resume = null;
  /** when the websocket was lost (ms), for the resume window */ #lostAt = 0;
  /** the call token for the call page's HTTP routes, '' before joined */ #callToken = '';
  /** @type {ReturnType<typeof setTimeout> | null} an ICE restart awaiting its outcome */ #iceTimer = null;
  /** @type {JoinInfo | null} a join answer whose token is still unused */ #unusedInfo = null;
  /** @type {Participant | null} */ #self = null;
  /** @type {SessionInfo | null} */ #session = null;
  /** @type {Map<string, Participant>} others present, by id */ #participants = new Map();

  /** @type {WebSocket | null} */ #ws = null;
  /** @type {{resolve: (d: JoinedDetail) => void, reject: (e: Error) => void} | null} */ #pendingJoin = null;

  #leaving = false;
  /** @type {string | null} reason the server gave for closing (bye, fatal error) */ #finalReason = null;
  /** the `message` of the last `bye` (a host's words with `rejected`) */ #finalMessage = '';
  /** @type {(() => void) | null} */ #byeWaiter = null;

  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    super();
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#location = options.location ?? globalThis.location;
    this.#apiBase = options.apiBase ?? '';
    this.#homeApiBase = this.#apiBase;
    this.#joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    this.#backoff = new Backoff(options.backoff);
    this.#peers = new Peers({
      RTCPeerConnection: options.RTCPeerConnection ?? globalThis.RTCPeerConnection,
      send: (msg) => this.#send(msg),
      emit: (type, detail) => this.#emit(type, detail),
      onFailed: () => this.#mediaFailed(),
    });
  }

  // ---- Read-only state ------------------------------------------------

  /** @returns {ClientState} */
  get state() { return this.#state; }
  /** The publish connection (own media), null when not joined. */
  get publishPC() { return this.#peers.publishPC; }
  /** The subscribe connection (others' media), null when not joined. */
  get subscribePC() { return this.#peers.subscribePC; }
  /** The last join answer (session, participant, ICE servers). */
  get info() { return this.#info; }
  /** This participant as the server sees it, once joined. */
  get self() { return this.#self; }
  /** The session, once joined. */
  get session() { return this.#session; }
  /** @returns {Participant[]} the other participants present */
  get participants() { return [...this.#participants.values()]; }
  /** The local stream being sent, if any. */
  get localStream() { return this.#localStream; }
  get audioEnabled() { return this.#audioEnabled; }
  get videoEnabled() { return this.#videoEnabled; }
  /** The screen-share track being sent, null when not sharing. */
  get screenTrack() { return this.#screenTrack; }
  /** Whether the client is in the call; false in the waiting room. */
  get admitted() { return this.#admitted; }
  /** Why the client waits (`waiting_room`, `locked`, `host_absent`, `removed`), '' when admitted. */
  get waitingReason() { return this.#waitingReason; }
  /** Whether a host locked the room. */
  get roomLocked() { return this.#roomLocked; }
  /** @returns {Participant[]} (hosts) who waits, each with `reason` */
  get lobby() { return [...this.#lobby]; }
  /** @returns {PrivateRoom[]} the private rooms (caucuses) now */
  get rooms() { return this.#rooms.map((r) => ({ ...r, members: [...r.members] })); }
  /** @returns {RecordingState} whether a host paused the recording */
  get recording() { return { ...this.#recording }; }

  /**
   * Subscribes fn to the event type; fn receives the event's detail.
   * @param {string} type
   * @param {(detail: any) => void} fn
   * @returns {() => void} unsubscribe
   */
  on(type, fn) {
    /** @param {Event} e */
    const listener = (e) => fn(/** @type {CustomEvent} */ (e).detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  // ---- Public API -----------------------------------------------------

  /**
   * Fetches the join answer for invite, to show the pre-join page. Its join
   * token is kept and used by the next join() if still fresh.
   * @param {string} invite
   * @returns {Promise<JoinInfo>}
   * @throws {ProtocolError} with the API's error code, or `network`
   */
  async prepare(invite) {
    const info = await fetchJoinInfo(this.#fetch, this.#apiBase, invite);
    this.#invite = invite;
    this.#info = info;
    this.#unusedInfo = info;
    return info;
  }

  /**
   * Joins the session: join token, websocket, `join`, peer connections,
   * `publish`. Resolves once `joined` arrived.
   * @param {{invite: string, consent?: boolean, stream?: MediaStream | null}} params
   *   stream: local media to send; null or missing to receive only
   * @returns {Promise<JoinedDetail>}
   * @throws {ProtocolError} the API's or the server's refusal
   */
  async join({ invite, consent = false, stream = null }) {
    if (this.#state === 'connecting' || this.#state === 'joined' || this.#state === 'reconnecting') {
      throw new ProtocolError('already_joined', 'join() while already connected');
    }
    if (invite !== this.#invite) this.#unusedInfo = null;
    this.#invite = invite;
    this.#consent = consent;
    this.#localStream = stream;
    this.#applyEnabled();
    this.#leaving = false;
    this.#finalReason = null;
    this.#finalMessage = '';
    this.#admitted = false;
    this.#waitingReason = '';
    this.#backoff.reset();
    this.#setState('connecting');
    try {
      return await this.#joinOnce(false);
    } catch (err) {
      this.#closeTransport();
      if (this.#leaving) throw err;
      if (!(err instanceof ProtocolError && FRESH_TOKEN_CODES.has(err.code))) {
        this.#setState('idle');
        throw err;
      }
    }
    // The cached token went stale (clock skew, or used elsewhere).
    try {
      return await this.#joinOnce(true);
    } catch (err) {
      this.#closeTransport();
      this.#setState('idle');
      throw err;
    }
  }

  /**
   * Enables or disables the microphone (track.enabled) and tells the others.
   * @param {boolean} enabled
   */
  setAudio(enabled) {
    this.#audioEnabled = enabled;
    this.#applyEnabled();
    this.#sendState();
  }

  /**
   * Enables or disables the camera (track.enabled) and tells the others.
   * @param {boolean} enabled
   */
  setVideo(enabled) {
    this.#videoEnabled = enabled;
    this.#applyEnabled();
    this.#sendState();
  }

  /**
   * Shares a screen (a getDisplayMedia video track) beside the camera,
   * which goes on: everyone else receives it as this participant's
   * screen. One at a time: a new track replaces the one shared. The
   * track ending (the browser's own "stop sharing") stops the share.
   * @param {MediaStreamTrack} track
   * @returns {boolean} whether it is shared (false when not in the call)
   */
  shareScreen(track) {
    if (!this.#admitted || this.#state !== 'joined' || track.kind !== 'video' || track.readyState !== 'live') return false;
    if (this.#screenTrack === track) return true;
    const old = this.#screenTrack;
    this.#screenTrack = track;
    track.addEventListener('ended', () => { if (this.#screenTrack === track) this.stopScreenShare(); }, { once: true });
    this.#peers.setScreen(track);
    old?.stop();
    this.#emit('screen', { track });
    return true;
  }

  /** Stops sharing the screen (and the capture); no-op when not sharing. */
  stopScreenShare() {
    const track = this.#screenTrack;
    if (!track) return;
    this.#screenTrack = null;
    this.#peers.setScreen(null);
    track.stop();
    this.#emit('screen', { track: null });
  }

  // ---- In the call: chat and hand ----------------------------------------

  /**
   * Sends a chat message to everyone in the call. The server echoes it
   * back as `chat` (with its time) to everyone, the sender included.
   * @param {string} text 1 to 2000 characters
   * @returns {boolean} whether it was sent
   */
  sendChat(text) {
    if (!this.#admitted) return false;
    return this.#send({ type: 'chat', text });
  }

  /**
   * Raises or lowers the hand; the others see it in `participant_updated`.
   * @param {boolean} raised
   * @returns {boolean} whether it was sent
   */
  setHand(raised) {
    if (!this.#admitted) return false;
    const sent = this.#send({ type: 'hand', raised });
    if (sent && this.#self) this.#self = { ...this.#self, hand: raised };
    return sent;
  }

  // ---- Host actions (docs/protocol.md: `not_host` for others) -------------

  /**
   * Lets one waiting participant into the call.
   * @param {string} id
   */
  admit(id) { return this.#send({ type: 'admit', id }); }

  /** Lets everyone waiting into the call. */
  admitAll() { return this.#send({ type: 'admit', all: true }); }

  /**
   * Turns a waiting participant away; they get `bye` `rejected` with message.
   * @param {string} id
   * @param {string} [message] at most 500 characters
   */
  reject(id, message = '') {
    return this.#send(message ? { type: 'reject', id, message } : { type: 'reject', id });
  }

  /**
   * Writes to one waiting participant.
   * @param {string} id
   * @param {string} text 1 to 500 characters
   */
  notice(id, text) { return this.#send({ type: 'notice', id, text }); }

  /**
   * Locks or unlocks the room.
   * @param {boolean} locked
   */
  lock(locked) { return this.#send({ type: 'lock', locked }); }

  /**
   * Turns off a participant's microphone or camera.
   * @param {string} id
   * @param {'audio' | 'video'} kind
   */
  mute(id, kind) { return this.#send({ type: 'mute', id, kind }); }

  /**
   * Removes a participant from the call.
   * @param {string} id
   */
  remove(id) { return this.#send({ type: 'remove', id }); }

  /**
   * Ends the session for everyone.
   * @param {{inPerson?: boolean, reason?: string}} [opts] inPerson: the act
   *   cannot be completed remotely and the parties must come in person
   */
  endSession({ inPerson = false, reason = '' } = {}) {
    if (!inPerson && !reason) return this.#send({ type: 'end_session' });
    /** @type {{type: string, in_person: boolean, reason?: string}} */
    const msg = { type: 'end_session', in_person: inPerson };
    if (reason) msg.reason = reason;
    return this.#send(msg);
  }

  /**
   * Pauses the recording; everyone gets `recording`.
   * @param {string} reason 1 to 500 characters
   */
  pauseRecording(reason) { return this.#send({ type: 'recording_pause', reason }); }

  /** Records again after a pause. */
  /**
   * The call token for the HTTP routes of the call page (docs/api.md,
   * "Call routes"): from the last joined or resumed; '' before.
   */
  get callToken() { return this.#callToken; }

  resumeRecording() { return this.#send({ type: 'recording_resume' }); }

  /**
   * Sends a message of the settlement agreement (docs/protocol.md,
   * "Settlement agreement"): settlement_template, settlement_draft,
   * settlement_share, settlement_sign, settlement_confirm or
   * settlement_finalize, with its fields.
   * @param {string} type
   * @param {Record<string, unknown>} fields
   */
  sendSettlement(type, fields) {
    if (!type.startsWith('settlement_')) return false;
    return this.#send({ ...fields, type });
  }

  /**
   * Marks a step of the notary's script (presider; docs/protocol.md,
   * "Notarization").
   * @param {string} step
   * @param {string} [note]
   */
  scriptStep(step, note = '') { return this.#send({ type: 'script_step', step, note }); }

  /** Shows an uploaded document to everyone (presider). @param {string} id */
  showDocument(id) { return this.#send({ type: 'document_show', id }); }

  /** Presents a document for signing (presider). @param {string} id */
  signDocument(id) { return this.#send({ type: 'document_sign', id }); }

  /**
   * Asks a participant to show the whole room with their camera.
   * @param {string} id
   */
  requestView(id) { return this.#send({ type: 'request_view', id }); }

  /**
   * Opens a private room with these participants; the host goes in too.
   * @param {string[]} members participant ids (1 to 16)
   * @param {boolean} [record] whether the private room is recorded
   */
  openCaucus(members, record = false) { return this.#send({ type: 'caucus_open', members, record }); }

  /**
   * Moves the host to a private room, or back to the joint room ('').
   * @param {string} room
   */
  joinCaucus(room) { return this.#send({ type: 'caucus_join', room }); }

  /**
   * Closes a private room: its members come back to the joint room.
   * @param {string} room
   */
  closeCaucus(room) { return this.#send({ type: 'caucus_close', room }); }

  /** Closes every private room: everyone comes back to the joint room. */
  closeAllCaucuses() { return this.#send({ type: 'caucus_close', all: true }); }

  /**
   * Switches the sent track of kind (device change) without renegotiation.
   * The local stream is updated in place, so a self-view showing it follows.
   * The caller stops the old track.
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track null to send nothing
   */
  async replaceTrack(kind, track) {
    if (track && track.kind !== kind) throw new TypeError(`replaceTrack: ${track.kind} track for ${kind}`);
    if (track) track.enabled = kind === 'audio' ? this.#audioEnabled : this.#videoEnabled;
    await this.#peers.replaceTrack(kind, track);
    this.#updateLocalStream(kind, track);
    this.#sendState();
  }

  /**
   * Leaves the session: sends `leave`, waits briefly for `bye`, closes
   * everything and emits `closed` {reason: 'left'}. Stops reconnecting.
   */
  async leave() {
    if (this.#state === 'idle' || this.#state === 'closed') return;
    this.#leaving = true;
    this.#backoff.cancel();
    if (this.#pendingJoin) this.#pendingJoin.reject(new ProtocolError('aborted', 'left before joining'));
    if (this.#state === 'joined' && this.#send({ type: 'leave' })) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, LEAVE_TIMEOUT_MS);
        this.#byeWaiter = () => { clearTimeout(timer); resolve(undefined); };
      });
    }
    this.#finish('left');
  }

  /**
   * Statistics of both connections as plain objects (JSON-friendly, for
   * tests and diagnostics). For the raw RTCStatsReport use
   * publishPC.getStats() or subscribePC.getStats().
   * @returns {Promise<{publish: any[], subscribe: any[]}>}
   */
  async getStats() {
    return this.#peers.stats();
  }

  // ---- Joining ----------------------------------------------------------

  /**
   * One join attempt: a join answer (cached unless fresh), then the websocket.
   * @param {boolean} fresh whether to ignore a cached join token
   * @returns {Promise<JoinedDetail>}
   */
  async #joinOnce(fresh) {
    for (let hops = 0; ; hops++) {
      let info = this.#takeJoinInfo(fresh);
      if (!info) {
        try {
          info = await fetchJoinInfo(this.#fetch, this.#apiBase, this.#invite);
        } catch (err) {
          // The node the room was on is unreachable: go in through the
          // node the page came from, which places the room again.
          if (this.#apiBase === this.#homeApiBase || !(err instanceof ProtocolError) || err.code !== 'network') throw err;
          this.#apiBase = this.#homeApiBase;
          info = await fetchJoinInfo(this.#fetch, this.#apiBase, this.#invite);
        }
      }
      if (this.#leaving) throw new ProtocolError('aborted', 'left before joining');
      this.#info = info;
      try {
        return await this.#connect(info);
      } catch (err) {
        if (!(err instanceof Redirect)) throw err;
        // docs/protocol.md, "Several nodes": the room lives on another
        // node; ask it for a join token (the invite is the same) and join
        // there, transparently to the person.
        this.#closeTransport();
        if (hops + 1 >= MAX_REDIRECTS) throw new ProtocolError('too_many_redirects', `redirected ${hops + 1} times`);
        this.#apiBase = err.url.replace(/\/+$/, '');
        fresh = true;
      }
    }
  }

  /**
   * Returns the cached join answer if its token is unused and fresh, and
   * forgets it either way (a token is single use).
   * @param {boolean} fresh
   * @returns {JoinInfo | null}
   */
  #takeJoinInfo(fresh) {
    const info = this.#unusedInfo;
    this.#unusedInfo = null;
    if (fresh || !info || !tokenIsFresh(info)) return null;
    return info;
  }

  /**
   * Opens the websocket and sends `join`. Resolves on `joined`; rejects on
   * an `error`, a close or a timeout before it.
   * @param {JoinInfo} info
   * @returns {Promise<JoinedDetail>}
   */
  #connect(info) {
    return this.#request(() => this.#openSocket(info, {
      type: 'join', version: PROTOCOL_VERSION, token: info.join_token, consent: this.#consent,
    }));
  }

  /**
   * Opens a websocket to the node of the last join and sends `resume`.
   * Resolves on `resumed`; rejects as #connect does.
   * @param {JoinInfo} info
   * @param {string} token
   * @returns {Promise<JoinedDetail>}
   */
  #connectResume(info, token) {
    return this.#request(() => this.#openSocket(info, { type: 'resume', version: PROTOCOL_VERSION, token }));
  }

  /**
   * Runs open, which opens a websocket sending a first message, and
   * settles on its answer (#pendingJoin), or on a timeout.
   * @param {() => void} open
   * @returns {Promise<JoinedDetail>}
   */
  #request(open) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        settle.reject(new ProtocolError('join_timeout', 'no answer to join'));
      }, this.#joinTimeoutMs);
      const settle = {
        /** @param {JoinedDetail} detail */
        resolve: (detail) => { clearTimeout(timer); this.#pendingJoin = null; resolve(detail); },
        /** @param {Error} err */
        reject: (err) => { clearTimeout(timer); this.#pendingJoin = null; reject(err); },
      };
      this.#pendingJoin = settle;
      try {
        open();
      } catch (err) {
        settle.reject(new ProtocolError('network', errorText(err)));
      }
    });
  }

  /**
   * Opens the websocket that sends first once open.
   * @param {JoinInfo} info
   * @param {object} first `join` or `resume`
   */
  #openSocket(info, first) {
    const ws = new this.#WebSocket(webSocketURL(this.#location.href, info.ws_url));
    this.#ws = ws;
    ws.onopen = () => {
      if (ws === this.#ws) this.#send(first);
    };
    ws.onmessage = (ev) => {
      if (ws === this.#ws) this.#onMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (ws === this.#ws) this.#onSocketClose(ev);
    };
    ws.onerror = () => {}; // a close event follows
  }

  // ---- Incoming messages ------------------------------------------------

  /** @param {unknown} data */
  #onMessage(data) {
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      console.warn('kuayang: ignoring a frame that is not JSON');
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    switch (msg.type) {
      case 'joined': this.#onJoined(msg); break;
      case 'resumed': this.#onResumed(msg); break;
      case 'answer': this.#peers.onAnswer(msg.sdp); break;
      case 'offer': this.#peers.onOffer(msg.sdp); break;
      case 'candidate': this.#peers.onCandidate(msg.pc, msg.candidate); break;
      case 'participant_joined': this.#onParticipant(msg.participant, 'participant-joined'); break;
      case 'participant_updated': this.#onParticipant(msg.participant, 'participant-updated'); break;
      case 'participant_left': this.#onParticipantLeft(msg.id); break;
      case 'error': this.#onServerError(msg); break;
      case 'bye': this.#onBye(msg.reason, msg.message); break;
      case 'redirect': this.#onRedirect(msg); break;
      case 'waiting': this.#onWaiting(msg.reason); break;
      case 'admitted': this.#onAdmitted(msg); break;
      case 'lobby': this.#onLobby(msg.waiting); break;
      case 'room': this.#onRoom(msg); break;
      case 'notice': this.#onNotice(msg); break;
      case 'muted': this.#onMuted(msg); break;
      case 'chat': this.#onChat(msg); break;
      case 'rooms': this.#onRooms(msg.rooms); break;
      case 'recording': this.#onRecording(msg); break;
      case 'view_requested': this.#emit('view-requested', { by: typeof msg.by === 'string' ? msg.by : '' }); break;
      case 'settlement': this.#emit('settlement', { settlement: msg.settlement ?? null, by: String(msg.by ?? '') }); break;
      case 'settlement_saved': this.#emit('settlement-saved', msg); break;
      case 'settlement_template': this.#emit('settlement-template', msg); break;
      case 'script': case 'document': this.#emit(msg.type, msg); break; // the notary's script (notary.js)
      case 'identity': this.#emit('identity', { participant_id: String(msg.participant_id ?? ''), check_id: String(msg.check_id ?? ''), state: String(msg.state ?? '') }); break;
      default: break; // a newer server; unknown types are ignored
    }
    // The settlement agreement shared in the session comes with the call.
    if (msg.settlement && (msg.type === 'joined' || msg.type === 'resumed' || msg.type === 'admitted')) {
      this.#emit('settlement', { settlement: msg.settlement, by: '' });
    }
  }

  /** @param {any} msg */
  #onJoined(msg) {
    if (!this.#pendingJoin || !this.#info) return;
    const info = this.#info;
    this.#self = { ...info.participant, ...msg.self };
    this.#session = { ...info.session, ...msg.session };
    const others = this.#others(msg.participants);
    this.#participants = new Map(others.map((p) => [p.id, p]));
    // A server older than the waiting room sends no `admitted`: in the call.
    this.#admitted = msg.admitted !== false;
    this.#waitingReason = this.#admitted ? '' : 'waiting_room';
    this.#roomLocked = Boolean(msg.room?.locked);
    this.#lobby = [];
    const chat = this.#admitted ? chatList(msg.chat) : [];
    this.#rooms = roomList(msg.rooms);
    this.#recording = recordingState(msg.recording);
    this.#resume = resumeInfo(msg.resume);
    if (typeof msg.call?.token === 'string') this.#callToken = msg.call.token;

    if (this.#admitted) {
      try {
        this.#peers.create(info.ice_servers ?? [], this.#localStream);
      } catch (err) {
        this.#pendingJoin.reject(new ProtocolError('webrtc', errorText(err)));
        return;
      }
    } else {
      // Waiting: no media until `admitted` (docs/protocol.md).
      this.#peers.close();
    }
    this.#setState('joined');
    const detail = this.#joinedDetail(others, chat);
    this.#pendingJoin.resolve(detail);
    this.#emit('joined', detail);
    this.#emit('notary-state', { script: msg.script ?? null, documents: msg.documents ?? [] });
    if (!this.#admitted) {
      this.stopScreenShare();
      return;
    }
    this.#sendState();
    this.#resumeScreen();
    this.#peers.offer();
  }

  /**
   * The server kept this participant's place while the websocket was gone
   * and this new one took it over: the media connections stay and restart
   * ICE (the server restarts the subscribe one with a new offer), and what
   * changed meanwhile comes as the usual events.
   * @param {any} msg
   */
  #onResumed(msg) {
    if (!this.#pendingJoin || !this.#info) return;
    const info = this.#info;
    this.#resume = resumeInfo(msg.resume);
    if (typeof msg.call?.token === 'string') this.#callToken = msg.call.token;
    this.#self = { ...this.#self, ...msg.self };
    this.#session = { ...this.#session, ...msg.session };
    const wasAdmitted = this.#admitted;
    const others = this.#others(msg.participants);
    const before = this.#participants;
    this.#admitted = msg.admitted !== false;
    if (this.#admitted) this.#waitingReason = '';
    this.#participants = new Map(others.map((p) => [p.id, p]));
    this.#roomLocked = Boolean(msg.room?.locked);
    const chat = this.#admitted ? chatList(msg.chat) : [];
    this.#rooms = roomList(msg.rooms);
    this.#recording = recordingState(msg.recording);
    this.#setState('joined');
    const detail = this.#joinedDetail(others, chat);
    this.#pendingJoin.resolve(detail);
    this.#emit('notary-state', { script: msg.script ?? null, documents: msg.documents ?? [] });
    if (!this.#admitted) {
      this.#peers.close(); // the `waiting` that follows says why
      return;
    }
    if (!wasAdmitted || !this.#peers.publishPC) {
      // Let in while away: media starts as after `admitted`.
      try {
        this.#peers.create(info.ice_servers ?? [], this.#localStream);
      } catch (err) {
        this.#emit('error', { code: 'webrtc', message: errorText(err), ref: 'resumed', fatal: false });
        return;
      }
      this.#emit('admitted', { participants: others, chat, rooms: this.rooms, recording: this.recording });
      this.#sendState();
      this.#resumeScreen();
      this.#peers.offer();
      return;
    }
    this.#peers.restartIce();
    for (const [id, participant] of before) {
      if (!this.#participants.has(id)) this.#emit('participant-left', { id, participant });
    }
    for (const p of others) {
      this.#emit(before.has(p.id) ? 'participant-updated' : 'participant-joined', { participant: p });
    }
    this.#emit('participant-updated', { participant: this.#self });
    this.#emit('room', { locked: this.#roomLocked });
    this.#emit('rooms', { rooms: this.rooms });
    this.#emit('recording', { ...this.#recording, by: '' });
    for (const m of chat) this.#emit('chat', m);
    this.#sendState();
  }

  /**
   * After new connections (a reconnection): the screen still shared is
   * sent again; one whose capture ended meanwhile stops.
   */
  #resumeScreen() {
    const track = this.#screenTrack;
    if (!track) return;
    if (track.readyState !== 'live') {
      this.stopScreenShare();
      return;
    }
    this.#peers.setScreen(track, false); // in the offer that follows
  }

  /**
   * The well-formed participants of list (from `joined`, `resumed`,
   * `admitted`) but this one.
   * @param {unknown} list
   * @returns {Participant[]}
   */
  #others(list) {
    const selfID = this.#self?.id;
    return (Array.isArray(list) ? list : []).filter(
      (/** @type {Participant} */ p) => p && p.id && p.id !== selfID);
  }

  /**
   * What `joined` and a resume resolve with: the state now.
   * @param {Participant[]} others
   * @param {ChatMessage[]} chat
   * @returns {JoinedDetail}
   */
  #joinedDetail(others, chat) {
    return {
      self: this.#self, session: this.#session, participants: others,
      admitted: this.#admitted, room: { locked: this.#roomLocked }, chat,
      rooms: this.rooms, recording: this.recording,
    };
  }

  /**
   * In the waiting room (after `joined`, or sent back when the last host
   * left): the server has closed the media connections; so does the
   * client. The local stream stays (the preview goes on).
   * @param {unknown} reason
   */
  #onWaiting(reason) {
    if (this.#state !== 'joined') return;
    this.#admitted = false;
    this.#waitingReason = typeof reason === 'string' && reason ? reason : 'waiting_room';
    this.#peers.close();
    this.stopScreenShare(); // nobody sees it in the waiting room
    this.#participants.clear();
    this.#lobby = [];
    this.#rooms = [];
    // The server lowers the hand of whoever leaves the call.
    if (this.#self?.hand) this.#self = { ...this.#self, hand: false };
    this.#emit('waiting', { reason: this.#waitingReason });
  }

  /**
   * In the call now: media starts as after `joined` (a new `publish`).
   * @param {any} msg
   */
  #onAdmitted(msg) {
    if (this.#state !== 'joined' || !this.#info) return;
    const others = this.#others(msg.participants);
    this.#participants = new Map(others.map((p) => [p.id, p]));
    this.#admitted = true;
    this.#waitingReason = '';
    this.#rooms = roomList(msg.rooms);
    this.#recording = recordingState(msg.recording);
    try {
      this.#peers.create(this.#info.ice_servers ?? [], this.#localStream);
    } catch (err) {
      this.#emit('error', { code: 'webrtc', message: errorText(err), ref: 'admitted', fatal: false });
      return;
    }
    this.#emit('admitted', {
      participants: others, chat: chatList(msg.chat), rooms: this.rooms, recording: this.recording,
    });
    this.#emit('notary-state', { script: msg.script ?? null, documents: msg.documents ?? [] });
    this.#sendState();
    this.#peers.offer();
  }

  /** @param {unknown} waiting */
  #onLobby(waiting) {
    this.#lobby = (Array.isArray(waiting) ? waiting : []).filter(
      (/** @type {any} */ p) => p && typeof p.id === 'string');
    this.#emit('lobby', { waiting: this.lobby });
  }

  /** @param {any} msg */
  #onRoom(msg) {
    this.#roomLocked = Boolean(msg.locked);
    this.#emit('room', { locked: this.#roomLocked });
  }

  /** @param {any} msg */
  #onNotice(msg) {
    if (typeof msg.text !== 'string') return;
    const from = msg.from && typeof msg.from === 'object' ? msg.from : {};
    this.#emit('notice', { from, text: msg.text });
  }

  /**
   * A host turned off the microphone or camera: as the person's own
   * button would (the track is disabled and `state` sent).
   * @param {any} msg
   */
  #onMuted(msg) {
    if (msg.kind === 'audio') this.setAudio(false);
    else if (msg.kind === 'video') this.setVideo(false);
    else return;
    this.#emit('muted', { kind: msg.kind, by: typeof msg.by === 'string' ? msg.by : '' });
  }

  /** @param {unknown} rooms */
  #onRooms(rooms) {
    this.#rooms = roomList(rooms);
    this.#emit('rooms', { rooms: this.rooms });
  }

  /** @param {any} msg */
  #onRecording(msg) {
    this.#recording = recordingState(msg);
    this.#emit('recording', { ...this.#recording, by: typeof msg.by === 'string' ? msg.by : '' });
  }

  /** @param {any} msg */
  #onChat(msg) {
    const [m] = chatList([msg]);
    if (m) this.#emit('chat', m);
  }

  /**
   * @param {any} participant
   * @param {'participant-joined' | 'participant-updated'} event
   */
  #onParticipant(participant, event) {
    if (!participant || typeof participant.id !== 'string') return;
    if (participant.id === this.#self?.id) {
      this.#self = { ...this.#self, ...participant };
      this.#emit('participant-updated', { participant: this.#self });
      return;
    }
    // `reconnecting` is left out when false: a merge must not keep it.
    const merged = { ...this.#participants.get(participant.id), ...participant, reconnecting: Boolean(participant.reconnecting) };
    this.#participants.set(participant.id, merged);
    this.#emit(event, { participant: merged });
  }

  /** @param {unknown} id */
  #onParticipantLeft(id) {
    if (typeof id !== 'string') return;
    const participant = this.#participants.get(id) ?? null;
    this.#participants.delete(id);
    this.#emit('participant-left', { id, participant });
  }

  /** @param {any} msg */
  #onServerError(msg) {
    const err = new ProtocolError(String(msg.code ?? 'internal'), String(msg.message ?? ''), { ref: msg.ref });
    if (this.#pendingJoin) {
      // Any error before joined refuses the join.
      this.#pendingJoin.reject(err);
      return;
    }
    if (err.fatal && isPermanent(err)) this.#finalReason = err.code;
    if (err.ref === 'publish') this.#peers.onPublishRefused();
    this.#emit('error', { code: err.code, message: err.message, ref: err.ref, fatal: err.fatal });
  }

  /** @param {any} msg */
  #onRedirect(msg) {
    if (!this.#pendingJoin) return; // only an answer to join
    if (typeof msg.url !== 'string' || !/^https?:\/\//.test(msg.url)) {
      this.#pendingJoin.reject(new ProtocolError('internal', 'malformed redirect'));
      return;
    }
    this.#pendingJoin.reject(new Redirect(msg.url));
  }

  /**
   * @param {unknown} reason
   * @param {unknown} message the host's words with `rejected`
   */
  #onBye(reason, message) {
    this.#finalReason = typeof reason === 'string' && reason ? reason : 'bye';
    this.#finalMessage = typeof message === 'string' ? message : '';
    this.#byeWaiter?.();
    this.#byeWaiter = null;
    if (!this.#leaving) this.#finish(this.#finalReason);
  }

  /** @param {CloseEvent} ev */
  #onSocketClose(ev) {
    this.#ws = null;
    this.#byeWaiter?.();
    this.#byeWaiter = null;
    if (this.#pendingJoin) {
      this.#pendingJoin.reject(new ProtocolError('network', `websocket closed (${ev.code})`));
      return;
    }
    if (this.#leaving) return; // leave() finishes
    if (this.#finalReason) {
      this.#finish(this.#finalReason);
      return;
    }
    this.#socketLost();
  }

  // ---- Local media ------------------------------------------------------

  /** Applies the audio and video switches to the local tracks. */
  #applyEnabled() {
    for (const track of this.#localStream?.getTracks() ?? []) {
      track.enabled = track.kind === 'audio' ? this.#audioEnabled : this.#videoEnabled;
    }
  }

  /**
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track
   */
  #updateLocalStream(kind, track) {
    if (!this.#localStream) {
      if (track && typeof MediaStream !== 'undefined') this.#localStream = new MediaStream([track]);
      return;
    }
    for (const old of this.#localStream.getTracks()) {
      if (old.kind === kind && old !== track) this.#localStream.removeTrack(old);
    }
    if (track && !this.#localStream.getTracks().includes(track)) this.#localStream.addTrack(track);
  }

  /** @param {'audio' | 'video'} kind */
  #hasLiveTrack(kind) {
    return (this.#localStream?.getTracks() ?? []).some((t) => t.kind === kind && t.readyState !== 'ended');
  }

  /** Sends `state`: what the others can actually hear and see. */
  #sendState() {
    if (this.#state !== 'joined' || !this.#admitted) return; // waiting: only `leave` is allowed
    this.#send({
      type: 'state',
      audio: this.#audioEnabled && this.#hasLiveTrack('audio'),
      video: this.#videoEnabled && this.#hasLiveTrack('video'),
    });
  }

  // ---- Connection loss and teardown -------------------------------------

  /**
   * The websocket broke. The media connections stay: the server keeps
   * this participant's place for a while (the resume window), and a new
   * websocket resumes it; after that, or if the server does not know the
   * place any more, the client joins afresh.
   */
  #socketLost() {
    if (this.#state !== 'joined' || this.#leaving) return;
    if (this.#resume) this.#closeSocket();
    else this.#closeTransport(); // nothing to resume: a new join brings new connections
    this.#lostAt = Date.now();
    this.#setState('reconnecting');
    this.#scheduleReconnect();
  }

  /**
   * A media connection failed (a network change, a long loss) while the
   * websocket is up: both restart ICE, the subscribe one from the server
   * (`ice_restart`). If media has not come back after a while, the
   * client joins afresh.
   */
  #mediaFailed() {
    if (this.#state !== 'joined' || this.#leaving) return;
    // One restart for both connections; with the websocket down the
    // resume restarts them.
    if (this.#iceTimer !== null || !this.#send({ type: 'ice_restart' })) return;
    this.#peers.restartIce();
    this.#iceTimer = setTimeout(() => {
      this.#iceTimer = null;
      const failed = [this.#peers.publishPC, this.#peers.subscribePC].some(
        (pc) => pc && pc.connectionState !== 'connected');
      if (failed) this.#rejoin();
    }, ICE_RESTART_TIMEOUT_MS);
  }

  /** Starts over: everything closes and the client joins again. */
  #rejoin() {
    if (this.#state !== 'joined' || this.#leaving) return;
    this.#resume = null;
    this.#closeTransport();
    this.#setState('reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const { attempt, delay } = this.#backoff.next();
    this.#emit('reconnecting', { attempt, delay });
    this.#backoff.wait(delay, () => this.#reconnect());
  }

  async #reconnect() {
    if (this.#leaving || this.#state !== 'reconnecting') return;
    const resume = this.#resume;
    if (resume && this.#info && Date.now() - this.#lostAt < Math.min(resume.window * 1000, RESUME_UNREACHABLE_MS)) {
      try {
        const detail = await this.#connectResume(this.#info, resume.token);
        this.#backoff.reset();
        this.#emit('reconnected', { ...detail, resumed: true });
        return;
      } catch (err) {
        if (this.#leaving || this.#state !== 'reconnecting') return;
        this.#closeSocket();
        if (!(err instanceof ProtocolError && err.code === 'network')) {
          // The place is not kept (resume_failed, or another refusal):
          // join afresh at once.
          this.#resume = null;
        } else {
          this.#scheduleReconnect(); // the node is not reachable yet
          return;
        }
      }
    }
    this.#resume = null;
    this.#peers.close(); // a new join brings new connections
    try {
      const detail = await this.#joinOnce(true);
      this.#backoff.reset();
      this.#emit('reconnected', { ...detail, resumed: false });
    } catch (err) {
      if (this.#leaving || this.#state !== 'reconnecting') return;
      this.#closeTransport();
      if (isPermanent(err)) {
        const e = /** @type {ProtocolError} */ (err);
        this.#emit('error', { code: e.code, message: e.message, ref: e.ref, fatal: true });
        this.#finish(e.code);
        return;
      }
      this.#scheduleReconnect();
    }
  }

  /** Closes the websocket and both peer connections, quietly. */
  #closeTransport() {
    this.#closeSocket();
    if (this.#iceTimer !== null) clearTimeout(this.#iceTimer);
    this.#iceTimer = null;
    this.#peers.close();
  }

  /** Closes the websocket, quietly. */
  #closeSocket() {
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
  }

  /** @param {string} reason */
  #finish(reason) {
    if (this.#state === 'closed') return;
    this.#pendingJoin?.reject(new ProtocolError(reason, `closed: ${reason}`));
    this.#backoff.cancel();
    this.#closeTransport();
    this.stopScreenShare();
    this.#participants.clear();
    this.#lobby = [];
    this.#rooms = [];
    this.#admitted = false;
    this.#setState('closed');
    const message = reason === this.#finalReason ? this.#finalMessage : '';
    this.#emit('closed', message ? { reason, message } : { reason });
  }

  // ---- Helpers ------------------------------------------------------------

  /**
   * Sends msg if the websocket is open.
   * @param {object} msg
   * @returns {boolean} whether it was sent
   */
  #send(msg) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WS_OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** @param {ClientState} state */
  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('state', { state });
  }

  /**
   * @param {string} type
   * @param {unknown} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * The well-formed private rooms of list (`rooms`, also in `joined` and
 * `admitted`; null when there are none).
 * @param {unknown} list
 * @returns {PrivateRoom[]}
 */
function roomList(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((r) => r && typeof r.id === 'string' && r.id).map((r) => ({
    id: r.id,
    record: Boolean(r.record),
    members: Array.isArray(r.members) ? r.members.filter((/** @type {unknown} */ m) => typeof m === 'string') : [],
  }));
}

/**
 * The resume token and window of `joined` or `resumed`; null when the
 * server keeps no place for a dropped connection.
 * @param {any} r
 * @returns {{token: string, window: number} | null}
 */
function resumeInfo(r) {
  if (!r || typeof r.token !== 'string' || !r.token || typeof r.window !== 'number' || r.window <= 0) return null;
  return { token: r.token, window: r.window };
}

/**
 * The recording's state from `recording` (or that of `joined`, `admitted`).
 * @param {any} msg
 * @returns {RecordingState}
 */
function recordingState(msg) {
  return {
    paused: Boolean(msg?.paused),
    reason: typeof msg?.reason === 'string' ? msg.reason : '',
  };
}

/**
 * The well-formed chat messages of list (from `joined`, `admitted` or a
 * `chat` message).
 * @param {unknown} list
 * @returns {ChatMessage[]}
 */
function chatList(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((m) => m && typeof m.text === 'string' && typeof m.id === 'string').map((m) => ({
    id: m.id,
    from: typeof m.from === 'string' ? m.from : '',
    name: typeof m.name === 'string' ? m.name : '',
    role: typeof m.role === 'string' ? m.role : '',
    text: m.text,
    at: typeof m.at === 'string' ? m.at : '',
  }));
}
