package sfu

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

const mediaWait = 10 * time.Second

// waitMedia waits until every client receives audio and video from every
// publisher in pids other than itself.
func waitMedia(t *testing.T, clients []*client, pids ...string) {
	t.Helper()
	for _, c := range clients {
		for _, pid := range pids {
			if pid == c.id {
				continue
			}
			for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
				waitFor(t, c.id+" receiving "+kind.String()+" of "+pid, mediaWait, func() bool {
					return c.receiving(pid, kind, 10)
				})
			}
		}
	}
}

func TestThreeParticipantsReceiveEachOther(t *testing.T) {
	tests := []struct {
		name    string
		tcpPort int
	}{
		{"udp only", -1},
		{"with ice-tcp listener", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSFU(t, tc.tcpPort)
			if a := s.Addrs(); a.UDP == nil || a.UDP.Port == 0 || (tc.tcpPort == 0) != (a.TCP != nil) {
				t.Fatalf("addrs = %+v", a)
			}
			api := clientAPI(t)
			var clients []*client
			for _, id := range []string{"alice", "bob", "carol"} {
				c := join(t, s, api, "case-1", id)
				c.publish()
				clients = append(clients, c)
			}
			waitMedia(t, clients, "alice", "bob", "carol")
			for _, c := range clients {
				if r := c.track(c.id, webrtc.RTPCodecTypeVideo); r != nil {
					t.Errorf("%s receives its own video", c.id)
				}
			}
			st := s.Stats()
			if st.Rooms != 1 || st.Participants != 3 || st.Tracks != 6 || st.Forwarded == 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestLateJoinerGetsKeyframe(t *testing.T) {
	s := newTestSFU(t, -1)
	api := clientAPI(t)
	alice := join(t, s, api, "r", "alice")
	alice.publish()
	bob := join(t, s, api, "r", "bob")
	waitMedia(t, []*client{bob}, "alice")
	// Let alice's first keyframe age: from now on only a keyframe request
	// makes her send another.
	time.Sleep(300 * time.Millisecond)
	plis := alice.plis.Load()

	carol := join(t, s, api, "r", "carol")
	waitMedia(t, []*client{carol}, "alice")
	r := carol.track("alice", webrtc.RTPCodecTypeVideo)
	first := r.firstKey.Load()
	if first == 0 {
		t.Fatal("late joiner got no keyframe")
	}
	if d := time.Unix(0, first).Sub(r.arrived); d > time.Second {
		t.Errorf("keyframe %v after the track arrived", d)
	}
	if alice.plis.Load() == plis {
		t.Error("no keyframe request reached the publisher")
	}
}

func TestLeaveRemovesTracks(t *testing.T) {
	s := newTestSFU(t, -1)
	api := clientAPI(t)
	var clients []*client
	for _, id := range []string{"alice", "bob", "carol"} {
		c := join(t, s, api, "r", id)
		c.publish()
		clients = append(clients, c)
	}
	waitMedia(t, clients, "alice", "bob", "carol")
	alice, bob, carol := clients[0], clients[1], clients[2]
	offers := alice.offers.Load()

	carol.p.Leave()
	carol.p.Leave() // idempotent
	for _, c := range []*client{alice, bob} {
		waitFor(t, c.id+" renegotiated without carol", mediaWait, func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.offers.Load() > offers && !sendsFrom(c.lastOffer, "carol")
		})
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			waitFor(t, c.id+" sees carol's "+kind.String()+" end", mediaWait, func() bool {
				return c.track("carol", kind).ended.Load()
			})
		}
	}
	st := s.Stats()
	if st.Participants != 2 || st.Tracks != 4 {
		t.Errorf("stats after leave = %+v", st)
	}
	if err := carol.p.Answer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer}); !errors.Is(err, ErrLeft) {
		t.Errorf("answer after leave = %v, want ErrLeft", err)
	}
	// alice and bob still exchange media.
	before := bob.track("alice", webrtc.RTPCodecTypeVideo).packets.Load()
	waitFor(t, "media after leave", mediaWait, func() bool {
		return bob.track("alice", webrtc.RTPCodecTypeVideo).packets.Load() > before+10
	})

	alice.p.Leave()
	bob.p.Leave()
	if st := s.Stats(); st.Rooms != 0 || st.Participants != 0 {
		t.Errorf("stats after everyone left = %+v", st)
	}
}

// sendsFrom reports whether an SDP has an active m-section whose msid is
// stream pid.
func sendsFrom(sdp, pid string) bool {
	for _, section := range strings.Split(sdp, "\nm=")[1:] {
		active := strings.Contains(section, "a=sendrecv") || strings.Contains(section, "a=sendonly")
		if active && strings.Contains(section, "a=msid:"+pid+" ") {
			return true
		}
	}
	return false
}

