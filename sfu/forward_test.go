package sfu

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

var (
	vp8Codec  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
)

// recordSink keeps the sequence numbers and keyframe flags it is given.
type recordSink struct {
	mu   sync.Mutex // guards the fields below
	seqs []uint16
	keys []bool
}

func (s *recordSink) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs = append(s.seqs, p.SequenceNumber)
	s.keys = append(s.keys, vp8Keyframe(p.Payload))
	return len(b), nil
}

func (s *recordSink) snapshot() ([]uint16, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint16(nil), s.seqs...), append([]bool(nil), s.keys...)
}

func (s *recordSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs)
}

// gateSink blocks every Write until released.
type gateSink struct {
	recordSink
	open chan struct{}
}

func (s *gateSink) Write(b []byte) (int, error) {
	<-s.open
	return s.recordSink.Write(b)
}

// frameSource generates VP8 frames of perFrame packets; every keyEvery-th
// frame is a keyframe.
type frameSource struct {
	t        testing.TB
	seq      uint16
	ts       uint32
	frame    int
	perFrame int
	keyEvery int
}

// next returns the packets of the next frame.
func (s *frameSource) next() [][]byte {
	key := s.frame%s.keyEvery == 0
	s.frame++
	s.ts += 3000
	var out [][]byte
	for i := range s.perFrame {
		desc := byte(0x00)
		if i == 0 {
			desc = 0x10
		}
		tag := byte(0x01)
		if key {
			tag = 0x00
		}
		out = append(out, rtpPacket(s.t, s.seq, s.ts, i == s.perFrame-1, true, []byte{desc, tag, 0x9d, 0x01, 0x2a}))
		s.seq++
	}
	return out
}

// startDown attaches a downTrack writing to sink, with its writer running
// until the test ends.
func startDown(t *testing.T, f *forwarder, sink packetSink, ready func() bool) *downTrack {
	t.Helper()
	d := newDownTrack(f, sink, ready)
	f.addSub(d)
	var wg sync.WaitGroup
	wg.Go(d.writeLoop)
	t.Cleanup(func() {
		d.stop()
		wg.Wait()
	})
	return d
}

func always() bool { return true }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// contiguous reports whether seqs increase by one each.
func contiguous(seqs []uint16) bool {
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return false
		}
	}
	return true
}

func TestFanOutSlowSubscriberDoesNotStallOthers(t *testing.T) {
	f := newForwarder("v", vp8Codec, func() {})
	fast1, fast2 := &recordSink{}, &recordSink{}
	blocked := &gateSink{open: make(chan struct{})}
	startDown(t, f, fast1, always)
	startDown(t, f, fast2, always)
	slow := startDown(t, f, blocked, always)
	t.Cleanup(func() { close(blocked.open) }) // runs before the writers' cleanups

	src := &frameSource{t: t, perFrame: 5, keyEvery: 10}
	const frames = 200 // 1000 packets, far more than a queue holds
	sent := 0
	for range frames {
		start := time.Now()
		for _, raw := range src.next() {
			f.dispatch(raw)
			sent++
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("dispatch of one frame took %v: the reader blocked", el)
		}
		waitFor(t, "fast subscribers", 5*time.Second, func() bool {
			return fast1.count() == sent && fast2.count() == sent
		})
	}
	for name, s := range map[string]*recordSink{"fast1": fast1, "fast2": fast2} {
		seqs, _ := s.snapshot()
		if len(seqs) != sent || !contiguous(seqs) {
			t.Errorf("%s got %d packets (contiguous %v), want %d", name, len(seqs), contiguous(seqs), sent)
		}
	}
	if slow.dropped.Load() == 0 {
		t.Error("the blocked subscriber dropped nothing")
	}
	select {
	case <-f.pli:
	default:
		t.Error("no keyframe requested for the subscriber that fell behind")
	}
}

