// @ts-check
/**
 * The network check of the pre-join page: a peer connection with one data
 * channel to the node (`POST /api/v1/netcheck`), over the ports and
 * candidates the call will use. The node echoes what is sent; the check
 * measures whether anything gets through, over what (UDP, TCP, a relay),
 * the round-trip time and the share of lost echoes.
 *
 * @module netcheck
 */

/**
 * @typedef {object} NetResult
 * @property {'good' | 'tcp' | 'relay' | 'slow' | 'failed'} verdict
 * @property {string} transport 'udp', 'tcp', 'relay' or '' when nothing got through
 * @property {number} rtt median round-trip time in ms (0 when unknown)
 * @property {number} lost share of echoes that did not come back, 0 to 1
 */

/** A round trip above this many ms makes the verdict 'slow'. */
export const SLOW_RTT = 400;

/**
 * Runs the check.
 * @param {object} o
 * @param {string} o.token the join token of POST /api/v1/join
 * @param {RTCIceServer[]} [o.iceServers]
 * @param {string} [o.apiBase] '' for the page's own node
 * @param {typeof fetch} [o.fetchFn]
 * @param {number} [o.pings] how many echoes to time
 * @returns {Promise<NetResult>}
 */
export async function checkNetwork({ token, iceServers = [], apiBase = '', fetchFn = fetch, pings = 10 }) {
  const pc = new RTCPeerConnection({ iceServers });
  try {
    const dc = pc.createDataChannel('netcheck', { ordered: false, maxRetransmits: 0 });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 3000);
    const res = await fetchFn(`${apiBase}/api/v1/netcheck`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token, sdp: pc.localDescription?.sdp ?? '' }),
    });
    if (!res.ok) return failed();
    const { sdp } = await res.json();
    await pc.setRemoteDescription({ type: 'answer', sdp });
    if (!(await opened(dc, 8000))) return failed();
    const rtts = await timeEchoes(dc, pings);
    const transport = await selectedTransport(pc);
    const lost = 1 - rtts.length / pings;
    const rtt = median(rtts);
    /** @type {NetResult['verdict']} */
    let verdict = 'good';
    if (rtts.length === 0) verdict = 'failed';
    else if (transport === 'relay') verdict = 'relay';
    else if (transport === 'tcp') verdict = 'tcp';
    else if (rtt > SLOW_RTT || lost > 0.2) verdict = 'slow';
    return { verdict, transport, rtt: Math.round(rtt), lost };
  } catch {
    return failed();
  } finally {
    pc.close();
  }
}

/** @returns {NetResult} */
function failed() {
  return { verdict: 'failed', transport: '', rtt: 0, lost: 1 };
}

/**
 * Waits until ICE gathering completes, or ms pass.
 * @param {RTCPeerConnection} pc
 * @param {number} ms
 */
function gathered(pc, ms) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve(undefined);
    const timer = setTimeout(() => resolve(undefined), ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
  });
}

/**
 * Resolves true when the channel opens, false after ms.
 * @param {RTCDataChannel} dc
 * @param {number} ms
 * @returns {Promise<boolean>}
 */
function opened(dc, ms) {
  return new Promise((resolve) => {
    if (dc.readyState === 'open') return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    dc.addEventListener('open', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Sends n numbered pings 100 ms apart and returns the round-trip times (ms)
 * of those echoed within a second of the last.
 * @param {RTCDataChannel} dc
 * @param {number} n
 * @returns {Promise<number[]>}
 */
function timeEchoes(dc, n) {
  /** @type {Map<number, number>} */
  const sent = new Map();
  /** @type {number[]} */
  const rtts = [];
  dc.addEventListener('message', (ev) => {
    try {
      const { seq } = JSON.parse(String(ev.data));
      const at = sent.get(seq);
      if (at !== undefined) {
        rtts.push(performance.now() - at);
        sent.delete(seq);
      }
    } catch {
      // not ours
    }
  });
  return new Promise((resolve) => {
    let seq = 0;
    const timer = setInterval(() => {
      if (seq >= n) {
        clearInterval(timer);
        setTimeout(() => resolve(rtts), 1000);
        return;
      }
      sent.set(seq, performance.now());
      dc.send(JSON.stringify({ seq }));
      seq++;
    }, 100);
  });
}

/**
 * The transport of the selected candidate pair: 'relay', 'tcp' or 'udp'.
 * @param {RTCPeerConnection} pc
 * @returns {Promise<string>}
 */
async function selectedTransport(pc) {
  const stats = await pc.getStats();
  /** @type {any} */
  let pair = null;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair) {
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
  }
  const local = pair ? stats.get(pair.localCandidateId) : null;
  if (!local) return '';
  if (local.candidateType === 'relay') return 'relay';
  return local.protocol === 'tcp' ? 'tcp' : 'udp';
}

/** @param {number[]} xs */
function median(xs) {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
