package sfu

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// extPacket builds a raw RTP packet with a header extension of profile
// whose elements are data (padded with zeros to 32-bit words).
func extPacket(profile uint16, data []byte, payload []byte) []byte {
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	b := make([]byte, 12, 12+4+len(data)+len(payload))
	b[0] = 0x90 // version 2, X
	b[1] = 111
	binary.BigEndian.PutUint16(b[2:], 7)
	binary.BigEndian.PutUint32(b[4:], 960)
	binary.BigEndian.PutUint32(b[8:], 0x1234)
	b = binary.BigEndian.AppendUint16(b, profile)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)/4))
	b = append(b, data...)
	return append(b, payload...)
}

func TestAudioLevelParse(t *testing.T) {
	payload := []byte{0xfc, 1, 2}
	tests := []struct {
		name  string
		raw   []byte
		id    uint8
		want  uint8
		found bool
	}{
		{"one-byte, alone", extPacket(0xbede, []byte{0x10, 0x80 | 42}, payload), 1, 0x80 | 42, true},
		{"one-byte, after another element and padding", extPacket(0xbede, []byte{0x32, 9, 9, 9, 0, 0, 0x50, 17}, payload), 5, 17, true},
		{"one-byte, loudest without voice", extPacket(0xbede, []byte{0x10, 0}, payload), 1, 0, true},
		{"one-byte, other id only", extPacket(0xbede, []byte{0x20, 30}, payload), 1, 0, false},
		{"one-byte, element cut short", extPacket(0xbede, []byte{0x23, 1, 2, 3}, payload), 1, 0, false},
		{"one-byte, reserved id 15 stops", extPacket(0xbede, []byte{0xf0, 0, 0x10, 5}, payload), 1, 0, false},
		{"two-byte", extPacket(0x1000, []byte{3, 2, 9, 9, 0, 1, 1, 0x80 | 127}, payload), 1, 0x80 | 127, true},
		{"two-byte, appbits", extPacket(0x100f, []byte{12, 1, 60}, payload), 12, 60, true},
		{"two-byte, empty element", extPacket(0x1000, []byte{1, 0}, payload), 1, 0, false},
		{"two-byte, cut short", extPacket(0x1000, []byte{1, 9, 60}, payload), 1, 0, false},
		{"other profile", extPacket(0xabcd, []byte{0x10, 42}, payload), 1, 0, false},
		{"no extension", rtpPacket(t, 1, 960, true, false, payload), 1, 0, false},
		{"not negotiated", extPacket(0xbede, []byte{0x10, 42}, payload), 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pk packet
			if !pk.parse(tc.raw) {
				t.Fatal("parse failed")
			}
			got, found := pk.audioLevel(tc.id)
			if got != tc.want || found != tc.found {
				t.Fatalf("audioLevel(%d) = %#x %v, want %#x %v", tc.id, got, found, tc.want, tc.found)
			}
			if string(pk.payload()) != string(payload) {
				t.Fatalf("payload %x", pk.payload())
			}
		})
	}
	// What pion writes parses the same.
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1, Timestamp: 960}, Payload: payload}
	_ = p.Header.SetExtension(2, []byte{1, 2})
	lvl, _ := rtp.AudioLevelExtension{Level: 33, Voice: true}.Marshal()
	_ = p.Header.SetExtension(4, lvl)
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var pk packet
	if !pk.parse(raw) {
		t.Fatal("parse pion packet")
	}
	if got, ok := pk.audioLevel(4); !ok || got != 0x80|33 {
		t.Fatalf("pion packet: %#x %v", got, ok)
	}
}

// levelSinkRec is an AudioLevelSink that records calls in order.
type levelSinkRec struct {
	mu     sync.Mutex // guards events
	events []string
}