func TestDropUntilKeyframe(t *testing.T) {
	f := newForwarder("v", vp8Codec, func() {})
	sink := &gateSink{open: make(chan struct{})}
	d := startDown(t, f, sink, always)
	src := &frameSource{t: t, perFrame: 4, keyEvery: 1000}

	// Fill the queue while the sink is stuck (the first packet is held by
	// the writer, so the queue takes one more), then overflow it.
	packets := 0
	for d.dropped.Load() == 0 {
		for _, raw := range src.next() {
			f.dispatch(raw)
			packets++
		}
	}
	// Delta frames after the loss are skipped...
	for range 3 {
		for _, raw := range src.next() {
			f.dispatch(raw)
		}
	}
	queued := d.forwarded.Load()
	close(sink.open)
	waitFor(t, "queue drained", 5*time.Second, func() bool { return uint64(sink.count()) == queued })
	// ...until a keyframe.
	src.frame = 0
	for range 2 {
		for _, raw := range src.next() {
			f.dispatch(raw)
		}
	}
	waitFor(t, "keyframe forwarded", 5*time.Second, func() bool { return uint64(sink.count()) == queued+8 })

	seqs, keys := sink.snapshot()
	if !contiguous(seqs) {
		t.Errorf("sequence numbers not contiguous across the drop: %v", seqs)
	}
	if !keys[queued] {
		t.Errorf("first packet after the drop is not a keyframe")
	}
	if !keys[0] {
		t.Errorf("first packet is not a keyframe")
	}
	select {
	case <-f.pli:
	default:
		t.Error("no keyframe requested after the drop")
	}
}

func TestDownTrackStartsAtKeyframeWhenReady(t *testing.T) {
	var ready atomic.Bool
	f := newForwarder("v", vp8Codec, func() {})
	sink := &recordSink{}
	startDown(t, f, sink, ready.Load)
	src := &frameSource{t: t, perFrame: 3, keyEvery: 4}

	feed := func(frames int) {
		for range frames {
			for _, raw := range src.next() {
				f.dispatch(raw)
			}
		}
	}
	feed(2) // not ready: nothing goes out
	ready.Store(true)
	feed(1) // delta frame: still waiting for a keyframe, one is requested
	select {
	case <-f.pli:
	default:
		t.Error("no keyframe requested while waiting")
	}
	if n := sink.count(); n != 0 {
		t.Fatalf("%d packets before the first keyframe", n)
	}
	feed(3) // delta (skipped), keyframe, delta
	waitFor(t, "packets from the keyframe on", 5*time.Second, func() bool { return sink.count() == 6 })
	seqs, keys := sink.snapshot()
	if !keys[0] || !contiguous(seqs) {
		t.Fatalf("keys %v seqs %v", keys, seqs)
	}
}

func TestAudioDropsSinglePackets(t *testing.T) {
	f := newForwarder("a", opusCodec, func() {})
	if f.video() || f.pli != nil {
		t.Fatal("opus treated as video")
	}
	sink := &gateSink{open: make(chan struct{})}
	d := startDown(t, f, sink, always)
	for i := range audioQueueLen + 10 {
		f.dispatch(rtpPacket(t, uint16(i), uint32(i*960), true, false, []byte{0xfc}))
	}
	if d.dropped.Load() == 0 {
		t.Fatal("nothing dropped")
	}
	close(sink.open)
	f.dispatch(rtpPacket(t, 5000, 5000*960, true, false, []byte{0xfc}))
	want := int(d.forwarded.Load())
	waitFor(t, "audio resumes", 5*time.Second, func() bool { return sink.count() == want })
	seqs, _ := sink.snapshot()
	if !contiguous(seqs) {
		t.Fatalf("audio sequence numbers not contiguous: %v", seqs)
	}
}

func TestPLIThrottle(t *testing.T) {
	var sent atomic.Int32
	f := newForwarder("v", vp8Codec, func() { sent.Add(1) })
	var wg sync.WaitGroup
	wg.Go(f.pliLoop)
	defer func() {
		f.stop()
		wg.Wait()
	}()
	start := time.Now()
	deadline := start.Add(1200 * time.Millisecond)
	for time.Now().Before(deadline) {
		f.requestKeyframe()
		time.Sleep(2 * time.Millisecond)
	}
	n := sent.Load()
	// Requests at t=0, then one per 500 ms: at most 3 in 1.2 s.
	if n < 2 || n > 3 {
		t.Fatalf("%d keyframe requests in 1.2 s, want 2 or 3", n)
	}
}
