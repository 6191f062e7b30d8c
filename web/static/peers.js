// @ts-check
/**
 * The two RTCPeerConnections of a participant, for the signaling client
 * (protocol.js):
 *
 * - publish carries the participant's own media; the client offers and
 *   applies the server's answer. A screen share is a video track of its
 *   own beside the camera, named in `publish` by its mid;
 * - subscribe carries everyone else's media; the server offers and the
 *   client answers.
 *
 * Negotiation steps of one connection run one after the other; remote
 * candidates wait until their connection has a remote description. Touches
 * no DOM and no websocket: {@link Peers} sends and reports through the
 * callbacks it is given.
 *
 * @module peers
 */

import { errorText } from './protocol-errors.js';

/** What ends the stream id of a participant's screen share (docs/protocol.md). */
export const SCREEN_SUFFIX = '~screen';

/** @typedef {import('./protocol.js').RemoteTrack} RemoteTrack */
/** @typedef {'publish' | 'subscribe'} PCName */

/**
 * @typedef {object} PeersOptions
 * @property {typeof RTCPeerConnection} RTCPeerConnection
 * @property {(msg: object) => boolean} send sends a signaling message
 * @property {(type: 'track' | 'track-removed' | 'error', detail: unknown) => void} emit
 * @property {() => void} onFailed a current connection failed
 */

/** The publish and subscribe connections of one join. */
export class Peers {
  /** @type {typeof RTCPeerConnection} */ #RTCPeerConnection;
  /** @type {PeersOptions['send']} */ #send;
  /** @type {PeersOptions['emit']} */ #emit;
  /** @type {PeersOptions['onFailed']} */ #onFailed;

  /** @type {Record<PCName, RTCPeerConnection | null>} */ #pcs = { publish: null, subscribe: null };
  /** @type {Record<PCName, Promise<void>>} */ #chains = { publish: Promise.resolve(), subscribe: Promise.resolve() };
  /** @type {Record<PCName, RTCIceCandidateInit[]>} */ #remoteCandidates = { publish: [], subscribe: [] };
  /** @type {Partial<Record<'audio' | 'video', RTCRtpTransceiver>>} */ #transceivers = {};
  /** @type {RTCRtpTransceiver | null} the screen share's, while sharing */ #screen = null;
  /** the publish connection changed while its offer awaited the answer */ #reoffer = false;
  /** @type {Map<string, RemoteTrack>} by track id */ #remoteTracks = new Map();
  /** @type {WeakSet<object>} tracks and streams that have listeners */ #watched = new WeakSet();

  /** @param {PeersOptions} options */
  constructor({ RTCPeerConnection, send, emit, onFailed }) {
    this.#RTCPeerConnection = RTCPeerConnection;
    this.#send = send;
    this.#emit = emit;
    this.#onFailed = onFailed;
  }

