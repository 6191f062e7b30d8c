package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// layerSource generates the VP8 frames of one simulcast layer: packets
// with their own SSRC, sequence numbers, timestamps, a 15-bit picture ID
// and a TL0PICIDX, and a payload that names the layer (see layerPayload).
type layerSource struct {
	t        testing.TB
	id       byte // written into every payload
	ssrc     uint32
	seq      uint16
	ts       uint32
	pic      uint16
	tl0      uint8
	perFrame int
	size     int // payload bytes per packet
}

// next returns the packets of the next frame.
func (s *layerSource) next(key bool) [][]byte {
	s.ts += 3000
	s.pic = (s.pic + 1) & 0x7fff
	s.tl0++
	var out [][]byte
	for i := range s.perFrame {
		out = append(out, s.packet(i == 0, i == s.perFrame-1, key))
	}
	return out
}

func (s *layerSource) packet(first, last, key bool) []byte {
	payload := layerPayload(s.id, s.pic, s.tl0, first, key, s.size)
	p := rtp.Packet{
		Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: s.seq, Timestamp: s.ts,
			SSRC: s.ssrc, Marker: last},
		Payload: payload,
	}
	s.seq++
	b, err := p.Marshal()
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// layerPayload is a VP8 payload: a descriptor with a 15-bit picture ID and
// a TL0PICIDX, then the frame tag (a keyframe's or not) for the first
// packet of a frame, then the layer's id, then filler up to size bytes.
func layerPayload(id byte, pic uint16, tl0 uint8, first, key bool, size int) []byte {
	p := make([]byte, max(size, 7))
	p[0] = 0x80 // X
	if first {
		p[0] |= 0x10 // S
	}
	p[1] = 0xc0 // I, L
	p[2], p[3], p[4] = 0x80|byte(pic>>8), byte(pic), tl0
	p[5] = 0xff
	if first {
		p[5] = 0x01 // P: inter frame
		if key {
			p[5] = 0x00
		}
	}
	p[6] = id
	return p
}

// sentPacket is what a test sink learns of a forwarded packet.
type sentPacket struct {
	seq   uint16
	ts    uint32
	ssrc  uint32
	pic   uint16
	tl0   uint8
	layer byte
	key   bool
	start bool      // first packet of a frame
	at    time.Time // when it arrived (end-to-end tests)
}

// parseSent decodes a packet made by a layerSource.
func parseSent(b []byte) (sentPacket, bool) {
	var p rtp.Packet
	if p.Unmarshal(b) != nil || len(p.Payload) < 7 {
		return sentPacket{}, false
	}
	var vp vp8Desc
	vp.parse(p.Payload)
	return sentPacket{
		seq: p.SequenceNumber, ts: p.Timestamp, ssrc: p.SSRC,
		pic: vp.pic, tl0: vp.tl0, layer: p.Payload[6],
		key: vp8Keyframe(p.Payload), start: p.Payload[0]&0x10 != 0,
	}, true
}

// layerSink records what it is given.
type layerSink struct {
	mu   sync.Mutex // guards got
	got  []sentPacket
	gate chan struct{} // if set, every Write waits for it to close
}

func (s *layerSink) Write(b []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	p, ok := parseSent(b)
	if ok {
		s.mu.Lock()
		s.got = append(s.got, p)
		s.mu.Unlock()
	}
	return len(b), nil
}

func (s *layerSink) snapshot() []sentPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentPacket(nil), s.got...)
}

