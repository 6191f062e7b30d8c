package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// keyframeWait is how long a subscriber waits for a keyframe after a loss
// before it resumes at the next frame start anyway (a decoder asks for a
// keyframe itself; this only guards against a keyframe test that never
// matches).
const keyframeWait = 3 * time.Second

// downTrack carries one published track to one subscriber: a bounded queue
// filled by the track's reader and drained by its own writer goroutine.
type downTrack struct {
	fwd    *forwarder
	sub    *Participant      // nil in unit tests
	sink   packetSink        // the subscriber's local track
	sender *webrtc.RTPSender // nil in unit tests
	ready  func() bool       // bound and connected: packets can go out
	obs    *observer         // the in-process observer it feeds, or nil
	sim    *simDown          // layer state of a simulcast track (simulcast.go), or nil
	q      *ring
	wake   chan struct{} // capacity 1: "the queue is not empty"
	done   chan struct{}
	once   sync.Once

	forwarded atomic.Uint64
	dropped   atomic.Uint64
	bytes     atomic.Uint64                // of the forwarded packets, as received
	retired   atomic.Bool                  // counters moved to the SFU's
	report    atomic.Pointer[senderReport] // undelivered sender report (observers)

	// Producer state, touched only by the forwarder's reader goroutine.
	waitKey   bool      // skip until a keyframe (video)
	waitSince time.Time // first frame start seen while waiting
	started   bool      // a packet went out
	gap       bool      // packets were skipped since lastOut
	skipped   uint32    // packets skipped since the last one queued
	off       uint16    // subtracted from incoming sequence numbers
	lastOut   uint16    // highest sequence number sent

	// Controller state (control.go), guarded by room.mu.
	ctlBytes uint64
	ctlAt    time.Time
	rate     int64 // bit/s received lately
}

// newDownTrack returns a downTrack of f writing to sink. A video subscriber
// starts by waiting for a keyframe.
func newDownTrack(f *forwarder, sink packetSink, ready func() bool) *downTrack {
	n := audioQueueLen
	if f.video() {
		n = videoQueueLen
	}
	return newDownTrackLen(f, sink, ready, n)
}

// newDownTrackLen is newDownTrack with a queue of n packets (a power of two).
func newDownTrackLen(f *forwarder, sink packetSink, ready func() bool, n int) *downTrack {
	d := &downTrack{
		fwd: f, sink: sink, ready: ready, q: newRing(n),
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		waitKey: f.video(),
	}
	if f.sim != nil {
		d.sim = newSimDown(f.sim.initial())
	}
	return d
}

// push hands one packet to the subscriber. It never blocks and never
// allocates: when the queue is full the packet is dropped and, for video,
// so is everything up to the next keyframe, which is requested.
func (d *downTrack) push(pk *packet) {
	if !d.ready() {
		d.waitKey = d.fwd.video()
		d.waitSince = time.Time{}
		d.skip()
		return
	}
	if d.waitKey && !pk.key && !d.waitExpired(pk) {
		d.skip()
		d.fwd.requestKeyframe()
		return
	}
	d.waitKey = false
	off := d.off
	if d.gap {
		off = pk.seq - d.lastOut - 1
	}
	out := pk.seq - off
	if !d.q.put(pk, out, d.skipped) {
		d.lose()
		return
	}
	d.off, d.gap, d.skipped = off, false, 0
	if !d.started || int16(out-d.lastOut) > 0 {
		d.lastOut = out
	}
	d.started = true
	d.forwarded.Add(1)
	d.bytes.Add(uint64(len(pk.raw)))
	d.wakeUp()
}

// wakeUp tells the writer there is work. It never blocks.
func (d *downTrack) wakeUp() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// skip notes a packet that is not sent: once packets went out, it leaves a
// gap in what the subscriber receives.
func (d *downTrack) skip() {
	d.gap = d.started
	if d.started {
		d.skipped++
	}
}

// lose drops the packet that did not fit; video then waits for a keyframe.
func (d *downTrack) lose() {
	d.dropped.Add(1)
	d.skip()
	if d.fwd.video() {
		d.waitKey = true
		d.waitSince = time.Time{}
		d.fwd.requestKeyframe()
	}
}

// waitExpired reports whether a frame start ends a wait for a keyframe that
// has lasted too long.
func (d *downTrack) waitExpired(pk *packet) bool {
	if !pk.frameStart {
		return false
	}
	if d.waitSince.IsZero() {
		d.waitSince = time.Now()
		return false
	}
	return time.Since(d.waitSince) > keyframeWait
}

// writeLoop drains the queue into the sink until stop.
func (d *downTrack) writeLoop() {
	for {
		select {
		case <-d.done:
			return
		case <-d.wake:
		}
		d.q.drain(d.sink)
	}
}

// rtcpLoop reads the subscriber's RTCP for this track until the sender
// stops, forwarding keyframe requests to the publisher (throttled there).
// Reading also keeps the interceptors (NACK responder, reports) fed.
func (d *downTrack) rtcpLoop() {
	buf := make([]byte, slotSize)
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		if wantsKeyframe(buf[:n]) {
			d.requestKeyframe()
		}
		if d.sub != nil {
			nacks, asks := countFeedback(buf[:n])
			d.sub.s.nacks.Add(uint64(nacks))
			d.sub.s.plisIn.Add(uint64(asks))
		}
	}
}

// stop ends the writer. Idempotent.
func (d *downTrack) stop() {
	d.once.Do(func() { close(d.done) })
}

// localTrack is the subscriber's end of a forwarded track. It records
// whether pion has bound it to a negotiated transceiver: writes before that
// go nowhere, so a subscriber waits for binding before it takes a keyframe.
type localTrack struct {
	*webrtc.TrackLocalStaticRTP
	bound atomic.Bool
}

// Bind implements webrtc.TrackLocal.
func (t *localTrack) Bind(c webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	p, err := t.TrackLocalStaticRTP.Bind(c)
	if err == nil {
		t.bound.Store(true)
	}
	return p, err
}

// Unbind implements webrtc.TrackLocal.
func (t *localTrack) Unbind(c webrtc.TrackLocalContext) error {
	t.bound.Store(false)
	return t.TrackLocalStaticRTP.Unbind(c)
}
