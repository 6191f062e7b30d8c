package sfu

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/pion/webrtc/v4"
)

// Observer is an in-process consumer of every track of a room: a recorder,
// a transcriber. It is told about every track published in the room, and
// every track already published when it is attached, for as long as it is
// attached: the room may empty, be removed and be created again.
type Observer interface {
	// TrackAdded is called once per published track, from an SFU
	// goroutine, without any SFU lock held; it must not block for long
	// (it delays the start of the track) and must not stop the observer.
	// The returned sink receives the track's packets; nil ignores the
	// track.
	TrackAdded(t TrackInfo) TrackSink
}

// TrackInfo describes a published track to an Observer.
type TrackInfo struct {
	Participant string                    // the publisher's participant id
	TrackID     string                    // the publisher's track id
	StreamID    string                    // the publisher's stream id
	Kind        string                    // "audio" or "video"
	Codec       webrtc.RTPCodecParameters // mime type, clock rate, channels, fmtp
	// Simulcast says the publisher sends the track as several layers
	// (sizes and bitrates); the sink receives the top one as one stream:
	// sequence numbers and timestamps continue when the top layer
	// changes (the publisher adds or pauses layers), and the picture size
	// changes with it, at a keyframe.
	Simulcast bool
	// Screen says the track is the publisher's screen share (see
	// Participant.SetScreen), not their camera.
	Screen bool
	// RequestKeyframe asks the publisher for a keyframe (video; a no-op
	// for audio). Requests coalesce and are rate-limited. Safe from any
	// goroutine, never blocks.
	RequestKeyframe func()
}

// TrackSink receives one track for an Observer. The SFU calls its methods
// from one goroutine per track, one at a time, never from the track's
// reader: a slow sink falls behind in a bounded queue that drops whole video
// frames (then waits for a keyframe, which it requests) or single audio
// packets, and is told how many packets it lost. A sink that also wants
// the publisher's audio levels implements AudioLevelSink.
type TrackSink interface {
	// WriteRTP is given each packet. b is valid only during the call.
	// Sequence numbers stay contiguous across packets the queue dropped;
	// holes are losses upstream of the SFU.
	WriteRTP(b []byte)
	// Lost says that n packets were dropped by the sink's queue just
	// before the packet WriteRTP is given next.
	Lost(n int)
	// SenderReport passes on the publisher's RTCP sender report: the
	// sender's NTP time (RFC 3550 64-bit format) of the RTP timestamp
	// rtpTime of this track. It arrives about once a second, and at once
	// when a sink is created for a track that already had one.
	SenderReport(ntp uint64, rtpTime uint32)
	// Close says the track ended or the observer was stopped: nothing
	// more follows. It is called once, after the last WriteRTP.
	Close()
}

// AudioLevelSink is a TrackSink that also wants the audio level the
// publisher measured for each audio packet: the client-to-mixer audio
// level header extension (RFC 6464), which the SFU negotiates on every
// publish connection and browsers send with every audio packet. A sink of
// an audio track that implements it has AudioLevel called, from the same
// goroutine, right before WriteRTP of each packet that carries the
// extension, with level in -dBov (0 is the loudest, 127 silence or no
// measurement) and voice the V bit (the sender's voice activity
// detection, if it runs one; most send false). Packets without the
// extension, and packets the queue dropped, have no AudioLevel call. The
// extension is removed from the packet given to WriteRTP, as it is from
// what subscribers receive.
type AudioLevelSink interface {
	TrackSink
	AudioLevel(level uint8, voice bool)
}

// Observer queue lengths per track, in packets: longer than a
// subscriber's, since an observer writes to disk and would rather lag than
// lose (video about 2-3 s, audio 2.5 s).
const (
	observerVideoQueueLen = 512
	observerAudioQueueLen = 128
)

// senderReport is the timing half of an RTCP sender report.
type senderReport struct {
	ntp     uint64
	rtpTime uint32
}

// observer is one Observe registration.
type observer struct {
	o    Observer
	room string
	wg   sync.WaitGroup // the writers of its sinks
	once sync.Once      // guards stop

	// mu guards the fields below; taken after room.mu.
	mu      sync.Mutex
	stopped bool
	// downs has an entry per track of the room the observer was offered:
	// nil while TrackAdded runs or when the observer ignored the track.
	downs map[*forwarder]*downTrack
}