// checkStream verifies that got is one unbroken stream: contiguous
// sequence numbers, increasing timestamps, picture IDs and TL0PICIDX that
// step by one per frame, one SSRC, and a new layer only at a keyframe. It
// returns the layers in the order they were received.
func checkStream(t *testing.T, got []sentPacket) []byte {
	t.Helper()
	if len(got) == 0 {
		t.Fatal("nothing received")
	}
	layers := []byte{got[0].layer}
	if !got[0].key {
		t.Errorf("the stream starts with a delta frame")
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if b.seq != a.seq+1 {
			t.Errorf("packet %d: sequence number %d after %d", i, b.seq, a.seq)
		}
		if b.ssrc != a.ssrc {
			t.Errorf("packet %d: SSRC %x after %x", i, b.ssrc, a.ssrc)
		}
		if b.start {
			if int32(b.ts-a.ts) <= 0 {
				t.Errorf("packet %d: frame timestamp %d after %d", i, b.ts, a.ts)
			}
			if b.pic != (a.pic+1)&0x7fff || b.tl0 != a.tl0+1 {
				t.Errorf("packet %d: picture %d tl0 %d after %d, %d", i, b.pic, b.tl0, a.pic, a.tl0)
			}
		} else if b.ts != a.ts || b.pic != a.pic {
			t.Errorf("packet %d: inside a frame, timestamp %d picture %d after %d, %d", i, b.ts, b.pic, a.ts, a.pic)
		}
		if b.layer != a.layer {
			if !b.key {
				t.Errorf("packet %d: layer %c to %c at a delta frame", i, a.layer, b.layer)
			}
			layers = append(layers, b.layer)
		}
	}
	return layers
}

// testSimulcast returns a VP8 simulcast forwarder with three layers,
// named by their ids, the first added first, and their sources: different
// SSRCs, sequence numbers, timestamps and picture IDs.
func testSimulcast(t testing.TB, ids string, perFrame []int) (*forwarder, []*layer, []*layerSource) {
	f := newSimulcastForwarder("v", vp8Codec, 0xabcdef)
	var ls []*layer
	var srcs []*layerSource
	for i := range ids {
		src := &layerSource{t: t, id: ids[i], ssrc: uint32(0x1000 + i), seq: uint16(1000 * (i*20 + 1)),
			ts: uint32(1e8 * (i + 1)), pic: uint16(9000 * (i + 1)), tl0: uint8(70 * i), perFrame: perFrame[i], size: 100}
		l := f.sim.add(string(ids[i]), src.ssrc, func() {})
		if l == nil {
			t.Fatal("layer refused")
		}
		ls = append(ls, l)
		srcs = append(srcs, src)
	}
	return f, ls, srcs
}

// wanted reports whether a keyframe of l was requested (and clears it).
func wanted(l *layer) bool {
	select {
	case <-l.pli:
		return true
	default:
		return false
	}
}

func TestSimulcastSwitchesAtKeyframes(t *testing.T) {
	f, ls, srcs := testSimulcast(t, "fqh", []int{3, 1, 2})
	sink := &layerSink{}
	d := startDown(t, f, sink, always)
	if tgt := d.sim.tgt.Load(); tgt != 0 {
		t.Fatalf("initial target %d, want the first layer", tgt)
	}
	// One frame of every layer; key says which layers send a keyframe.
	frame := func(key ...bool) {
		for i, src := range srcs {
			for _, raw := range src.next(len(key) > i && key[i]) {
				f.dispatchLayer(ls[i], raw)
			}
		}
	}
	frame()           // delta frames: nothing yet, a keyframe of the target is asked for
	frame(true, true) // f starts
	frame()
	if !wanted(ls[0]) {
		t.Error("no keyframe requested for the first layer")
	}

	d.setTarget(1) // down to q
	if !wanted(ls[1]) {
		t.Error("no keyframe requested for the target layer")
	}
	frame(true, false, true) // no keyframe of q: still f
	frame()
	frame(false, true, false) // q's keyframe: switch
	frame()
	d.setTarget(2)
	frame(false, false, false)
	frame(true, true, true)
	frame()
	d.setTarget(2)
	frame()

	waitFor(t, "everything written", 5*time.Second, func() bool {
		return len(sink.snapshot()) == int(d.forwarded.Load())
	})
	got := sink.snapshot()
	if layers := string(checkStream(t, got)); layers != "fqh" {
		t.Errorf("layers %q, want fqh", layers)
	}
	if got[0].ssrc != 0xabcdef {
		t.Errorf("SSRC %x, want the forwarder's", got[0].ssrc)
	}
	if n := d.sim.switches.Load(); n != 2 {
		t.Errorf("%d switches, want 2", n)
	}
	if d.sim.cur.Load() != 2 {
		t.Errorf("on layer %d, want 2", d.sim.cur.Load())
	}
}