  /** The publish connection (own media), null when closed. */
  get publishPC() { return this.#pcs.publish; }
  /** The subscribe connection (others' media), null when closed. */
  get subscribePC() { return this.#pcs.subscribe; }

  /**
   * Replaces the connections with new ones. The publish connection gets
   * one audio and one video transceiver, even without a device, so that
   * replaceTrack() can start sending later without renegotiation; the
   * video one sends the simulcast encodings (SIMULCAST_ENCODINGS), which
   * replaceTrack() keeps.
   * @param {RTCIceServer[]} iceServers
   * @param {MediaStream | null} stream the local media to send
   */
  create(iceServers, stream) {
    this.close();
    const config = { iceServers };
    const publish = new this.#RTCPeerConnection(config);
    const subscribe = new this.#RTCPeerConnection(config);
    this.#pcs = { publish, subscribe };
    this.#chains = { publish: Promise.resolve(), subscribe: Promise.resolve() };
    this.#remoteCandidates = { publish: [], subscribe: [] };
    this.#watch('publish', publish);
    this.#watch('subscribe', subscribe);
    subscribe.ontrack = (ev) => this.#onRemoteTrack(ev);

    this.#transceivers = {};
    this.#screen = null;
    this.#reoffer = false;
    for (const kind of /** @type {const} */ (['audio', 'video'])) {
      const track = stream?.getTracks().find((t) => t.kind === kind) ?? null;
      /** @type {RTCRtpTransceiverInit} */
      const init = { direction: 'sendonly', streams: stream ? [stream] : [] };
      this.#transceivers[kind] = kind === 'video'
        ? addSimulcast(publish, track ?? kind, init)
        : publish.addTransceiver(track ?? kind, init);
    }
  }

  /** Closes both connections, quietly; their remote tracks are removed. */
  close() {
    for (const name of /** @type {const} */ (['publish', 'subscribe'])) {
      const pc = this.#pcs[name];
      this.#pcs[name] = null;
      if (!pc) continue;
      pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
      pc.close();
    }
    this.#transceivers = {};
    this.#screen = null;
    // Closing a connection ends its tracks without an `ended` event.
    for (const id of [...this.#remoteTracks.keys()]) this.#removeRemoteTrack(id);
  }

  /**
   * Switches the sent track of kind without renegotiation.
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track
   */
  async replaceTrack(kind, track) {
    const sender = this.#transceivers[kind]?.sender;
    if (sender && this.#pcs.publish?.signalingState !== 'closed') await sender.replaceTrack(track);
  }

  /**
   * Starts sending a screen share (track) as a video track of its own, or
   * stops sending it (null), and renegotiates unless told not to. A new
   * share gets a new transceiver: the server sees a track end and another
   * begin.
   * @param {MediaStreamTrack | null} track
   * @param {boolean} [renegotiate]
   */
  setScreen(track, renegotiate = true) {
    const pc = this.#pcs.publish;
    if (!pc || pc.signalingState === 'closed') return;
    if (this.#screen) {
      if (this.#screen.sender.track === track) return;
      pc.removeTrack(this.#screen.sender);
      this.#screen = null;
    }
    if (track) {
      this.#screen = pc.addTransceiver(track, { direction: 'sendonly' });
    }
    if (renegotiate) this.offer();
  }

  /**
   * Statistics of both connections as plain objects.
   * @returns {Promise<{publish: any[], subscribe: any[]}>}
   */
  async stats() {
    /** @param {RTCPeerConnection | null} pc */
    const collect = async (pc) => {
      if (!pc || pc.signalingState === 'closed') return [];
      const report = await pc.getStats();
      return [...report.values()];
    };
    const [publish, subscribe] = await Promise.all([collect(this.#pcs.publish), collect(this.#pcs.subscribe)]);
    return { publish, subscribe };
  }

  // ---- Negotiation --------------------------------------------------------

  /**
   * Offers the publish connection (`publish`), naming the screen share's
   * mid when there is one (known once the offer is applied). While an
   * offer awaits its answer, the next one waits for it.
   */
  offer() {
    this.#serialize('publish', async (pc) => {
      if (pc.signalingState === 'have-local-offer') {
        this.#reoffer = true;
        return;
      }
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.#publish(offer);
    });
  }

  /**
   * Sends `publish` with offer, naming the screen share's mid if any.
   * @param {RTCSessionDescriptionInit} offer applied already
   */
  #publish(offer) {
    const screen = this.#screen?.sender.track ? this.#screen.mid ?? '' : '';
    this.#send(screen ? { type: 'publish', sdp: offer.sdp, screen } : { type: 'publish', sdp: offer.sdp });
  }

  /**
   * Offers the publish connection again with new ICE credentials (an ICE
   * restart), keeping its tracks: after a resume or a failed connection.
   * The server restarts the subscribe connection with an offer of its own.
   */
  restartIce() {
    this.#serialize('publish', async (pc) => {
      // An offer still awaiting its answer lost it with the old
      // websocket: this one replaces it.
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      this.#publish(offer);
    });
  }

  /** @param {unknown} sdp the server's answer to `publish` */
  onAnswer(sdp) {
    if (typeof sdp !== 'string') return;
    this.#serialize('publish', async (pc) => {
      if (pc.signalingState !== 'have-local-offer') {
        console.warn('kuayang: answer without a pending offer, ignored');
        return;
      }
      await pc.setRemoteDescription({ type: 'answer', sdp });
      await this.#flushCandidates('publish', pc);
      this.#offerAgain();
    });
  }

  /**
   * The server refused the publish offer (`error` with ref `publish`): it
   * is abandoned, and the connection's current state offered again if it
   * changed meanwhile.
   */
  onPublishRefused() {
    this.#serialize('publish', async (pc) => {
      if (pc.signalingState !== 'have-local-offer') return;
      await pc.setLocalDescription({ type: 'rollback' });
      this.#offerAgain();
    });
  }

  /** Offers again what changed while an offer was pending. */
  #offerAgain() {
    if (!this.#reoffer) return;
    this.#reoffer = false;
    this.offer();
  }

  /** @param {unknown} sdp the server's offer on the subscribe connection */
  onOffer(sdp) {
    if (typeof sdp !== 'string') return;
    this.#serialize('subscribe', async (pc) => {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await this.#flushCandidates('subscribe', pc);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.#send({ type: 'answer', sdp: answer.sdp });
    });
  }

  /**
   * Adds a candidate from the server, or queues it until the connection has
   * a remote description.
   * @param {unknown} name
   * @param {any} candidate
   */
  onCandidate(name, candidate) {
    if (name !== 'publish' && name !== 'subscribe') return;
    if (!candidate || typeof candidate.candidate !== 'string' || candidate.candidate === '') return;
    this.#serialize(name, async (pc) => {
      if (pc.remoteDescription) {
        await addCandidate(pc, candidate);
      } else {
        this.#remoteCandidates[name].push(candidate);
      }
    });
  }

  /**
   * @param {PCName} name
   * @param {RTCPeerConnection} pc
   */
  #watch(name, pc) {
    pc.onicecandidate = (ev) => {
      // A null candidate ends gathering; nothing to send.
      if (ev.candidate && ev.candidate.candidate) {
        this.#send({ type: 'candidate', pc: name, candidate: ev.candidate.toJSON() });
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && this.#pcs[name] === pc) {
        console.warn(`kuayang: ${name} connection failed, restarting ICE`);
        this.#onFailed();
      }
    };
  }

  /**
   * Runs task after the earlier tasks of the same connection, skipping it
   * if that connection was replaced meanwhile. Failures become `error`.
   * @param {PCName} name
   * @param {(pc: RTCPeerConnection) => Promise<void>} task
   */
  #serialize(name, task) {
    const pc = this.#pcs[name];
    if (!pc) return;
    this.#chains[name] = this.#chains[name]
      .then(() => (this.#pcs[name] === pc ? task(pc) : undefined))
      .catch((err) => {
        if (this.#pcs[name] !== pc) return;
        console.error(`kuayang: ${name} negotiation failed`, err);
        this.#emit('error', { code: 'webrtc', message: errorText(err), ref: name, fatal: false });
      });
  }

  /**
   * @param {PCName} name
   * @param {RTCPeerConnection} pc
   */
  async #flushCandidates(name, pc) {
    const queued = this.#remoteCandidates[name];
    this.#remoteCandidates[name] = [];
    for (const candidate of queued) await addCandidate(pc, candidate);
  }

  // ---- Remote tracks ----------------------------------------------------------

  /** @param {RTCTrackEvent} ev */
  #onRemoteTrack(ev) {
    const { track } = ev;
    const stream = ev.streams[0] ?? null;
    // A screen share comes in a stream of its own: "<participant id>~screen".
    const streamID = stream?.id ?? '';
    const screen = streamID.endsWith(SCREEN_SUFFIX);
    const participantId = screen ? streamID.slice(0, -SCREEN_SUFFIX.length) : streamID;
    // A transceiver the server reuses for another sender fires again with
    // the same track: retire the old association first.
    const previous = this.#remoteTracks.get(track.id);
    if (previous && previous.stream !== stream) this.#removeRemoteTrack(track.id);

    /** @type {RemoteTrack} */
    const entry = { participantId, track, stream, screen };
    this.#remoteTracks.set(track.id, entry);
    if (!this.#watched.has(track)) {
      this.#watched.add(track);
      track.addEventListener('ended', () => this.#removeRemoteTrack(track.id));
    }
    if (stream && !this.#watched.has(stream)) {
      this.#watched.add(stream);
      stream.addEventListener('removetrack', (e) => this.#removeRemoteTrack(e.track.id, stream));
    }
    this.#emit('track', entry);
  }

  /**
   * @param {string} trackID
   * @param {MediaStream} [stream] only if the track is still associated with it
   */
  #removeRemoteTrack(trackID, stream) {
    const entry = this.#remoteTracks.get(trackID);
    if (!entry || (stream && entry.stream !== stream)) return;
    this.#remoteTracks.delete(trackID);
    this.#emit('track-removed', entry);
  }
}