func (s *levelSinkRec) add(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *levelSinkRec) WriteRTP(b []byte) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		s.add("bad packet")
		return
	}
	s.add(fmt.Sprintf("rtp %d ext=%v", p.SequenceNumber, p.Extension))
}
func (s *levelSinkRec) AudioLevel(level uint8, voice bool) {
	s.add(fmt.Sprintf("level %d %v", level, voice))
}
func (s *levelSinkRec) Lost(n int)                  { s.add(fmt.Sprintf("lost %d", n)) }
func (s *levelSinkRec) SenderReport(uint64, uint32) {}
func (s *levelSinkRec) Close()                      {}

func (s *levelSinkRec) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

var _ AudioLevelSink = (*levelSinkRec)(nil)

func TestAudioLevelReachesObserver(t *testing.T) {
	f := newForwarder("a", opusCodec, func() {})
	f.levelID = 1
	rec := &levelSinkRec{}
	plain := &obsSink{} // a TrackSink without AudioLevel
	startDown(t, f, &observerSink{sink: rec, levels: rec}, always)
	startDown(t, f, &observerSink{sink: plain}, always)
	payload := []byte{0xfc, 1, 2}
	for i, data := range [][]byte{
		{0x10, 0x80 | 20}, // voice, -20 dBov
		nil,               // no extension
		{0x10, 127},       // silence
		{0x20, 5},         // only another extension
	} {
		raw := rtpPacket(t, uint16(100+i), uint32(i*960), true, false, payload)
		if data != nil {
			raw = extPacket(0xbede, data, payload)
			binary.BigEndian.PutUint16(raw[2:], uint16(100+i))
		}
		f.dispatch(raw)
	}
	want := []string{"level 20 true", "rtp 100 ext=false", "rtp 101 ext=false", "level 127 false", "rtp 102 ext=false", "rtp 103 ext=false"}
	waitFor(t, "four packets", 5*time.Second, func() bool { return len(rec.snapshot()) == len(want) && plain.count() == 4 })
	if got := rec.snapshot(); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("sink got %q, want %q", got, want)
	}
}

// countLevels is an AudioLevelSink that only counts, without allocating.
type countLevels struct {
	levels, packets int
}

func (s *countLevels) WriteRTP([]byte)             { s.packets++ }
func (s *countLevels) AudioLevel(uint8, bool)      { s.levels++ }
func (s *countLevels) Lost(int)                    {}
func (s *countLevels) SenderReport(uint64, uint32) {}
func (s *countLevels) Close()                      {}