// setRanking makes the ranking of f measured: slots, lowest first.
func setRanking(f *forwarder, slots ...int) {
	f.sim.order.Store(uint32(makeRanking(slots)))
	f.sim.known.Store(true)
}

func TestSimulcastOverflowMovesDown(t *testing.T) {
	f, ls, srcs := testSimulcast(t, "qhf", []int{1, 2, 4})
	setRanking(f, 0, 1, 2)
	sink := &layerSink{gate: make(chan struct{})}
	d := startDown(t, f, sink, always)
	d.setTarget(2)
	for i := 0; d.dropped.Load() == 0; i++ {
		if i > 1000 {
			t.Fatal("no overflow")
		}
		for j, src := range srcs {
			for _, raw := range src.next(i == 0) {
				f.dispatchLayer(ls[j], raw)
			}
		}
	}
	if tgt := d.sim.tgt.Load(); tgt != 1 {
		t.Errorf("target %d after the overflow, want 1", tgt)
	}
	if !d.sim.overflow.Load() || !wanted(ls[1]) {
		t.Error("overflow not noted or no keyframe asked of the lower layer")
	}
	close(sink.gate)
	waitFor(t, "queue drained", 5*time.Second, func() bool {
		return len(sink.snapshot()) == int(d.forwarded.Load())
	})
	for i := range 3 {
		for j, src := range srcs {
			for _, raw := range src.next(j == 1 && i == 1) {
				f.dispatchLayer(ls[j], raw)
			}
		}
	}
	waitFor(t, "everything written", 5*time.Second, func() bool {
		return len(sink.snapshot()) == int(d.forwarded.Load())
	})
	got := sink.snapshot()
	last := got[len(got)-1]
	if last.layer != 'h' || d.sim.cur.Load() != 1 {
		t.Errorf("on layer %c (%d), want h", last.layer, d.sim.cur.Load())
	}
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Errorf("sequence numbers %d then %d", got[i-1].seq, got[i].seq)
		}
	}
}

func TestSimulcastMeasureRanksByBitrate(t *testing.T) {
	f, ls, _ := testSimulcast(t, "fqh", []int{1, 1, 1})
	if r := f.sim.ranking(); r.n() != 3 || r.at(0) != 0 || f.sim.known.Load() {
		t.Fatalf("provisional ranking %x known %v, want arrival order", uint32(r), f.sim.known.Load())
	}
	for range 2 {
		ls[0].bytes.Add(60000) // f: about 1.9 Mbit/s
		ls[1].bytes.Add(5000)  // q
		ls[2].bytes.Add(20000) // h
		f.sim.measure()
	}
	r := f.sim.ranking()
	if !f.sim.known.Load() || r.n() != 3 || r.at(0) != 1 || r.at(1) != 2 || r.at(2) != 0 {
		t.Fatalf("ranking %x, want q h f (slots 1 2 0)", uint32(r))
	}
	if got := ls[0].rate; got < 1_800_000 || got > 2_000_000 {
		t.Errorf("rate of f %d bit/s, want 1.92 Mbit/s", got)
	}
	if f.sim.top() != 0 || f.sim.below(0) != 2 || f.sim.below(1) != -1 {
		t.Errorf("top %d, below f %d, below q %d", f.sim.top(), f.sim.below(0), f.sim.below(1))
	}
	// f stops: a window later it is out of the ranking.
	for range rateWindow {
		ls[1].bytes.Add(5000)
		ls[2].bytes.Add(20000)
		f.sim.measure()
	}
	if r := f.sim.ranking(); r.n() != 2 || f.sim.top() != 2 {
		t.Errorf("ranking %x after f stopped, want q h", uint32(r))
	}
}

// TestSimulcastPaddingIsNoMedia: the padding-only packets a browser
// sends on a layer (probing for the bandwidth it needs) do not count in
// its bitrate.
func TestSimulcastPaddingIsNoMedia(t *testing.T) {
	f, ls, srcs := testSimulcast(t, "qhf", []int{1, 1, 1})
	pad, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 9,
		SSRC: srcs[2].ssrc, Padding: true, PaddingSize: 200}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		f.dispatchLayer(ls[2], pad)
	}
	if b := ls[2].bytes.Load(); b != 0 {
		t.Errorf("%d bytes of padding counted", b)
	}
	f.dispatchLayer(ls[2], srcs[2].next(true)[0])
	if b := ls[2].bytes.Load(); b == 0 {
		t.Error("media not counted")
	}
}