/**
 * The camera's simulcast encodings (docs/protocol.md): the server sends
 * each other participant the one their connection can take. Sized for a
 * 1280x720 camera: a quarter (320x180) that gets through a poor overseas
 * link or a phone on a weak mobile network, a half (640x360), and the
 * full picture. A browser may send fewer (a small camera), and pauses the
 * top ones when its uplink or CPU cannot keep up.
 * @type {readonly RTCRtpEncodingParameters[]}
 */
export const SIMULCAST_ENCODINGS = Object.freeze([
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000, maxFramerate: 15 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
]);

/**
 * Adds the video transceiver with the simulcast encodings, or with one
 * encoding when the browser refuses them (no simulcast support).
 * @param {RTCPeerConnection} pc
 * @param {MediaStreamTrack | string} trackOrKind
 * @param {RTCRtpTransceiverInit} init
 * @returns {RTCRtpTransceiver}
 */
function addSimulcast(pc, trackOrKind, init) {
  try {
    return pc.addTransceiver(trackOrKind, { ...init, sendEncodings: SIMULCAST_ENCODINGS.map((e) => ({ ...e })) });
  } catch (err) {
    console.warn('kuayang: simulcast refused, sending one encoding', err);
    return pc.addTransceiver(trackOrKind, init);
  }
}

/**
 * Adds a remote candidate; a refused candidate is logged, not fatal.
 * @param {RTCPeerConnection} pc
 * @param {RTCIceCandidateInit} candidate
 */
async function addCandidate(pc, candidate) {
  try {
    await pc.addIceCandidate(candidate);
  } catch (err) {
    console.warn('kuayang: remote candidate refused', err);
  }
}
