package recorder

import (
	"math"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/sfu"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// publisher is a pion client that publishes a clip to an SFU room over
// loopback, with RTCP sender reports.
type publisher struct {
	t      *testing.T
	pc     *webrtc.PeerConnection
	p      *sfu.Participant
	video  *webrtc.TrackLocalStaticSample
	audio  *webrtc.TrackLocalStaticSample
	up     chan struct{} // closed when connected
	upOnce sync.Once

	mu      sync.Mutex // guards pending and remote
	pending []webrtc.ICECandidateInit
	remote  bool
}

// Offer implements sfu.Handler: the publisher receives nothing.
func (c *publisher) Offer(webrtc.SessionDescription) {}

// Candidate implements sfu.Handler.
func (c *publisher) Candidate(d sfu.Direction, ci webrtc.ICECandidateInit) {
	if d != sfu.Publish {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.remote {
		c.pending = append(c.pending, ci)
		return
	}
	_ = c.pc.AddICECandidate(ci)
}

// Failed implements sfu.Handler.
func (c *publisher) Failed(err error) { c.t.Errorf("connection failed: %v", err) }

// publisherAPI is a loopback-only pion API sending sender reports; with
// simulcast it also puts the mid and rid header extensions on its packets.
func publisherAPI(t *testing.T, simulcast bool) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if simulcast {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	sr, err := report.NewSenderInterceptor(report.SenderInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	reg.Add(sr)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(reg))
}

// publish joins room as pid and negotiates a VP8 and an Opus track.
func publish(t *testing.T, s *sfu.SFU, room, pid string) *publisher {
	t.Helper()
	c := &publisher{t: t, up: make(chan struct{})}
	var err error
	if c.pc, err = publisherAPI(t, false).NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	c.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			c.upOnce.Do(func() { close(c.up) })
		}
	})
	if c.p, err = s.Join(room, pid, c); err != nil {
		t.Fatal(err)
	}
	c.pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			_ = c.p.AddCandidate(sfu.Publish, cand.ToJSON())
		}
	})
	c.video = c.addTrack(webrtc.MimeTypeVP8, "video")
	c.audio = c.addTrack(webrtc.MimeTypeOpus, "audio")
	c.negotiate()
	select {
	case <-c.up:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher did not connect")
	}
	return c
}

func (c *publisher) addTrack(mime, id string) *webrtc.TrackLocalStaticSample {
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, id, "cam")
	if err != nil {
		c.t.Fatal(err)
	}
	sender, err := c.pc.AddTrack(tr)
	if err != nil {
		c.t.Fatal(err)
	}
	go func() { // keep the interceptors fed
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	return tr
}

func (c *publisher) negotiate() {
	offer, err := c.pc.CreateOffer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(offer)
	}
	var answer webrtc.SessionDescription
	if err == nil {
		answer, err = c.p.Publish(offer)
	}
	if err == nil {
		err = c.pc.SetRemoteDescription(answer)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remote = true
	for _, ci := range c.pending {
		_ = c.pc.AddICECandidate(ci)
	}
}

// send plays the clip in real time.
func (c *publisher) send(cl *clip) {
	type ev struct {
		at    time.Duration
		video bool
		data  []byte
	}
	// Audio first at equal times: which track reaches the SFU first is
	// otherwise a race, and a video track that wins it opens a video-only
	// first segment; the audio, held meanwhile, joins at the next
	// keyframe (nothing is lost, but the files are laid out otherwise).
	// This test checks every segment's audio and video together.
	var evs []ev
	for i, f := range cl.audio {
		evs = append(evs, ev{time.Duration(i) * audioFrameDur, false, f})
	}
	for i, f := range cl.video {
		evs = append(evs, ev{time.Duration(i) * time.Second / clipFPS, true, f})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	start := time.Now()
	for _, e := range evs {
		time.Sleep(time.Until(start.Add(e.at)))
		if e.video {
			_ = c.video.WriteSample(media.Sample{Data: e.data, Duration: time.Second / clipFPS})
		} else {
			_ = c.audio.WriteSample(media.Sample{Data: e.data, Duration: audioFrameDur})
		}
	}
}

// leave leaves the room and closes the connection.
func (c *publisher) leave() {
	c.p.Leave()
	_ = c.pc.Close()
}

func TestRecordRoomThroughSFU(t *testing.T) {
	cl := makeClip(t, 320, 240, 4)
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, Loopback: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := &collected{}
	r := New(Config{SessionID: "case-7", SpoolDir: t.TempDir(), SegmentDuration: 2 * time.Second,
		Logger: testLogger(t), OnSegment: got.add})
	stop, err := s.Observe("room", r)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, pid := range []string{"alice", "bob"} {
		c := publish(t, s, "room", pid)
		wg.Go(func() {
			c.send(cl)
			c.leave()
		})
	}
	wg.Wait()
	stop()
	r.Close()
	checkRoomSegments(t, got.all(), cl)
}

// checkRoomSegments checks every participant's segments.
func checkRoomSegments(t *testing.T, segs []Segment, cl *clip) {
	t.Helper()
	byPID := map[string][]Segment{}
	for _, s := range segs {
		byPID[s.ParticipantID] = append(byPID[s.ParticipantID], s)
	}
	if len(byPID) != 2 {
		t.Fatalf("segments of %d participants, want 2: %+v", len(byPID), segs)
	}
	fed := float64(len(cl.audio)) * audioFrameDur.Seconds()
	for pid, list := range byPID {
		var total float64
		for _, s := range list {
			p := checkSegment(t, s, true)
			total += p.duration()
			astart, _ := p.stream("audio")
			vstart, _ := p.stream("video")
			if s.Index > 0 && math.Abs(astart-vstart) > 0.1 {
				t.Errorf("%s: audio starts at %.3fs, video at %.3fs", s.Key, astart, vstart)
			}
			t.Logf("%s: %.2fs %v gaps %v", s.Key, p.duration(), s.Codecs, s.Gaps)
		}
		if len(list) < 2 || math.Abs(total-fed) > 1 {
			t.Errorf("%s: %d segments, %.2fs in all, %.2fs fed", pid, len(list), total, fed)
		}
	}
}