// vp8Key is the start of a VP8 keyframe of width×height (RFC 6386 9.1)
// after a payload descriptor with a picture ID.
func vp8Key(width, height int) []byte {
	return []byte{0x90, 0x80, 0x12, // X, S; I; picture ID
		0x50, 0x2a, 0x01, // frame tag: keyframe, shown
		0x9d, 0x01, 0x2a, byte(width), byte(width >> 8), byte(height), byte(height >> 8), 0, 0}
}

func TestVP8KeyframeSize(t *testing.T) {
	if got := vp8KeyframeSize(vp8Key(1280, 720)); got != 1280*720 {
		t.Errorf("1280x720: %d", got)
	}
	delta := vp8Key(640, 360)
	delta[3] |= 0x01
	bad := vp8Key(640, 360)
	bad[6] = 0
	for name, p := range map[string][]byte{"delta": delta, "no start code": bad, "short": vp8Key(640, 360)[:10],
		"not a frame start": append([]byte{0x80}, vp8Key(640, 360)[1:]...)} {
		if got := vp8KeyframeSize(p); got != 0 {
			t.Errorf("%s: %d, want 0", name, got)
		}
	}
}

// TestSimulcastRecordTop: observers record the largest picture, which
// their keyframes tell, rather than the highest bitrate; without sizes,
// the first layer until measured, then the top one.
func TestSimulcastRecordTop(t *testing.T) {
	f, ls, _ := testSimulcast(t, "qhf", []int{1, 1, 1})
	if got := f.sim.recordTop(); got != 0 {
		t.Errorf("before anything is known: slot %d, want the first", got)
	}
	ls[1].pixels.Store(640 * 360)
	if got := f.sim.recordTop(); got != 1 {
		t.Errorf("only h's size known: slot %d, want h", got)
	}
	setRanking(f, 0, 2, 1) // f's bitrate below h's, as while a browser ramps up
	if got := f.sim.recordTop(); got != 1 {
		t.Errorf("measured, sizes unknown: slot %d, want the top by bitrate (h)", got)
	}
	ls[0].pixels.Store(320 * 180)
	ls[2].pixels.Store(1280 * 720)
	if got := f.sim.recordTop(); got != 2 {
		t.Errorf("measured, sizes known: slot %d, want the largest (f)", got)
	}
	setRanking(f, 0, 1) // f paused
	if got := f.sim.recordTop(); got != 1 {
		t.Errorf("f out of the ranking: slot %d, want h", got)
	}
}

