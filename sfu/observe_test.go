package sfu

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// obsSink is a TrackSink that records what it is given. With a gate, every
// WriteRTP waits until the gate is closed.
type obsSink struct {
	info TrackInfo
	gate chan struct{}

	mu       sync.Mutex // guards the fields below
	packets  int
	keys     []bool // per packet: first packet of a VP8 keyframe
	lostAt   map[int]int
	srs      []senderReport
	closed   int
	afterEnd bool // a call came after Close
}

func (s *obsSink) WriteRTP(b []byte) {
	if s.gate != nil {
		<-s.gate
	}
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterEnd = s.afterEnd || s.closed > 0
	s.packets++
	s.keys = append(s.keys, vp8Keyframe(p.Payload))
}

func (s *obsSink) Lost(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lostAt == nil {
		s.lostAt = map[int]int{}
	}
	s.lostAt[s.packets] += n
}

func (s *obsSink) SenderReport(ntp uint64, rtpTime uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srs = append(s.srs, senderReport{ntp: ntp, rtpTime: rtpTime})
}

func (s *obsSink) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
}

func (s *obsSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.packets
}

func (s *obsSink) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed > 0
}

// recObserver hands out an obsSink per track.
type recObserver struct {
	mu    sync.Mutex // guards sinks
	sinks []*obsSink
}

func (o *recObserver) TrackAdded(t TrackInfo) TrackSink {
	s := &obsSink{info: t}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sinks = append(o.sinks, s)
	return s
}

// live returns the sinks of kind from pid that are not closed.
func (o *recObserver) live(pid, kind string) []*obsSink {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*obsSink
	for _, s := range o.sinks {
		if s.info.Participant == pid && s.info.Kind == kind && !s.isClosed() {
			out = append(out, s)
		}
	}
	return out
}

func (o *recObserver) all() []*obsSink {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*obsSink(nil), o.sinks...)
}

// waitObserved waits until o receives packets of both kinds from pid.
func waitObserved(t *testing.T, o *recObserver, pid string) (video, audio *obsSink) {
	t.Helper()
	for _, kind := range []string{"video", "audio"} {
		waitFor(t, "observer gets "+kind+" of "+pid, mediaWait, func() bool {
			l := o.live(pid, kind)
			return len(l) == 1 && l[0].count() >= 10
		})
	}
	return o.live(pid, "video")[0], o.live(pid, "audio")[0]
}