func TestBadSDP(t *testing.T) {
	s := newTestSFU(t, -1)
	api := clientAPI(t)
	alice := join(t, s, api, "r", "alice")
	bob := join(t, s, api, "r", "bob")

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"garbage offer", func() error {
			_, err := alice.p.Publish(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "garbage"})
			return err
		}, ErrBadSDP},
		{"answer as offer", func() error {
			_, err := alice.p.Publish(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: "v=0"})
			return err
		}, ErrBadSDP},
		{"answer without offer", func() error {
			return alice.p.Answer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: "v=0"})
		}, ErrNoOffer},
		{"bad candidate", func() error {
			return alice.p.AddCandidate("sideways", webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
		}, ErrBadCandidate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// The participant and the room still work.
	alice.publish()
	bob.publish()
	waitMedia(t, []*client{alice, bob}, "alice", "bob")
}

func TestJoinDuplicateAndClosed(t *testing.T) {
	s, err := New(Config{ListenIP: "127.0.0.1", TCPPort: -1, Loopback: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	h := &client{events: make(chan func(), 16)}
	p, err := s.Join("r", "alice", h)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID() != "alice" {
		t.Errorf("ID = %q", p.ID())
	}
	if _, err := s.Join("r", "alice", h); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second join = %v, want ErrDuplicate", err)
	}
	other, err := s.Join("other-room", "alice", h)
	if err != nil {
		t.Fatalf("join of another room: %v", err)
	}
	other.Leave()
	p.Leave()
	again, err := s.Join("r", "alice", h)
	if err != nil {
		t.Fatalf("join after leave: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := again.Publish(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer}); !errors.Is(err, ErrLeft) {
		t.Errorf("publish after close = %v, want ErrLeft", err)
	}
	if _, err := s.Join("r", "bob", h); !errors.Is(err, ErrClosed) {
		t.Errorf("join after close = %v, want ErrClosed", err)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	session := func() {
		s, err := New(Config{ListenIP: "127.0.0.1", TCPPort: 0, Loopback: true, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		api := clientAPI(t)
		a := join(t, s, api, "r", "alice")
		b := join(t, s, api, "r", "bob")
		a.publish()
		b.publish()
		waitMedia(t, []*client{a, b}, "alice", "bob")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		a.close()
		b.close()
	}
	session() // warm up: lazily started globals are not leaks
	base := runtime.NumGoroutine()
	session()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after close, %d before:\n%s",
				runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUnpublishTrack(t *testing.T) {
	s := newTestSFU(t, -1)
	api := clientAPI(t)
	alice := join(t, s, api, "r", "alice")
	bob := join(t, s, api, "r", "bob")
	alice.publish()
	waitMedia(t, []*client{bob}, "alice")

	var err error
	alice.do(func() {
		for _, tr := range alice.pub.GetTransceivers() {
			if tr.Sender() != nil && tr.Sender().Track() == alice.audio {
				if err = alice.pub.RemoveTrack(tr.Sender()); err != nil {
					return
				}
			}
		}
		err = alice.negotiatePublish()
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob sees alice's audio end", mediaWait, func() bool {
		return bob.track("alice", webrtc.RTPCodecTypeAudio).ended.Load()
	})
	waitFor(t, "one track left", mediaWait, func() bool { return s.Stats().Tracks == 1 })
	before := bob.track("alice", webrtc.RTPCodecTypeVideo).packets.Load()
	waitFor(t, "video still flows", mediaWait, func() bool {
		return bob.track("alice", webrtc.RTPCodecTypeVideo).packets.Load() > before+10
	})
}

func TestPublicIPAdvertised(t *testing.T) {
	const public = "203.0.113.7"
	s, err := New(Config{ListenIP: "127.0.0.1", TCPPort: -1, Loopback: true, PublicIPs: []string{public}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	api := clientAPI(t)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Join("r", "alice", &client{events: make(chan func(), 64)})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := p.Publish(offer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer.SDP, public) || strings.Contains(answer.SDP, "127.0.0.1 ") {
		t.Fatalf("answer does not advertise only %s:\n%s", public, answer.SDP)
	}
}

// failHandler counts Failed calls.
type failHandler struct {
	client
	failures atomic.Int32
}

func (h *failHandler) Failed(error) { h.failures.Add(1) }

func TestFailedReportedOnce(t *testing.T) {
	s := newTestSFU(t, -1)
	h := &failHandler{client: client{events: make(chan func(), 64)}}
	p, err := s.Join("r", "alice", h)
	if err != nil {
		t.Fatal(err)
	}
	p.onState(Publish, webrtc.PeerConnectionStateFailed)
	p.onState(Subscribe, webrtc.PeerConnectionStateFailed)
	waitFor(t, "Failed", 5*time.Second, func() bool { return h.failures.Load() == 1 })

	q, err := s.Join("r", "bob", h)
	if err != nil {
		t.Fatal(err)
	}
	q.Leave()
	q.onState(Publish, webrtc.PeerConnectionStateFailed)
	p.Leave()
	if err := s.Close(); err != nil { // waits for any Failed goroutine
		t.Fatal(err)
	}
	if n := h.failures.Load(); n != 1 {
		t.Fatalf("Failed called %d times, want 1 (none after Leave)", n)
	}
}