// Observe attaches o to every track published in room, now and until stop
// is called, across the room being removed when empty and created again.
// stop detaches o, closes its sinks and waits until their Close calls have
// returned; it must not be called from a sink or from TrackAdded.
func (s *SFU) Observe(room string, o Observer) (stop func(), err error) {
	if o == nil {
		return nil, errors.New("sfu: observe: nil observer")
	}
	obs := &observer{o: o, room: room, downs: map[*forwarder]*downTrack{}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.observers[room] = append(s.observers[room], obs)
	r := s.rooms[room]
	var fwds []*forwarder
	if r != nil {
		r.mu.Lock()
		r.obs = append(r.obs, obs)
		for _, f := range r.fwds {
			if obs.reserve(f) {
				fwds = append(fwds, f)
			}
		}
		r.mu.Unlock()
	}
	s.mu.Unlock()
	for _, f := range fwds {
		r.attachObserver(obs, f)
	}
	return func() { obs.once.Do(func() { s.unobserve(obs) }) }, nil
}

// unobserve detaches obs from its room and closes its sinks.
func (s *SFU) unobserve(obs *observer) {
	s.mu.Lock()
	list := s.observers[obs.room]
	if i := indexOf(list, obs); i >= 0 {
		list = append(list[:i:i], list[i+1:]...)
	}
	if len(list) == 0 {
		delete(s.observers, obs.room)
	} else {
		s.observers[obs.room] = list
	}
	if r := s.rooms[obs.room]; r != nil {
		r.mu.Lock()
		if i := indexOf(r.obs, obs); i >= 0 {
			r.obs = append(r.obs[:i:i], r.obs[i+1:]...)
		}
		r.mu.Unlock()
	}
	s.mu.Unlock()
	for f, d := range obs.takeAll() {
		f.removeSub(d)
		s.retire(d)
	}
	obs.wg.Wait()
}

// indexOf returns the index of obs in list, or -1.
func indexOf(list []*observer, obs *observer) int {
	for i, o := range list {
		if o == obs {
			return i
		}
	}
	return -1
}

// reserve claims f for obs, once: true means the caller offers f to it.
func (obs *observer) reserve(f *forwarder) bool {
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if _, seen := obs.downs[f]; seen || obs.stopped {
		return false
	}
	obs.downs[f] = nil
	return true
}

// forget drops f, which was unpublished. Its sink, if any, is retired by
// the caller (it is among f's subscribers).
func (obs *observer) forget(f *forwarder) {
	obs.mu.Lock()
	defer obs.mu.Unlock()
	delete(obs.downs, f)
}

// takeAll marks obs stopped and returns its sinks.
func (obs *observer) takeAll() map[*forwarder]*downTrack {
	obs.mu.Lock()
	defer obs.mu.Unlock()
	obs.stopped = true
	out := map[*forwarder]*downTrack{}
	for f, d := range obs.downs {
		if d != nil {
			out[f] = d
		}
	}
	clear(obs.downs)
	return out
}

// attachObserver offers f to obs, which reserved it, and starts feeding
// the sink it returns unless f or obs ended meanwhile.
func (r *room) attachObserver(obs *observer, f *forwarder) {
	sink := obs.o.TrackAdded(f.trackInfo())
	if sink == nil {
		return
	}
	n := observerAudioQueueLen
	if f.video() {
		n = observerVideoQueueLen
	}
	osink := &observerSink{sink: sink}
	osink.levels, _ = sink.(AudioLevelSink)
	d := newDownTrackLen(f, osink, alwaysReady, n)
	d.obs = obs
	if d.sim != nil { // from the start; the controller moves it on
		d.sim.tgt.Store(f.sim.recordTop())
	}
	if !r.adoptObserver(obs, f, d) {
		sink.Close()
		return
	}
	go func() {
		defer r.s.wg.Done()
		d.observeLoop(sink, obs.wg.Done)
	}()
}

// adoptObserver makes d one of f's subscribers if f is still published and
// obs still attached. True means the caller runs d's writer, for which the
// SFU and obs wait groups were incremented.
func (r *room) adoptObserver(obs *observer, f *forwarder, d *downTrack) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if d0, ok := obs.downs[f]; !ok || d0 != nil || obs.stopped || !r.publishedLocked(f) {
		return false
	}
	if !r.s.enter() {
		return false
	}
	obs.wg.Add(1)
	obs.downs[f] = d
	if sr := f.lastSR.Load(); sr != nil {
		d.report.Store(sr)
	}
	f.addSub(d)
	return true
}

// alwaysReady is the readiness of an observer's queue: it is never unbound.
func alwaysReady() bool { return true }

// observeLoop drains d's queue into an observer's sink, with the sender
// reports, until d stops; then it hands over what is still queued and
// closes the sink.
func (d *downTrack) observeLoop(sink TrackSink, done func()) {
	defer done()
	defer sink.Close()
	for {
		d.deliverReport(sink)
		select {
		case <-d.done:
			d.q.drain(d.sink)
			return
		case <-d.wake:
		}
		d.q.drain(d.sink)
	}
}

// deliverReport passes on a sender report that arrived since the last one.
func (d *downTrack) deliverReport(sink TrackSink) {
	if sr := d.report.Swap(nil); sr != nil {
		sink.SenderReport(sr.ntp, sr.rtpTime)
	}
}

// observerSink adapts a TrackSink to the queue's packetSink, lossSink and
// levelSink.
type observerSink struct {
	sink   TrackSink
	levels AudioLevelSink // sink, if it wants audio levels
}

// Write implements packetSink.
func (s *observerSink) Write(b []byte) (int, error) {
	s.sink.WriteRTP(b)
	return len(b), nil
}

// lost implements lossSink.
func (s *observerSink) lost(n int) { s.sink.Lost(n) }

// audioLevel implements levelSink: b is the extension's byte.
func (s *observerSink) audioLevel(b uint8) {
	if s.levels != nil {
		s.levels.AudioLevel(b&0x7f, b&0x80 != 0)
	}
}

// RTCP sender report (RFC 3550 section 6.4.1).
const (
	rtcpSR    = 200
	srMinSize = 28 // header, SSRC, NTP time, RTP time, counts
)

// parseSenderReport finds the sender report of ssrc in a compound RTCP
// packet.
func parseSenderReport(b []byte, ssrc uint32) (senderReport, bool) {
	for off := 0; off+4 <= len(b); {
		if b[off]>>6 != 2 {
			return senderReport{}, false
		}
		size := 4 * (int(binary.BigEndian.Uint16(b[off+2:])) + 1)
		if b[off+1] == rtcpSR && size >= srMinSize && off+size <= len(b) &&
			binary.BigEndian.Uint32(b[off+4:]) == ssrc {
			return senderReport{
				ntp:     binary.BigEndian.Uint64(b[off+8:]),
				rtpTime: binary.BigEndian.Uint32(b[off+16:]),
			}, true
		}
		off += size
	}
	return senderReport{}, false
}