func TestObserverAttachedBeforeAndAcrossRoomRemoval(t *testing.T) {
	s := newTestSFU(t, -1)
	o := &recObserver{}
	stop, err := s.Observe("r", o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	api := clientAPI(t)
	alice := join(t, s, api, "r", "alice")
	alice.publish()
	video, audio := waitObserved(t, o, "alice")
	if video.info.Codec.MimeType != webrtc.MimeTypeVP8 || audio.info.Codec.ClockRate != 48000 ||
		video.info.TrackID != "video-alice" || video.info.StreamID != "cam-alice" {
		t.Errorf("track info: video %+v audio %+v", video.info, audio.info)
	}
	if keys := video.keys; len(keys) == 0 || !keys[0] {
		t.Error("the observer's video does not start with a keyframe")
	}
	alice.close()
	waitFor(t, "sinks closed", mediaWait, func() bool { return video.isClosed() && audio.isClosed() })
	if st := s.Stats(); st.Rooms != 0 {
		t.Fatalf("room not removed: %+v", st)
	}
	// The room is created again: the observer is still attached.
	again := join(t, s, api, "r", "alice2")
	again.publish()
	waitObserved(t, o, "alice2")
	for _, sink := range o.all() {
		if sink.afterEnd {
			t.Errorf("%s/%s: packets after Close", sink.info.Participant, sink.info.Kind)
		}
	}
}

func TestObserverAttachedLateAndStopped(t *testing.T) {
	s := newTestSFU(t, -1)
	api := clientAPI(t)
	alice := join(t, s, api, "r", "alice")
	alice.publish()
	bob := join(t, s, api, "r", "bob")
	waitMedia(t, []*client{bob}, "alice")

	o := &recObserver{}
	stop, err := s.Observe("r", o)
	if err != nil {
		t.Fatal(err)
	}
	video, _ := waitObserved(t, o, "alice")
	// Keyframe requests reach the publisher.
	plis := alice.plis.Load()
	video.info.RequestKeyframe()
	waitFor(t, "keyframe request reaches alice", mediaWait, func() bool { return alice.plis.Load() > plis })

	stop()
	for _, sink := range o.all() {
		if !sink.isClosed() {
			t.Errorf("%s: not closed by stop", sink.info.Kind)
		}
	}
	// Tracks published after stop are not offered.
	n := len(o.all())
	bob.publish()
	waitMedia(t, []*client{alice}, "bob")
	if len(o.all()) != n {
		t.Error("a stopped observer was offered a new track")
	}
	stop() // idempotent
}

// reportingClientAPI is clientAPI with RTCP sender reports every 100 ms.
func reportingClientAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	sr, err := report.NewSenderInterceptor(report.SenderInterval(100 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	reg.Add(sr)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(reg))
}

// ntpTime converts an NTP timestamp to time.
func ntpTime(ntp uint64) time.Time {
	const ntpEpochOffset = 2208988800
	secs := int64(ntp>>32) - ntpEpochOffset
	frac := int64(ntp & 0xffffffff)
	return time.Unix(secs, frac*1e9>>32)
}

func TestObserverGetsSenderReports(t *testing.T) {
	s := newTestSFU(t, -1)
	o := &recObserver{}
	stop, err := s.Observe("r", o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	alice := join(t, s, reportingClientAPI(t), "r", "alice")
	alice.publish()
	video, audio := waitObserved(t, o, "alice")
	for _, sink := range []*obsSink{video, audio} {
		waitFor(t, sink.info.Kind+" sender reports", mediaWait, func() bool {
			sink.mu.Lock()
			defer sink.mu.Unlock()
			return len(sink.srs) >= 2
		})
		sink.mu.Lock()
		sr := sink.srs[len(sink.srs)-1]
		sink.mu.Unlock()
		if d := time.Since(ntpTime(sr.ntp)); d < -time.Second || d > 5*time.Second {
			t.Errorf("%s: sender report time %v is %v from now", sink.info.Kind, ntpTime(sr.ntp), d)
		}
	}
	// A late observer gets the last report at once.
	late := &recObserver{}
	stopLate, err := s.Observe("r", late)
	if err != nil {
		t.Fatal(err)
	}
	defer stopLate()
	waitFor(t, "late observer's first report", mediaWait, func() bool {
		for _, sink := range late.all() {
			sink.mu.Lock()
			n := len(sink.srs)
			sink.mu.Unlock()
			if n > 0 {
				return true
			}
		}
		return false
	})
}

// testRoom builds a room with a published forwarder of codec, without
// peer connections, closed when the test ends.
func testRoom(t *testing.T, codec webrtc.RTPCodecCapability) (*SFU, *room, *forwarder) {
	t.Helper()
	s := &SFU{log: testLogger(t), rooms: map[string]*room{}, observers: map[string][]*observer{}}
	r := newRoom(s, "r")
	p := &Participant{id: "pub", s: s, room: r, downs: map[*forwarder]*downTrack{}}
	r.parts[p.id] = p
	s.rooms["r"] = r
	f := newForwarder("v", codec, func() {})
	f.pub = p
	f.info = TrackInfo{Participant: "pub", TrackID: "v", Kind: "video"}
	r.fwds = append(r.fwds, f)
	t.Cleanup(s.wg.Wait)
	return s, r, f
}

func TestSlowObserverLosesFramesNotOthers(t *testing.T) {
	s, _, f := testRoom(t, vp8Codec)
	fast := &recordSink{}
	startDown(t, f, fast, always)
	slow := &obsSink{gate: make(chan struct{})}
	stop, err := s.Observe("r", observerFunc(func(TrackInfo) TrackSink { return slow }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	var openGate sync.Once
	release := func() { openGate.Do(func() { close(slow.gate) }) }
	t.Cleanup(release) // runs before stop, which waits for the sink
	src := &frameSource{t: t, perFrame: 5, keyEvery: 1000}
	sent := 0
	for range 2 * observerVideoQueueLen / 5 {
		start := time.Now()
		for _, raw := range src.next() {
			f.dispatch(raw)
			sent++
		}
		if time.Since(start) > time.Second {
			t.Fatal("the reader blocked on the observer")
		}
		waitFor(t, "fast subscriber", 5*time.Second, func() bool { return fast.count() == sent })
	}
	select {
	case <-f.pli:
	default:
		t.Error("no keyframe requested for the observer that fell behind")
	}
	var obsDown *downTrack
	for _, d := range *f.subs.Load() {
		if d.obs != nil {
			obsDown = d
		}
	}
	release()
	waitFor(t, "observer drained", 5*time.Second, func() bool { return slow.count() == int(obsDown.forwarded.Load()) })
	src.frame = 0 // a keyframe
	for _, raw := range src.next() {
		f.dispatch(raw)
	}
	queued := int(obsDown.forwarded.Load())
	waitFor(t, "keyframe observed", 5*time.Second, func() bool { return slow.count() == queued })
	slow.mu.Lock()
	lostAt, keys := slow.lostAt, slow.keys
	slow.mu.Unlock()
	resume := queued - 5
	if lostAt[resume] != sent-resume {
		t.Errorf("lost reported %v, want %d before packet %d", lostAt, sent-resume, resume)
	}
	if !keys[resume] {
		t.Error("the observer resumed without a keyframe")
	}
	stop()
	if !slow.isClosed() {
		t.Error("stop did not close the sink")
	}
}

// observerFunc is an Observer made of a function.
type observerFunc func(TrackInfo) TrackSink

func (f observerFunc) TrackAdded(t TrackInfo) TrackSink { return f(t) }

func TestParseSenderReport(t *testing.T) {
	sr := make([]byte, 28)
	sr[0], sr[1] = 0x80, rtcpSR
	binary.BigEndian.PutUint16(sr[2:], 6)
	binary.BigEndian.PutUint32(sr[4:], 42)
	binary.BigEndian.PutUint64(sr[8:], 0x1122334455667788)
	binary.BigEndian.PutUint32(sr[16:], 9000)
	rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 7}
	tests := []struct {
		name string
		b    []byte
		ssrc uint32
		ok   bool
	}{
		{"alone", sr, 42, true},
		{"after a receiver report", append(append([]byte{}, rr...), sr...), 42, true},
		{"other ssrc (rtx)", sr, 43, false},
		{"truncated", sr[:20], 42, false},
		{"garbage", []byte{0x00, 200, 0, 6}, 42, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseSenderReport(tc.b, tc.ssrc)
			if ok != tc.ok {
				t.Fatalf("ok = %v", ok)
			}
			if ok && (got.ntp != 0x1122334455667788 || got.rtpTime != 9000) {
				t.Errorf("got %+v", got)
			}
		})
	}
}