// TestSimulcastObserverSettles: an observer does not start on the first
// layer while the others may still come, and then starts on the largest
// picture, at the keyframe that told its size.
func TestSimulcastObserverSettles(t *testing.T) {
	f, ls, srcs := testSimulcast(t, "qhf", []int{1, 1, 1})
	sink := &layerSink{}
	d := newDownTrackLen(f, sink, always, observerVideoQueueLen)
	d.obs = &observer{}
	d.sim.tgt.Store(f.sim.recordTop())
	f.addSub(d)
	key := func(i, w, h int) []byte {
		raw := srcs[i].next(true)[0]
		var p rtp.Packet
		if err := p.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		p.Payload = append(vp8Key(w, h), srcs[i].id)
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f.sim.since.Store(monoNow())
	f.sim.offer.Store(4) // one more than will come
	f.dispatchLayer(ls[0], key(0, 320, 180))
	f.dispatchLayer(ls[1], key(1, 640, 360))
	if d.sim.cur.Load() >= 0 || d.sim.tgt.Load() != 1 {
		t.Fatalf("settling: on %d heading for %d, want nothing yet, heading for h", d.sim.cur.Load(), d.sim.tgt.Load())
	}
	f.sim.offer.Store(3) // all came
	f.dispatchLayer(ls[2], key(2, 1280, 720))
	if d.sim.cur.Load() != 2 || d.sim.tgt.Load() != 2 || wanted(ls[2]) {
		t.Errorf("on %d heading for %d (keyframe of f asked: %v), want f from its first keyframe", d.sim.cur.Load(), d.sim.tgt.Load(), wanted(ls[2]))
	}
	d.q.drain(sink)
	if got := sink.snapshot(); len(got) != 1 || !got[0].key {
		t.Errorf("observer got %+v, want f's keyframe", got)
	}

	// A layer that does not come: the observer starts after the wait.
	f, ls, srcs = testSimulcast(t, "qh", []int{1, 1})
	d = newDownTrackLen(f, sink, always, observerVideoQueueLen)
	d.obs = &observer{}
	d.sim.tgt.Store(f.sim.recordTop())
	f.addSub(d)
	f.sim.offer.Store(3)
	f.sim.since.Store(monoNow())
	f.dispatchLayer(ls[0], key(0, 320, 180))
	f.dispatchLayer(ls[1], key(1, 640, 360))
	if d.sim.cur.Load() >= 0 {
		t.Fatalf("settling: on %d, want nothing yet", d.sim.cur.Load())
	}
	f.sim.since.Store(monoNow() - int64(observeSettle))
	f.dispatchLayer(ls[1], srcs[1].next(false)[0])
	if d.sim.cur.Load() >= 0 || !wanted(ls[1]) {
		t.Errorf("after the wait: on %d, keyframe of h asked %v; want a keyframe of h asked", d.sim.cur.Load(), wanted(ls[1]))
	}
	f.dispatchLayer(ls[1], key(1, 640, 360))
	if d.sim.cur.Load() != 1 {
		t.Errorf("on %d after h's keyframe, want h", d.sim.cur.Load())
	}
}

func TestSimulcastAllocation(t *testing.T) {
	f, ls, _ := testSimulcast(t, "qhf", []int{1, 1, 1})
	setRanking(f, 0, 1, 2)
	ls[0].rate, ls[1].rate, ls[2].rate = 150_000, 500_000, 1_500_000
	audio := newForwarder("a", opusCodec, func() {})
	p := &Participant{downs: map[*forwarder]*downTrack{}}
	d := newDownTrack(f, &layerSink{}, always)
	a := newDownTrack(audio, &layerSink{}, always)
	a.rate = 50_000
	p.downs[f], p.downs[audio] = d, a

	t0 := time.Now()
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	step := func(s float64, est int64, want int32) {
		t.Helper()
		p.estOverride.Store(est)
		p.allocateLocked(at(s))
		if got := d.sim.tgt.Load(); got != want {
			t.Fatalf("at %.2fs with %d bit/s: target %d, want %d", s, est, got, want)
		}
	}
	step(0, 1_000_000, 1)     // a new subscriber gets what fits at once: h
	step(0.25, 1_540_000, 1)  // f would fit, but not with the audio
	step(0.5, 2_000_000, 1)   // f fits: wait
	step(2, 2_000_000, 1)     //
	step(3.25, 2_000_000, 1)  // not yet 3 s
	step(3.5, 2_000_000, 2)   // 3 s: up
	step(3.75, 300_000, 0)    // down at once, to what fits: q
	step(4, 100_000, 0)       // nothing fits: the lowest anyway
	step(4.25, 10_000_000, 0) // up again, after 3 s
	d.sim.overflow.Store(true)
	step(5, 10_000_000, 0) // the queue overflowed: hold
	step(7.5, 10_000_000, 0)
	step(8, 10_000_000, 0) // hold over, the 3 s start again
	step(11, 10_000_000, 2)

	// Two tracks share the estimate: one layer up at a time, round robin.
	g, gl, _ := testSimulcast(t, "qhf", []int{1, 1, 1})
	setRanking(g, 0, 1, 2)
	gl[0].rate, gl[1].rate, gl[2].rate = 150_000, 500_000, 1_500_000
	e := newDownTrack(g, &layerSink{}, always)
	p.downs[g] = e
	g.pub, f.pub = &Participant{id: "b"}, &Participant{id: "a"}
	e.sim.fresh = true
	p.estOverride.Store(1_800_000) // 1.75 Mbit/s for video: f+h does not fit, h+h does
	p.allocateLocked(at(11.25))
	if d.sim.tgt.Load() != 1 || e.sim.tgt.Load() != 1 {
		t.Errorf("targets %d and %d with 1.8 Mbit/s, want h and h", d.sim.tgt.Load(), e.sim.tgt.Load())
	}
}

func TestVP8DescriptorRewrite(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		picOff  uint16
		tl0Off  uint8
		want    []byte
	}{
		{"15-bit", []byte{0x90, 0xc0, 0xff, 0xfe, 7, 0x00}, 3, 250, []byte{0x90, 0xc0, 0x80, 0x01, 1, 0x00}},
		{"7-bit", []byte{0x90, 0x80, 0x7e, 0x00}, 3, 1, []byte{0x90, 0x80, 0x01, 0x00}},
		{"tl0 only", []byte{0x90, 0x40, 9, 0x00}, 3, 1, []byte{0x90, 0x40, 10, 0x00}},
		{"no extension", []byte{0x10, 0x00}, 3, 1, []byte{0x10, 0x00}},
		{"truncated", []byte{0x90, 0x80}, 3, 1, []byte{0x90, 0x80}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v vp8Desc
			v.parse(tc.payload)
			got := append([]byte(nil), tc.payload...)
			v.apply(got, tc.picOff, tc.tl0Off)
			if string(got) != string(tc.want) {
				t.Errorf("got % x, want % x", got, tc.want)
			}
		})
	}
}