func TestAudioLevelDoesNotAllocate(t *testing.T) {
	f := newForwarder("a", opusCodec, func() {})
	f.levelID = 1
	sink := &countLevels{}
	osink := &observerSink{sink: sink, levels: sink}
	d := newDownTrackLen(f, osink, always, observerAudioQueueLen)
	f.addSub(d)
	raw := extPacket(0xbede, []byte{0x32, 9, 9, 9, 0x10, 0x80 | 30}, make([]byte, 80))
	seq := uint16(0)
	allocs := testing.AllocsPerRun(200, func() {
		for range 8 {
			binary.BigEndian.PutUint16(raw[2:], seq)
			seq++
			f.dispatch(raw)
		}
		d.q.drain(osink)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 8 packets read and drained, want 0", allocs)
	}
	if sink.levels == 0 || sink.levels != sink.packets {
		t.Errorf("%d levels for %d packets", sink.levels, sink.packets)
	}
}

// BenchmarkForwardAudioLevel is BenchmarkForward for an Opus track whose
// packets carry the audio level extension, fanned out to three
// subscribers and an observer that takes the levels. It must not
// allocate.
func BenchmarkForwardAudioLevel(b *testing.B) {
	f := newForwarder("a", opusCodec, func() {})
	f.levelID = 1
	var sinks []packetSink
	for range 3 {
		sinks = append(sinks, &discardSink{})
	}
	obs := &countLevels{}
	sinks = append(sinks, &observerSink{sink: obs, levels: obs})
	var wg sync.WaitGroup
	var downs []*downTrack
	for _, s := range sinks {
		d := newDownTrack(f, s, always)
		f.addSub(d)
		downs = append(downs, d)
		wg.Go(d.writeLoop)
	}
	raw := extPacket(0xbede, []byte{0x22, 1, 2, 3, 0x10, 0x80 | 30}, make([]byte, 120))
	var i atomic.Int64
	read := func(buf []byte) (int, error) {
		n := i.Add(1)
		if n > int64(b.N) {
			return 0, io.EOF
		}
		binary.BigEndian.PutUint16(raw[2:], uint16(n))
		binary.BigEndian.PutUint32(raw[4:], uint32(n*960))
		return copy(buf, raw), nil
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	f.readLoop(read)
	for _, d := range downs {
		waitDrained(d)
	}
	b.StopTimer()
	for _, d := range downs {
		d.stop()
	}
	wg.Wait()
}

// levelInterceptor sets the audio level extension on every outgoing audio
// packet of a client, as a browser does, to what level returns.
type levelInterceptor struct {
	interceptor.NoOp
	level func() (uint8, bool)
}

func (l *levelInterceptor) NewInterceptor(string) (interceptor.Interceptor, error) { return l, nil }

func (l *levelInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	id := 0
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			id = e.ID
		}
	}
	if id == 0 || !strings.HasPrefix(strings.ToLower(info.MimeType), "audio/") {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		level, voice := l.level()
		b, _ := rtp.AudioLevelExtension{Level: level, Voice: voice}.Marshal()
		if err := h.SetExtension(uint8(id), b); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}

// levelClientAPI is clientAPI with the audio level extension negotiated
// and set on every audio packet.
func levelClientAPI(t *testing.T, level func() (uint8, bool)) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	reg := &interceptor.Registry{}
	reg.Add(&levelInterceptor{level: level})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(reg))
}

// levelObserver hands out levelSinkRecs for audio tracks, plain sinks for
// video.
type levelObserver struct {
	mu    sync.Mutex
	audio map[string]*levelSinkRec
}

func (o *levelObserver) TrackAdded(t TrackInfo) TrackSink {
	if t.Kind != "audio" {
		return &obsSink{info: t}
	}
	s := &levelSinkRec{}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.audio[t.Participant] = s
	return s
}

func (o *levelObserver) of(pid string) *levelSinkRec {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.audio[pid]
}

func TestObserverGetsPublishersAudioLevels(t *testing.T) {
	s := newTestSFU(t, -1)
	o := &levelObserver{audio: map[string]*levelSinkRec{}}
	stop, err := s.Observe("r", o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	alice := join(t, s, levelClientAPI(t, func() (uint8, bool) { return 25, true }), "r", "alice")
	alice.publish()
	bob := join(t, s, clientAPI(t), "r", "bob") // sends no levels
	bob.publish()
	waitFor(t, "alice's audio levels", mediaWait, func() bool {
		r := o.of("alice")
		return r != nil && strings.Count(strings.Join(r.snapshot(), "\n"), "level 25 true") >= 10
	})
	// Every packet of alice's comes right after its level, without the
	// extension; bob's come without levels.
	ev := o.of("alice").snapshot()
	for i, e := range ev {
		if strings.HasPrefix(e, "rtp") && (i == 0 || ev[i-1] != "level 25 true" || strings.HasSuffix(e, "ext=true")) {
			t.Fatalf("alice: event %d %q after %q", i, e, ev[max(i-1, 0)])
		}
	}
	waitFor(t, "bob's audio", mediaWait, func() bool { r := o.of("bob"); return r != nil && len(r.snapshot()) >= 10 })
	for _, e := range o.of("bob").snapshot() {
		if strings.HasPrefix(e, "level") {
			t.Fatalf("bob sends no levels, yet the observer got %q", e)
		}
	}
	// The publisher is answered with the extension.
	if answer := alice.pub.RemoteDescription(); answer == nil || !strings.Contains(answer.SDP, sdp.AudioLevelURI) {
		t.Errorf("the publish answer lacks the audio level extension: %v", answer)
	}
}
