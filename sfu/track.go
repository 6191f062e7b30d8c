package sfu

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// pliInterval is the least time between two keyframe requests a track sends
// its publisher.
const pliInterval = 500 * time.Millisecond

// forwarder is one published track: one reader fans every packet out to the
// track's subscribers.
type forwarder struct {
	id       string // track id, also the forwarded track's id
	codec    webrtc.RTPCodecCapability
	pub      *Participant  // nil in unit tests
	info     TrackInfo     // what observers are told; RequestKeyframe unset
	isKey    keyframeFunc  // nil for audio
	levelID  uint8         // id of the audio level header extension; 0: none
	sendPLI  func()        // asks the publisher for a keyframe
	pli      chan struct{} // capacity 1: a keyframe is wanted; nil for audio and simulcast
	sim      *simulcast    // the layers of a simulcast track (simulcast.go); nil: one stream
	done     chan struct{}
	stopOnce sync.Once

	// subs is the copy-on-write list of subscribers: the reader loads it
	// without locking, writers replace it under mu.
	subs atomic.Pointer[[]*downTrack]
	mu   sync.Mutex // serializes replacements of subs

	lastSR atomic.Pointer[senderReport] // the publisher's latest, for new observers

	// Reader state.
	havePrev   bool
	prevMarker bool
	prevTS     uint32
}

// newForwarder returns a forwarder for a track of codec. sendPLI is called
// (from the forwarder's PLI goroutine) to request a keyframe.
func newForwarder(id string, codec webrtc.RTPCodecCapability, sendPLI func()) *forwarder {
	f := &forwarder{
		id: id, codec: codec, sendPLI: sendPLI,
		isKey: keyframeDetector(codec.MimeType),
		done:  make(chan struct{}),
	}
	if f.isKey != nil {
		f.pli = make(chan struct{}, 1)
	}
	f.subs.Store(&[]*downTrack{})
	return f
}

// newSimulcastForwarder returns the forwarder of a simulcast video track
// of codec; ssrc (its first layer's) is the SSRC observers see. Its layers
// are added as they arrive, each with its own reader and PLI goroutine.
func newSimulcastForwarder(id string, codec webrtc.RTPCodecCapability, ssrc uint32) *forwarder {
	f := newForwarder(id, codec, nil)
	f.pli = nil
	f.sim = &simulcast{ssrc: ssrc, vp8: strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8)}
	return f
}

// video reports whether the track has keyframes.
func (f *forwarder) video() bool { return f.isKey != nil }

// readLoop reads packets with read into one reused buffer and dispatches
// them until read fails.
func (f *forwarder) readLoop(read func([]byte) (int, error)) {
	buf := make([]byte, slotSize)
	for {
		n, err := read(buf)
		if err != nil {
			return
		}
		f.dispatch(buf[:n])
	}
}

// dispatch parses one packet and pushes it to every subscriber. It takes no
// lock and does not allocate.
func (f *forwarder) dispatch(raw []byte) {
	var pk packet
	if !pk.parse(raw) {
		return
	}
	pk.frameStart = !f.havePrev || f.prevMarker || pk.ts != f.prevTS
	f.havePrev, f.prevMarker, f.prevTS = true, pk.marker, pk.ts
	if f.isKey != nil {
		pk.key = f.isKey(pk.payload())
	}
	if f.levelID != 0 {
		pk.level, pk.hasLevel = pk.audioLevel(f.levelID)
	}
	for _, d := range *f.subs.Load() {
		d.push(&pk)
	}
}

// addSub adds d to the subscribers.
func (f *forwarder) addSub(d *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := append(slices.Clone(*f.subs.Load()), d)
	f.subs.Store(&next)
}

// removeSub removes d from the subscribers.
func (f *forwarder) removeSub(d *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(*f.subs.Load()), func(x *downTrack) bool { return x == d })
	f.subs.Store(&next)
}

// takeSubs empties the subscribers and returns who they were.
func (f *forwarder) takeSubs() []*downTrack {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.subs.Swap(&[]*downTrack{})
	return old
}

// requestKeyframe asks for a keyframe. Requests coalesce; the PLI goroutine
// rate-limits them. Safe from any goroutine, never blocks, never allocates.
func (f *forwarder) requestKeyframe() {
	if f.pli == nil {
		if f.sim != nil {
			f.sim.requestKeyframe()
		}
		return
	}
	select {
	case f.pli <- struct{}{}:
	default:
	}
}

// pliLoop sends the requested keyframe requests, at most one per
// pliInterval: a request within the interval is delayed, not lost.
func (f *forwarder) pliLoop() { throttlePLI(f.done, f.pli, f.sendPLI) }

// pliLoop is the PLI goroutine of a simulcast layer, until done.
func (l *layer) pliLoop(done <-chan struct{}) { throttlePLI(done, l.pli, l.sendPLI) }

// throttlePLI calls send for the requests that arrive on want, at most once
// per pliInterval, until done is closed.
func throttlePLI(done, want <-chan struct{}, send func()) {
	var last time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-want:
		}
		if wait := pliInterval - time.Since(last); !last.IsZero() && wait > 0 {
			timer.Reset(wait)
			select {
			case <-done:
				return
			case <-timer.C:
			}
		}
		send()
		last = time.Now()
	}
}

// trackInfo describes the track to an observer.
func (f *forwarder) trackInfo() TrackInfo {
	info := f.info
	info.RequestKeyframe = f.requestKeyframe
	return info
}

// senderReport passes the publisher's sender report to every observer of
// the track, through its writer goroutine.
func (f *forwarder) senderReport(sr *senderReport) {
	f.lastSR.Store(sr)
	for _, d := range *f.subs.Load() {
		if d.obs != nil {
			d.report.Store(sr)
			d.wakeUp()
		}
	}
}

// stop ends the PLI goroutine. Idempotent.
func (f *forwarder) stop() {
	f.stopOnce.Do(func() { close(f.done) })
}