func TestSimulcastDoesNotAllocate(t *testing.T) {
	f, ls, srcs := testSimulcast(t, "qhf", []int{1, 2, 4})
	setRanking(f, 0, 1, 2)
	var frames [][][]byte
	for i := range 10 {
		for _, src := range srcs {
			frames = append(frames, src.next(i == 0))
		}
	}
	sink := &discardSink{}
	d := newDownTrack(f, sink, always)
	f.addSub(d)
	d.setTarget(2)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		for _, raw := range frames[i%len(frames)] {
			f.dispatchLayer(ls[(i%len(frames))%3], raw)
		}
		i++
		d.q.drain(sink)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
	if sink.packets.Load() == 0 {
		t.Fatal("nothing forwarded")
	}
}

// BenchmarkForwardSimulcast is BenchmarkForward for a simulcast track of
// three layers (1, 2 and 4 packets a frame, each about 1,100 bytes), read
// here by one goroutine in turn (pion gives each layer its own): one op is
// one packet of any layer read and offered to four subscribers, two on the
// top layer, one on the middle and one on the bottom, who each take it if
// it is of their layer (delivered/op is about 1.4: 4 of 7 packets go to
// two subscribers, 2 to one, 1 to one). It must not allocate.
func BenchmarkForwardSimulcast(b *testing.B) {
	f, ls, srcs := testSimulcast(b, "qhf", []int{1, 2, 4})
	setRanking(f, 0, 1, 2)
	for _, src := range srcs {
		src.size = 1100
	}
	type pkt struct {
		l   *layer
		raw []byte
	}
	var packets []pkt
	for i := range 240 {
		for j, src := range srcs {
			for _, raw := range src.next(i%30 == 0) {
				packets = append(packets, pkt{ls[j], raw})
			}
		}
	}
	var wg sync.WaitGroup
	targets := []int32{2, 2, 1, 0}
	sinks := make([]*discardSink, len(targets))
	downs := make([]*downTrack, len(targets))
	for i, tgt := range targets {
		sinks[i] = &discardSink{}
		downs[i] = newDownTrack(f, sinks[i], always)
		downs[i].setTarget(tgt)
		f.addSub(downs[i])
		wg.Go(downs[i].writeLoop)
	}
	i := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(packets[0].raw)))
	b.ResetTimer()
	for {
		if i == b.N {
			break
		}
		p := packets[i%len(packets)]
		f.dispatchLayer(p.l, p.raw)
		i++
	}
	for _, d := range downs {
		waitDrained(d)
	}
	b.StopTimer()

	var delivered, dropped int64
	for i, d := range downs {
		delivered += sinks[i].packets.Load()
		dropped += int64(d.dropped.Load())
		d.stop()
	}
	wg.Wait()
	b.ReportMetric(float64(delivered)/float64(b.N), "delivered/op")
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
}
