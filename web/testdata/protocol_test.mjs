// Tests of static/protocol.js against fake fetch, WebSocket and
// RTCPeerConnection. Run: node --test web/testdata/protocol_test.mjs
// (TestProtocolJS in web_test.go runs it when node is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ProtocolError } from '../static/protocol.js';

// The TURN servers of a join answer (docs/protocol.md).
const ICE_SERVERS = [{
  urls: ['turn:turn.example.org:3478?transport=udp', 'turn:turn.example.org:3478?transport=tcp'],
  username: '1900000000:p1',
  credential: 'n0L4G9mQ2xXoZ3t1kq7f0Yd8c2E=',
}];

const tick = () => new Promise((r) => setTimeout(r, 0));
const until = async (cond, what) => {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** A server side: records sockets, lets tests push frames. */
class FakeServer {
  sockets = [];
  joinAnswers = 0;
  apiError = null;
  fetch = async (url, init) => {
    assert.equal(url, '/api/v1/join');
    assert.equal(init.method, 'POST');
    assert.deepEqual(JSON.parse(init.body), { invite: 'INV' });
    if (this.apiError) {
      const { status, code } = this.apiError;
      return { ok: false, status, json: async () => ({ error: { code, message: `m-${code}` } }) };
    }
    this.joinAnswers++;
    return {
      ok: true, status: 200,
      json: async () => ({
        join_token: `tok${this.joinAnswers}`,
        expires_at: new Date(Date.now() + 120_000).toISOString(),
        ws_url: this.wsURL,
        session: { id: 's1', title: 'T', record: true, time_zone: 'Asia/Shanghai' },
        participant: { id: 'p1', name: 'Anna', role: 'party', language: 'it' },
        ice_servers: ICE_SERVERS,
      }),
    };
  };
  wsURL = 'wss://host/ws';
  get ws() { return this.sockets.at(-1); }
  sent(type, ws = this.ws) { return ws.sent.filter((m) => m.type === type); }
  push(msg, ws = this.ws) { ws.onmessage?.({ data: JSON.stringify(msg) }); }
}

function fakeWebSocket(server) {
  return class FakeWS {
    readyState = 0;
    sent = [];
    constructor(url) {
      this.url = url;
      server.sockets.push(this);
      setTimeout(() => { this.readyState = 1; this.onopen?.(); }, 0);
    }
    send(data) { this.sent.push(JSON.parse(data)); }
    close(code = 1000) { this.readyState = 3; this.closedWith = code; }
    drop(code = 1006) { this.readyState = 3; this.onclose?.({ code }); }
  };
}

class FakeTrack extends EventTarget {
  constructor(kind, id = `${kind}-${Math.random()}`) { super(); this.kind = kind; this.id = id; this.enabled = true; this.readyState = 'live'; }
}
class FakeStream extends EventTarget {
  constructor(id, tracks = []) { super(); this.id = id; this.tracks = tracks; }
  getTracks() { return [...this.tracks]; }
  removeTrack(t) { this.tracks = this.tracks.filter((x) => x !== t); }
  addTrack(t) { this.tracks.push(t); }
}

const pcs = [];
class FakePC {
  signalingState = 'stable';
  remoteDescription = null;
  localDescription = null;
  connectionState = 'new';
  transceivers = [];
  added = [];
  constructor(config) { this.config = config; pcs.push(this); }
  addTransceiver(trackOrKind, init) {
    const track = typeof trackOrKind === 'string' ? null : trackOrKind;
    const t = { kind: track?.kind ?? trackOrKind, init, sender: { track, replaceTrack: async (n) => { t.sender.track = n; } } };
    this.transceivers.push(t);
    return t;
  }
  async createOffer(options) { this.offerOptions = options; return { type: 'offer', sdp: 'client-offer' }; }
  async createAnswer() { return { type: 'answer', sdp: 'client-answer' }; }
  async setLocalDescription(d) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    // Applying an offer gives each transceiver its mid.
    this.transceivers.forEach((t, i) => { if (d.type === 'offer') t.mid ??= String(i); });
  }
  removeTrack(sender) { sender.track = null; }
  async setRemoteDescription(d) { await tick(); this.remoteDescription = d; this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable'; }
  async addIceCandidate(c) { this.added.push(c); }
  async getStats() { return new Map([['x', { id: 'x', type: 'transport' }]]); }
  close() { this.signalingState = 'closed'; }
}

function newClient(server) {
  return new Client({
    fetch: server.fetch,
    WebSocket: fakeWebSocket(server),
    RTCPeerConnection: FakePC,
    location: { protocol: 'https:', host: 'example.org', href: 'https://example.org/join/INV' },
    backoff: [5],
  });
}

function record(client) {
  const events = [];
  for (const type of ['state', 'joined', 'participant-joined', 'participant-updated', 'participant-left', 'track',
    'track-removed', 'reconnecting', 'reconnected', 'error', 'closed']) {
    client.on(type, (detail) => events.push({ type, detail }));
  }
  return events;
}

async function joinedClient(server, stream = null) {
  const client = newClient(server);
  const events = record(client);
  const info = await client.prepare('INV');
  assert.equal(info.participant.language, 'it');
  const joining = client.join({ invite: 'INV', consent: true, stream });
  await until(() => server.ws?.sent.length, 'join frame');
  assert.deepEqual(server.ws.sent[0], { type: 'join', version: 1, token: 'tok1', consent: true });
  server.push({ type: 'joined', self: { id: 'p1', name: 'Anna', role: 'party', audio: true, video: true },
    session: { id: 's1', title: 'T', record: true },
    participants: [{ id: 'p2', name: 'Wang', role: 'mediator', audio: true, video: true }] });
  const detail = await joining;
  return { client, events, detail };
}

test('join, publish, subscribe, candidates, tracks', async () => {
  const server = new FakeServer();
  const audio = new FakeTrack('audio');
  const video = new FakeTrack('video');
  const { client, events, detail } = await joinedClient(server, new FakeStream('local', [audio, video]));

  assert.equal(detail.participants.length, 1);
  assert.equal(detail.session.time_zone, 'Asia/Shanghai', 'join answer session merged');
  assert.equal(client.state, 'joined');
  const pub = client.publishPC;
  const sub = client.subscribePC;
  assert.ok(pub && sub && pub !== sub);
  // The join answer's TURN servers, credentials included, reach both
  // connections as they are.
  assert.deepEqual(pub.config.iceServers, ICE_SERVERS);
  assert.deepEqual(sub.config.iceServers, ICE_SERVERS);
  assert.deepEqual(pub.transceivers.map((t) => [t.kind, t.init.direction]), [['audio', 'sendonly'], ['video', 'sendonly']]);
  // The camera as three simulcast encodings, smallest first; the
  // microphone as one.
  assert.equal(pub.transceivers[0].init.sendEncodings, undefined);
  const enc = pub.transceivers[1].init.sendEncodings;
  assert.deepEqual(enc.map((e) => [e.rid, e.scaleResolutionDownBy]), [['q', 4], ['h', 2], ['f', 1]]);
  assert.ok(enc[0].maxBitrate < enc[1].maxBitrate && enc[1].maxBitrate < enc[2].maxBitrate, 'bitrates rise with size');

  await until(() => server.sent('publish').length === 1, 'publish');
  assert.equal(server.sent('publish')[0].sdp, 'client-offer');
  assert.deepEqual(server.sent('state')[0], { type: 'state', audio: true, video: true });

  // Server candidates before the answer are queued, then added.
  const c1 = { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  server.push({ type: 'candidate', pc: 'publish', candidate: c1 });
  server.push({ type: 'answer', sdp: 'server-answer' });
  await until(() => pub.remoteDescription?.sdp === 'server-answer' && pub.added.length === 1, 'answer applied');
  assert.deepEqual(pub.added[0], c1);

  // Subscribe: candidate before the offer is queued; offer answered.
  const c2 = { candidate: 'candidate:2 1 udp 1 1.2.3.4 6 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  server.push({ type: 'candidate', pc: 'subscribe', candidate: c2 });
  server.push({ type: 'candidate', pc: 'subscribe', candidate: { candidate: '' } });
  server.push({ type: 'offer', sdp: 'server-offer' });
  await until(() => server.sent('answer').length === 1, 'answer sent');
  assert.equal(sub.remoteDescription.sdp, 'server-offer');
  assert.deepEqual(sub.added, [c2]);
  assert.equal(server.sent('answer')[0].sdp, 'client-answer');

  // Local candidates are sent with the pc name; the end marker is not.
  pub.onicecandidate({ candidate: { candidate: 'candidate:3', toJSON: () => ({ candidate: 'candidate:3', sdpMid: '0' }) } });
  pub.onicecandidate({ candidate: null });
  assert.deepEqual(server.sent('candidate'), [{ type: 'candidate', pc: 'publish', candidate: { candidate: 'candidate:3', sdpMid: '0' } }]);

  // Remote track: participant id from the stream id.
  const rtrack = new FakeTrack('video');
  const rstream = new FakeStream('p2', [rtrack]);
  sub.ontrack({ track: rtrack, streams: [rstream] });
  const tr = events.find((e) => e.type === 'track');
  assert.equal(tr.detail.participantId, 'p2');
  rstream.dispatchEvent(Object.assign(new Event('removetrack'), { track: rtrack }));
  assert.equal(events.filter((e) => e.type === 'track-removed').length, 1);

  // Roster.
  server.push({ type: 'participant_joined', participant: { id: 'p3', name: 'Luca', role: 'interpreter', audio: true, video: false } });
  server.push({ type: 'participant_updated', participant: { id: 'p3', name: 'Luca', role: 'interpreter', audio: false, video: false } });
  server.push({ type: 'participant_left', id: 'p2' });
  server.push({ type: 'something_new', x: 1 });
  assert.deepEqual(client.participants.map((p) => [p.id, p.audio]), [['p3', false]]);
  assert.deepEqual(events.filter((e) => e.type.startsWith('participant-')).map((e) => e.type),
    ['participant-joined', 'participant-updated', 'participant-left']);

  // Mute, camera off, device switch.
  client.setAudio(false);
  assert.equal(audio.enabled, false);
  assert.deepEqual(server.sent('state').at(-1), { type: 'state', audio: false, video: true });
  client.setVideo(false);
  assert.equal(video.enabled, false);
  const cam2 = new FakeTrack('video');
  await client.replaceTrack('video', cam2);
  assert.equal(pub.transceivers[1].sender.track, cam2);
  assert.equal(pub.transceivers.length, 2, 'a device switch keeps the simulcast transceiver');
  assert.equal(cam2.enabled, false, 'new track keeps camera-off');
  assert.ok(client.localStream.getTracks().includes(cam2) && !client.localStream.getTracks().includes(video));

  const stats = await client.getStats();
  assert.equal(stats.publish[0].type, 'transport');

  // Non-fatal error is surfaced and keeps the connection.
  server.push({ type: 'error', code: 'bad_sdp', message: 'nope', ref: 'publish' });
  assert.deepEqual(events.find((e) => e.type === 'error').detail, { code: 'bad_sdp', message: 'nope', ref: 'publish', fatal: false });
  assert.equal(client.state, 'joined');

  // Leave: sends leave, finishes on bye.
  const leaving = client.leave();
  assert.equal(server.sent('leave').length, 1);
  server.push({ type: 'bye', reason: 'left' });
  await leaving;
  assert.equal(client.state, 'closed');
  assert.deepEqual(events.at(-1), { type: 'closed', detail: { reason: 'left' } });
  assert.equal(pub.signalingState, 'closed');
  assert.equal(client.publishPC, null);
});

test('screen share: a track of its own named by its mid, one publish at a time, stopped when the capture ends', async () => {
  const server = new FakeServer();
  const camera = new FakeTrack('video');
  const { client, events } = await joinedClient(server, new FakeStream('local', [new FakeTrack('audio'), camera]));
  const shared = [];
  client.on('screen', ({ track }) => shared.push(track));
  const pub = client.publishPC;
  await until(() => server.sent('publish').length === 1, 'publish');
  assert.equal('screen' in server.sent('publish')[0], false, 'no screen before sharing');

  const capture = Object.assign(new FakeTrack('video', 'cap'), { stop() { this.readyState = 'ended'; } });
  assert.equal(client.shareScreen(new FakeTrack('audio')), false, 'an audio track is no screen');
  assert.equal(client.shareScreen(capture), true);
  assert.equal(client.screenTrack, capture);
  assert.deepEqual(pub.transceivers.map((t) => [t.kind, t.init.direction]), [['audio', 'sendonly'], ['video', 'sendonly'], ['video', 'sendonly']]);
  // The first offer awaits its answer: the second waits for it.
  await tick();
  assert.equal(server.sent('publish').length, 1);
  server.push({ type: 'answer', sdp: 'server-answer' });
  await until(() => server.sent('publish').length === 2, 'publish with the screen');
  assert.equal(server.sent('publish')[1].screen, '2', 'the screen track named by its mid');
  assert.equal(pub.transceivers[1].sender.track, camera, 'the camera goes on');

  // The browser's own "stop sharing" ends the capture: the share stops.
  server.push({ type: 'answer', sdp: 'server-answer' });
  await until(() => pub.signalingState === 'stable', 'second answer');
  capture.dispatchEvent(new Event('ended'));
  assert.equal(client.screenTrack, null);
  assert.equal(capture.readyState, 'ended');
  await until(() => server.sent('publish').length === 3, 'publish without the screen');
  assert.equal('screen' in server.sent('publish')[2], false);
  assert.equal(pub.transceivers[2].sender.track, null);
  assert.deepEqual(shared, [capture, null]);

  // A refused offer is rolled back, and what changed meanwhile offered.
  const again = Object.assign(new FakeTrack('video', 'cap2'), { stop() { this.readyState = 'ended'; } });
  client.shareScreen(again);
  await tick();
  server.push({ type: 'error', code: 'bad_sdp', message: 'no', ref: 'publish' });
  await until(() => server.sent('publish').length === 4, 'publish offered again after the refusal');
  assert.equal(server.sent('publish')[3].screen, '3');
  client.stopScreenShare();
  assert.equal(again.readyState, 'ended', 'stopping ends the capture');

  // Received: a stream id ending in ~screen is that participant's screen.
  const sub = client.subscribePC;
  const rtrack = new FakeTrack('video');
  sub.ontrack({ track: rtrack, streams: [new FakeStream('p2~screen', [rtrack])] });
  const tr = events.filter((e) => e.type === 'track').at(-1);
  assert.deepEqual([tr.detail.participantId, tr.detail.screen], ['p2', true]);
  const cam = new FakeTrack('video');
  sub.ontrack({ track: cam, streams: [new FakeStream('p2', [cam])] });
  assert.deepEqual([events.filter((e) => e.type === 'track').at(-1).detail.screen], [false]);
});

test('a browser that refuses simulcast sends the camera as one encoding', async () => {
  const server = new FakeServer();
  const refuse = FakePC.prototype.addTransceiver;
  FakePC.prototype.addTransceiver = function (trackOrKind, init) {
    if (init.sendEncodings) throw new DOMException('simulcast not supported', 'OperationError');
    return refuse.call(this, trackOrKind, init);
  };
  try {
    const video = new FakeTrack('video');
    const { client } = await joinedClient(server, new FakeStream('local', [new FakeTrack('audio'), video]));
    const pub = client.publishPC;
    assert.deepEqual(pub.transceivers.map((t) => [t.kind, t.init.sendEncodings]), [['audio', undefined], ['video', undefined]]);
    assert.equal(pub.transceivers[1].sender.track, video);
    await until(() => server.sent('publish').length === 1, 'publish');
  } finally {
    FakePC.prototype.addTransceiver = refuse;
  }
});

test('join refused by the server', async () => {
  const server = new FakeServer();
  const client = newClient(server);
  const joining = client.join({ invite: 'INV', consent: false });
  await until(() => server.ws?.sent.length, 'join frame');
  server.push({ type: 'error', code: 'consent_required', message: 'consent', ref: 'join' });
  await assert.rejects(joining, (err) => err instanceof ProtocolError && err.code === 'consent_required');
  assert.equal(client.state, 'idle');
  assert.equal(server.ws.readyState, 3, 'socket closed');
});

test('a stale token is replaced once', async () => {
  const server = new FakeServer();
  const client = newClient(server);
  const joining = client.join({ invite: 'INV', consent: true });
  await until(() => server.ws?.sent.length, 'join frame');
  server.push({ type: 'error', code: 'token_used', message: '' });
  await until(() => server.sockets.length === 2 && server.ws.sent.length, 'second join');
  assert.equal(server.ws.sent[0].token, 'tok2');
  server.push({ type: 'joined', self: { id: 'p1' }, session: {}, participants: [] });
  await joining;
  assert.equal(client.state, 'joined');
});

test('API errors carry their code', async () => {
  const server = new FakeServer();
  server.apiError = { status: 410, code: 'invite_expired' };
  const client = newClient(server);
  await assert.rejects(client.prepare('INV'), (err) => err.code === 'invite_expired' && err.status === 410 && err.message === 'm-invite_expired');
});

test('ws URL derived from the page when missing', async () => {
  const server = new FakeServer();
  server.wsURL = undefined;
  const client = newClient(server);
  client.join({ invite: 'INV' }).catch(() => {});
  await until(() => server.ws, 'socket');
  assert.equal(server.ws.url, 'wss://example.org/ws');
  await client.leave();
});

test('reconnects with a new token after an unexpected close', async () => {
  const server = new FakeServer();
  const { client, events } = await joinedClient(server);
  const firstPub = client.publishPC;
  server.ws.drop();
  assert.equal(client.state, 'reconnecting');
  assert.equal(firstPub.signalingState, 'closed');
  await until(() => server.sockets.length === 2 && server.ws.sent.length, 'rejoin frame');
  assert.equal(server.ws.sent[0].token, 'tok2');
  assert.equal(server.ws.sent[0].consent, true);
  server.push({ type: 'joined', self: { id: 'p1' }, session: {}, participants: [] });
  await until(() => events.some((e) => e.type === 'reconnected'), 'reconnected');
  assert.equal(client.state, 'joined');
  assert.notEqual(client.publishPC, firstPub);
  assert.deepEqual(events.find((e) => e.type === 'reconnecting').detail, { attempt: 1, delay: 5 });
  await until(() => server.sent('publish').length === 1, 'publish after rejoin');
});

async function resumableClient(server) {
  const client = newClient(server);
  const events = record(client);
  for (const type of ['rooms', 'recording', 'chat', 'admitted']) client.on(type, (detail) => events.push({ type, detail }));
  await client.prepare('INV');
  const joining = client.join({ invite: 'INV', consent: true });
  await until(() => server.ws?.sent.length, 'join frame');
  server.push({ type: 'joined', self: { id: 'p1', name: 'Anna', role: 'party' }, session: { id: 's1' }, admitted: true,
    participants: [{ id: 'p2', name: 'Wang', role: 'mediator' }], resume: { token: 'R1', window: 30 } });
  await joining;
  await until(() => server.sent('publish').length === 1, 'first publish');
  return { client, events };
}

test('resumes after a drop: the same connections restart ICE, the changes come as events', async () => {
  const server = new FakeServer();
  const { client, events } = await resumableClient(server);
  const pub = client.publishPC, sub = client.subscribePC;
  server.ws.drop();
  assert.equal(client.state, 'reconnecting');
  assert.notEqual(pub.signalingState, 'closed', 'the media connections stay while the place is kept');
  await until(() => server.sockets.length === 2 && server.ws.sent.length, 'resume frame');
  assert.deepEqual(server.ws.sent[0], { type: 'resume', version: 1, token: 'R1' });
  assert.equal(server.joinAnswers, 1, 'no new join token');
  server.push({ type: 'resumed', self: { id: 'p1', hand: false }, session: {}, admitted: true,
    participants: [{ id: 'p3', name: 'Rossi', role: 'interpreter' }], chat: [{ id: 'c1', from: 'p3', text: 'ciao' }],
    rooms: [], recording: { paused: true, reason: 'break' }, resume: { token: 'R2', window: 30 } });
  await until(() => events.some((e) => e.type === 'reconnected'), 'reconnected');
  assert.equal(events.find((e) => e.type === 'reconnected').detail.resumed, true);
  assert.equal(client.publishPC, pub);
  assert.equal(client.subscribePC, sub);
  await until(() => server.sent('publish').length === 1, 'the ICE restart offer');
  assert.equal(pub.offerOptions?.iceRestart, true);
  assert.ok(events.some((e) => e.type === 'participant-left' && e.detail.id === 'p2'), 'p2 left meanwhile');
  assert.ok(events.some((e) => e.type === 'participant-joined' && e.detail.participant.id === 'p3'), 'p3 came meanwhile');
  assert.ok(events.some((e) => e.type === 'chat' && e.detail.id === 'c1'), 'the chat of the meantime');
  assert.ok(events.some((e) => e.type === 'recording' && e.detail.paused), 'the recording paused meanwhile');
  assert.equal(events.filter((e) => e.type === 'joined').length, 1, 'no second joined');
  // The next drop resumes with the next token.
  server.ws.drop();
  await until(() => server.sockets.length === 3 && server.ws.sent.length, 'second resume frame');
  assert.equal(server.ws.sent[0].token, 'R2');
  await client.leave();
});

test('a resume refused joins afresh with new connections', async () => {
  const server = new FakeServer();
  const { client, events } = await resumableClient(server);
  const pub = client.publishPC;
  server.ws.drop();
  await until(() => server.sockets.length === 2 && server.ws.sent.length, 'resume frame');
  server.push({ type: 'error', code: 'resume_failed', message: 'join again' });
  await until(() => server.sockets.length === 3 && server.ws.sent.length, 'join frame');
  assert.equal(server.ws.sent[0].type, 'join');
  assert.equal(server.ws.sent[0].token, 'tok2');
  assert.equal(pub.signalingState, 'closed');
  server.push({ type: 'joined', self: { id: 'p1' }, session: {}, participants: [] });
  await until(() => events.some((e) => e.type === 'reconnected'), 'reconnected');
  assert.equal(events.find((e) => e.type === 'reconnected').detail.resumed, false);
  assert.notEqual(client.publishPC, pub);
  await client.leave();
});

test('a failed media connection restarts ICE over the open websocket', async () => {
  const server = new FakeServer();
  const { client } = await resumableClient(server);
  const pub = client.publishPC;
  pub.connectionState = 'failed';
  pub.onconnectionstatechange?.();
  await until(() => server.sent('ice_restart').length === 1 && server.sent('publish').length === 2, 'ice_restart and a new publish');
  assert.equal(pub.offerOptions?.iceRestart, true);
  assert.equal(client.state, 'joined');
  assert.equal(client.publishPC, pub);
  client.subscribePC.connectionState = 'failed';
  client.subscribePC.onconnectionstatechange?.();
  await tick();
  assert.equal(server.sent('ice_restart').length, 1, 'one restart for both connections');
  await client.leave();
});

test('keeps retrying while the network is down, stops on a dead invite', async () => {
  const server = new FakeServer();
  const { client, events } = await joinedClient(server);
  server.ws.drop();
  await until(() => server.sockets.length === 2, 'attempt 1');
  server.ws.drop(); // fails before joined
  await until(() => server.sockets.length === 3, 'attempt 2');
  server.apiError = { status: 410, code: 'invite_revoked' };
  server.ws.drop();
  await until(() => client.state === 'closed', 'closed');
  assert.deepEqual(events.at(-1), { type: 'closed', detail: { reason: 'invite_revoked' } });
});

test('bye ends without reconnecting', async () => {
  const server = new FakeServer();
  const { client, events } = await joinedClient(server);
  server.push({ type: 'bye', reason: 'replaced' });
  server.ws.drop(1000);
  await tick();
  assert.equal(client.state, 'closed');
  assert.deepEqual(events.filter((e) => e.type === 'closed').map((e) => e.detail.reason), ['replaced']);
  assert.equal(events.some((e) => e.type === 'reconnecting'), false);
  assert.equal(server.sockets.length, 1);
});

test('fatal session_ended ends without reconnecting', async () => {
  const server = new FakeServer();
  const { client, events } = await joinedClient(server);
  server.push({ type: 'error', code: 'session_ended', message: '' });
  server.ws.drop(1000);
  assert.equal(client.state, 'closed');
  assert.deepEqual(events.at(-1), { type: 'closed', detail: { reason: 'session_ended' } });
});

// Several nodes (docs/protocol.md): a join that reaches a node whose
// session lives elsewhere is redirected; the client gets a join token from
// the hosting node with the same invite and joins there, without the
// caller noticing, and comes back through the page's node when the
// hosting node is gone.
test('follows a redirect to the node hosting the room', async () => {
  const calls = [];
  let nodeBDown = false;
  const server = new FakeServer();
  server.fetch = async (url, init) => {
    calls.push(url);
    assert.deepEqual(JSON.parse(init.body), { invite: 'INV' });
    if (url.startsWith('https://b.example.org') && nodeBDown) throw new TypeError('Failed to fetch');
    server.joinAnswers++;
    const b = url.startsWith('https://b.example.org');
    return {
      ok: true, status: 200,
      json: async () => ({
        join_token: `tok${server.joinAnswers}`, expires_at: new Date(Date.now() + 120_000).toISOString(),
        ws_url: b ? 'wss://b.example.org/ws' : 'wss://a.example.org/ws',
        session: { id: 's1', title: 'T', record: true }, participant: { id: 'p1', name: 'Anna', role: 'party' },
      }),
    };
  };
  const client = newClient(server);
  const events = record(client);
  const joining = client.join({ invite: 'INV', consent: true });
  await until(() => server.ws?.sent.length, 'join on node A');
  const wsA = server.ws;
  assert.equal(wsA.url, 'wss://a.example.org/ws');
  server.push({ type: 'redirect', code: 'room_elsewhere', url: 'https://b.example.org/', ws_url: 'wss://b.example.org/ws' });
  await until(() => server.ws !== wsA && server.ws.sent.length, 'join on node B');
  assert.equal(server.ws.url, 'wss://b.example.org/ws');
  assert.equal(wsA.readyState, 3, 'the socket of node A is closed');
  assert.deepEqual(calls, ['/api/v1/join', 'https://b.example.org/api/v1/join']);
  assert.deepEqual(server.ws.sent[0], { type: 'join', version: 1, token: 'tok2', consent: true });
  server.push({ type: 'joined', self: { id: 'p1' }, session: { id: 's1' }, participants: [] });
  await joining;
  assert.equal(client.state, 'joined');
  assert.ok(!events.some((e) => e.type === 'error' || e.type === 'closed'), 'the redirect is invisible');

  // A reconnect goes straight to node B; when B is gone, through A again.
  server.ws.drop();
  await until(() => calls.length === 3, 'reconnect to B');
  assert.equal(calls[2], 'https://b.example.org/api/v1/join');
  await until(() => server.ws.url === 'wss://b.example.org/ws' && server.sockets.length === 3 && server.ws.sent.length, 'join on B');
  server.push({ type: 'joined', self: { id: 'p1' }, session: { id: 's1' }, participants: [] });
  await until(() => client.state === 'joined', 'joined on B again');
  nodeBDown = true;
  server.ws.drop();
  await until(() => server.sockets.length === 4 && server.ws.sent.length, 'join through A');
  assert.equal(server.ws.url, 'wss://a.example.org/ws');
  assert.deepEqual(calls.slice(3), ['https://b.example.org/api/v1/join', '/api/v1/join']);
  server.push({ type: 'joined', self: { id: 'p1' }, session: { id: 's1' }, participants: [] });
  await until(() => client.state === 'joined', 'joined through A');
  await client.leave();
});

test('gives up after too many redirects', async () => {
  const server = new FakeServer();
  const real = server.fetch;
  server.fetch = async (url, init) => real('/api/v1/join', init);
  const client = newClient(server);
  const joining = client.join({ invite: 'INV', consent: true });
  for (let i = 0; i < 3; i++) {
    await until(() => server.sockets.length === i + 1 && server.ws.sent.length, `join ${i}`);
    server.push({ type: 'redirect', code: 'room_elsewhere', url: `https://n${i}.example.org`, ws_url: `wss://n${i}.example.org/ws` });
  }
  await assert.rejects(joining, (err) => err instanceof ProtocolError && err.code === 'too_many_redirects');
  assert.equal(client.state, 'idle');
});

// ---- The waiting room and the call features (docs/protocol.md) ----------

function recordAll(client) {
  const events = [];
  for (const type of ['joined', 'waiting', 'admitted', 'lobby', 'room', 'notice', 'muted', 'chat', 'error', 'closed',
    'reconnecting', 'participant-updated']) {
    client.on(type, (detail) => events.push({ type, detail }));
  }
  return events;
}

async function waitingClient(server, stream = null) {
  const client = newClient(server);
  const events = recordAll(client);
  const joining = client.join({ invite: 'INV', consent: true, stream });
  await until(() => server.ws?.sent.length, 'join frame');
  server.push({ type: 'joined', self: { id: 'p1', name: 'Anna', role: 'party', hand: false, host: false },
    session: { id: 's1', title: 'T', record: true, waiting_room: true }, participants: [], admitted: false,
    room: { locked: false }, chat: [] });
  const detail = await joining;
  return { client, events, detail };
}

test('waiting room: no media until admitted, then publish as after joined', async () => {
  const server = new FakeServer();
  const audio = new FakeTrack('audio');
  const before = pcs.length;
  const { client, events, detail } = await waitingClient(server, new FakeStream('local', [audio, new FakeTrack('video')]));
  assert.equal(detail.admitted, false);
  assert.equal(client.state, 'joined');
  assert.equal(client.admitted, false);
  server.push({ type: 'waiting', reason: 'waiting_room' });
  assert.deepEqual(events.find((e) => e.type === 'waiting').detail, { reason: 'waiting_room' });
  assert.equal(client.waitingReason, 'waiting_room');
  server.push({ type: 'notice', from: { id: 'm1', name: 'Zhou', role: 'mediator' }, text: 'One moment' });
  assert.deepEqual(events.find((e) => e.type === 'notice').detail.text, 'One moment');

  // Nothing but leave may be sent while waiting: no state, no chat, no hand.
  client.setAudio(false);
  assert.equal(audio.enabled, false, 'the switch still works locally');
  assert.equal(client.sendChat('hi'), false);
  assert.equal(client.setHand(true), false);
  await tick();
  assert.equal(pcs.length, before, 'no peer connection while waiting');
  assert.equal(client.publishPC, null);
  assert.deepEqual(server.ws.sent.map((m) => m.type), ['join']);

  server.push({ type: 'admitted', participants: [{ id: 'm1', name: 'Zhou', role: 'mediator', host: true }],
    chat: [{ id: 'c1', from: 'm1', name: 'Zhou', role: 'mediator', text: 'Welcome', at: '2026-11-27T10:00:00Z' }] });
  assert.equal(client.admitted, true);
  assert.equal(pcs.length, before + 2);
  const admitted = events.find((e) => e.type === 'admitted').detail;
  assert.deepEqual(admitted.participants.map((p) => p.id), ['m1']);
  assert.deepEqual(admitted.chat.map((m) => m.text), ['Welcome']);
  await until(() => server.sent('publish').length === 1, 'publish after admitted');
  assert.deepEqual(server.sent('state')[0], { type: 'state', audio: false, video: true });
  assert.deepEqual(client.participants.map((p) => p.id), ['m1']);
});

test('sent back to the waiting room: media closes, the local stream stays', async () => {
  const server = new FakeServer();
  const stream = new FakeStream('local', [new FakeTrack('audio'), new FakeTrack('video')]);
  const { client } = await joinedClient(server, stream);
  const events = recordAll(client);
  const pub = client.publishPC;
  server.push({ type: 'waiting', reason: 'host_absent' });
  assert.equal(client.admitted, false);
  assert.equal(pub.signalingState, 'closed');
  assert.equal(client.publishPC, null);
  assert.equal(client.localStream, stream);
  assert.deepEqual(client.participants, []);
  assert.deepEqual(events.map((e) => e.type), ['waiting']);
  assert.equal(client.state, 'joined', 'still connected: no reconnection');
});

test('joined without admitted (an older server) is in the call', async () => {
  const server = new FakeServer();
  const { client, detail } = await joinedClient(server);
  assert.equal(detail.admitted, true);
  assert.equal(client.admitted, true);
});

for (const reason of ['rejected', 'removed']) {
  test(`bye ${reason} ends without reconnecting, with the host's words`, async () => {
    const server = new FakeServer();
    const { client, events } = await waitingClient(server);
    server.push({ type: 'bye', reason, message: reason === 'rejected' ? 'Not <b>today</b>' : undefined });
    server.ws.drop(1000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.state, 'closed');
    const closed = events.filter((e) => e.type === 'closed');
    assert.deepEqual(closed.map((e) => e.detail),
      [reason === 'rejected' ? { reason, message: 'Not <b>today</b>' } : { reason }]);
    assert.equal(events.some((e) => e.type === 'reconnecting'), false);
    assert.equal(server.sockets.length, 1);
  });
}

test('muted turns the device off as the own button does, and says so', async () => {
  const server = new FakeServer();
  const audio = new FakeTrack('audio');
  const video = new FakeTrack('video');
  const { client } = await joinedClient(server, new FakeStream('local', [audio, video]));
  const events = recordAll(client);
  server.push({ type: 'muted', kind: 'audio', by: 'm1' });
  assert.equal(audio.enabled, false);
  assert.equal(client.audioEnabled, false);
  assert.deepEqual(server.sent('state').at(-1), { type: 'state', audio: false, video: true });
  server.push({ type: 'muted', kind: 'video', by: 'm1' });
  assert.equal(video.enabled, false);
  assert.deepEqual(server.sent('state').at(-1), { type: 'state', audio: false, video: false });
  assert.deepEqual(events.filter((e) => e.type === 'muted').map((e) => e.detail), [{ kind: 'audio', by: 'm1' }, { kind: 'video', by: 'm1' }]);
  server.push({ type: 'muted', kind: 'screen', by: 'm1' });
  assert.equal(events.filter((e) => e.type === 'muted').length, 2, 'unknown kinds are ignored');
});

test('chat, hand and the host actions send their messages', async () => {
  const server = new FakeServer();
  const { client } = await joinedClient(server);
  const events = recordAll(client);
  const sent = () => server.ws.sent.slice(-1)[0];
  assert.equal(client.sendChat('Buongiorno'), true);
  assert.deepEqual(sent(), { type: 'chat', text: 'Buongiorno' });
  client.setHand(true);
  assert.deepEqual(sent(), { type: 'hand', raised: true });
  assert.equal(client.self.hand, true);
  client.admit('p7');
  assert.deepEqual(sent(), { type: 'admit', id: 'p7' });
  client.admitAll();
  assert.deepEqual(sent(), { type: 'admit', all: true });
  client.reject('p7');
  assert.deepEqual(sent(), { type: 'reject', id: 'p7' });
  client.reject('p7', 'Thursday');
  assert.deepEqual(sent(), { type: 'reject', id: 'p7', message: 'Thursday' });
  client.notice('p7', 'One moment');
  assert.deepEqual(sent(), { type: 'notice', id: 'p7', text: 'One moment' });
  client.lock(true);
  assert.deepEqual(sent(), { type: 'lock', locked: true });
  client.mute('p2', 'video');
  assert.deepEqual(sent(), { type: 'mute', id: 'p2', kind: 'video' });
  client.remove('p2');
  assert.deepEqual(sent(), { type: 'remove', id: 'p2' });
  client.endSession();
  assert.deepEqual(sent(), { type: 'end_session' });

  server.push({ type: 'chat', id: 'c9', from: 'p2', name: 'Wang', role: 'mediator', text: '<i>hi</i>', at: '2026-11-27T10:00:00Z' });
  server.push({ type: 'chat', from: 'p2', text: 'no id' });
  assert.deepEqual(events.filter((e) => e.type === 'chat').map((e) => e.detail),
    [{ id: 'c9', from: 'p2', name: 'Wang', role: 'mediator', text: '<i>hi</i>', at: '2026-11-27T10:00:00Z' }]);
  server.push({ type: 'lobby', waiting: [{ id: 'p7', name: 'Lin', role: 'party', reason: 'locked' }, null] });
  assert.deepEqual(client.lobby.map((p) => [p.id, p.reason]), [['p7', 'locked']]);
  server.push({ type: 'room', locked: true });
  assert.equal(client.roomLocked, true);
  assert.deepEqual(events.filter((e) => e.type === 'room').map((e) => e.detail), [{ locked: true }]);
  server.push({ type: 'error', code: 'rate_limited', message: 'slow down', ref: 'chat' });
  assert.deepEqual(events.find((e) => e.type === 'error').detail, { code: 'rate_limited', message: 'slow down', ref: 'chat', fatal: false });
  assert.equal(client.state, 'joined');
});
