package test

import (
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
)

// levelInterceptor sets the client-to-mixer audio level header extension
// (RFC 6464) on every outgoing audio packet, as a browser does, to what
// level returns.
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
		b, err := rtp.AudioLevelExtension{Level: level, Voice: voice}.Marshal()
		if err == nil {
			err = h.SetExtension(uint8(id), b)
		}
		if err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}

// newLevelAPI is newAPI with the audio level extension negotiated for
// audio and set on every audio packet.
func newLevelAPI(t *testing.T, level func() (uint8, bool)) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	ir.Add(&levelInterceptor{level: level})
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// talking returns a level function for a client: from its first audio
// packet on, loud (-20 dBov) during the spans, else silent (-127 dBov);
// the voice activity bit is never set. It also reports when the first
// packet went out.
func talking(spans ...[2]time.Duration) (level func() (uint8, bool), started func() time.Time) {
	var mu sync.Mutex
	var start time.Time
	level = func() (uint8, bool) {
		mu.Lock()
		if start.IsZero() {
			start = time.Now()
		}
		d := time.Since(start)
		mu.Unlock()
		for _, s := range spans {
			if d >= s[0] && d < s[1] {
				return 20, false
			}
		}
		return 127, false
	}
	started = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return start
	}
	return level, started
}

// speakingOf returns a timeline lane's speaking spans.
func speakingOf(t *testing.T, lane map[string]any) [][2]time.Time {
	t.Helper()
	list, ok := lane["speaking"].([]any)
	if !ok {
		t.Fatalf("lane without a speaking list: %v", lane)
	}
	var out [][2]time.Time
	for _, s := range list {
		s := s.(map[string]any)
		from, err1 := time.Parse(time.RFC3339Nano, s["from"].(string))
		to, err2 := time.Parse(time.RFC3339Nano, s["to"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("speaking %v", s)
		}
		out = append(out, [2]time.Time{from, to})
	}
	return out
}

// TestSpeakingOnTheTimeline: a participant whose audio packets say it is
// loud for 2 s, silent for 2 s and loud for 2 s shows two speaking
// intervals of about 2 s, 2 s apart, on the clerk's timeline, live and
// once sealed; one whose packets say silence shows none; the sealed
// bundle, with the intervals in its manifest, verifies.
func TestSpeakingOnTheTimeline(t *testing.T) {
	media := realClip(t)
	pg := testpg.URL(t)
	srv := miniotest.Shared(t)
	n := startNode(t, recordingConfig(pg, srv.URL("speak-"+store.NewID()[:12])))
	sid := n.demo.SessionID
	loud, began := talking([2]time.Duration{time.Second, 3 * time.Second}, [2]time.Duration{5 * time.Second, 7 * time.Second})
	silent, _ := talking()
	a := connectWithLevels(t, n.URL(), n.invite(t, 1), media, loud)
	b := connectWithLevels(t, n.URL(), n.invite(t, 2), media, silent)
	flowing(t, a, 30, b)
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")

	// Live: the timeline from the records shows the first interval once
	// the segments holding it are stored.
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, tl := clerk.do("GET", "/api/v1/sessions/"+sid+"/timeline", nil)
		if status != http.StatusOK || tl["source"] != "records" {
			t.Fatalf("live timeline: %d %v", status, tl)
		}
		if len(speakingOf(t, laneOf(t, tl, a.self))) > 0 {
			if s := speakingOf(t, laneOf(t, tl, b.self)); len(s) != 0 {
				t.Errorf("the silent participant speaks on the live timeline: %v", s)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no speaking on the live timeline: %v", laneOf(t, tl, a.self))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if wait := time.Until(began().Add(9 * time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	a.leave(t)
	b.leave(t)
	waitSealed(t, clerk, sid, 60*time.Second)

	status, tl := clerk.do("GET", "/api/v1/sessions/"+sid+"/timeline", nil)
	if status != http.StatusOK || tl["source"] != "manifest" {
		t.Fatalf("sealed timeline: %d %v", status, tl)
	}
	spans := speakingOf(t, laneOf(t, tl, a.self))
	for _, s := range spans {
		t.Logf("%s speaks from %.2fs to %.2fs (%.2fs)", a.name, s[0].Sub(began()).Seconds(), s[1].Sub(began()).Seconds(), s[1].Sub(s[0]).Seconds())
	}
	if len(spans) != 2 {
		t.Fatalf("%d speaking intervals, want 2: %v", len(spans), spans)
	}
	const tolerance = 350 * time.Millisecond
	for i, s := range spans {
		if d := s[1].Sub(s[0]); (d - 2*time.Second).Abs() > tolerance {
			t.Errorf("interval %d lasts %v, want about 2s", i, d)
		}
	}
	if pause := spans[1][0].Sub(spans[0][1]); (pause - 2*time.Second).Abs() > tolerance {
		t.Errorf("the pause lasts %v, want about 2s", pause)
	}
	if start := spans[0][0].Sub(began()); (start - time.Second).Abs() > 500*time.Millisecond {
		t.Errorf("the first interval starts %v after the first packet, want about 1s", start)
	}
	if s := speakingOf(t, laneOf(t, tl, b.self)); len(s) != 0 {
		t.Errorf("the silent participant speaks: %v", s)
	}

	// The bundle carries the intervals in the signed manifest and
	// verifies.
	dir := t.TempDir()
	path := downloadBundle(t, clerk, sid, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	var total [2]time.Duration
	for _, s := range manifestOf(t, ext).Segments {
		for _, iv := range s.Speaking {
			switch s.ParticipantID {
			case a.self:
				total[0] += iv.To.Sub(iv.From.Time)
			case b.self:
				total[1] += iv.To.Sub(iv.From.Time)
			}
		}
	}
	if (total[0]-4*time.Second).Abs() > 2*tolerance || total[1] != 0 {
		t.Errorf("the manifest has %v of speaking for %s, %v for %s; want about 4s and none", total[0], a.name, total[1], b.name)
	}
}
