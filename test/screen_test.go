package test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
	"github.com/kuayang/kuayang/sfu"
)

// screenShare is a third track a Go client publishes beside its camera
// and microphone: the clip's video, announced as the screen.
type screenShare struct {
	c      *client
	sender *webrtc.RTPSender
	key    atomic.Bool // a PLI arrived
	stop   chan struct{}
	done   chan struct{}
}

// shareScreen adds a screen-share track to c's publish connection and
// renegotiates with `publish` naming its mid.
func (c *client) shareScreen(t *testing.T) *screenShare {
	t.Helper()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "screen", "screen-"+c.self)
	if err != nil {
		t.Fatal(err)
	}
	s := &screenShare{c: c, stop: make(chan struct{}), done: make(chan struct{})}
	if s.sender, err = c.pub.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	var mid string
	offer := c.publishOffer(t, func() {
		for _, tr := range c.pub.GetTransceivers() {
			if tr.Sender() == s.sender {
				mid = tr.Mid()
			}
		}
	})
	if mid == "" {
		t.Fatal("the screen track has no mid")
	}
	c.send(map[string]any{"type": "publish", "sdp": offer, "screen": mid})
	go func() {
		for {
			pkts, _, err := s.sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					s.key.Store(true)
				}
			}
		}
	}()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		for v := 0; ; v++ {
			select {
			case <-s.stop:
				return
			case <-c.done:
				return
			case <-tick.C:
			}
			if s.key.Swap(false) {
				v = c.clip.nextKey(v)
			}
			_ = track.WriteSample(media.Sample{Data: c.clip.video[v%len(c.clip.video)], Duration: time.Second / 15})
		}
	}()
	return s
}

// stopSharing removes the screen track and renegotiates without it.
func (s *screenShare) stopSharing(t *testing.T) {
	t.Helper()
	close(s.stop)
	<-s.done
	if err := s.c.pub.RemoveTrack(s.sender); err != nil {
		t.Fatal(err)
	}
	s.c.send(map[string]any{"type": "publish", "sdp": s.c.publishOffer(t, nil)})
}

// publishOffer makes and applies a new offer of c's publish connection;
// then, once the offer has its mids, runs after.
func (c *client) publishOffer(t *testing.T, after func()) string {
	t.Helper()
	offer, err := c.pub.CreateOffer(nil)
	if err == nil {
		err = c.pub.SetLocalDescription(offer)
	}
	if err != nil {
		t.Fatal(err)
	}
	if after != nil {
		after()
	}
	return offer.SDP
}

// screenOf waits for a participant_updated of who whose screen field is
// want.
func screenOf(t *testing.T, c *client, who string, want bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				t.Fatalf("%s: connection closed waiting for the screen of %s", c.name, who)
			}
			p, _ := m["participant"].(map[string]any)
			if m["type"] == "participant_updated" && p["id"] == who && p["screen"] == want {
				return
			}
		case <-deadline:
			t.Fatalf("%s: no participant_updated with screen %v for %s", c.name, want, who)
		}
	}
}

// TestScreenShareIsItsOwnTrackAndStream: a participant publishing camera
// and microphone starts sharing a screen as a third track. The other
// participant is told (screen in the participant object) and receives it
// as a track of its own, under the screen's stream id, while the camera
// goes on; when the sharing stops it stops. The sealed bundle verifies;
// its manifest holds the screen's segments as a stream of their own
// (stream "screen", keys under screen/, video only, numbered with the
// camera's), and the camera has no gap where the sharing stopped: it
// covers the participant's presence as before.
func TestScreenShareIsItsOwnTrackAndStream(t *testing.T) {
	clip := realClip(t)
	n := startNode(t, recordingConfig(testpg.URL(t), miniotest.Shared(t).URL("screen-"+store.NewID()[:12])))
	a := connectTo(t, n.URL(), n.invite(t, 1), clip)
	b := connectTo(t, n.URL(), n.invite(t, 2), clip)
	flowing(t, a, 30, b)
	flowing(t, b, 30, a)
	time.Sleep(time.Second)

	screenID := sfu.ScreenStreamID(a.self)
	share := a.shareScreen(t)
	screenOf(t, b, a.self, true)
	waitFor(t, 10*time.Second, "b receiving a's screen", func() bool {
		r := b.got(screenID)
		return r.videoPackets >= 30 && !r.firstKeyframeAt.IsZero()
	})
	if r := b.got(screenID); r.audioPackets != 0 {
		t.Errorf("the screen stream carries %d audio packets", r.audioPackets)
	}
	camera := b.got(a.self)
	time.Sleep(4 * time.Second) // more than a segment (3 s)
	if grew := b.got(a.self).videoPackets - camera.videoPackets; grew < 60 {
		t.Errorf("a's camera sent only %d packets to b while the screen was shared", grew)
	}

	share.stopSharing(t)
	stopped := time.Now()
	screenOf(t, b, a.self, false)
	time.Sleep(time.Second) // packets in flight arrive
	still, cam := b.got(screenID), b.got(a.self)
	time.Sleep(2 * time.Second)
	if grew := b.got(screenID).videoPackets - still.videoPackets; grew != 0 {
		t.Errorf("b received %d screen packets after the sharing stopped", grew)
	}
	if grew := b.got(a.self).videoPackets - cam.videoPackets; grew < 30 {
		t.Errorf("a's camera sent only %d packets to b after the sharing stopped", grew)
	}
	time.Sleep(2 * time.Second) // the camera goes on past a segment's roll
	a.leave(t)
	b.leave(t)

	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, n.demo.SessionID, 60*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, n.demo.SessionID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)

	var screen, cameraSegs []evidence.Segment
	var indexes []int
	for _, s := range m.Segments {
		if s.ParticipantID == a.self {
			indexes = append(indexes, s.Index)
		}
		switch {
		case s.Stream == evidence.StreamScreen:
			screen = append(screen, s)
		case s.Stream == "" && s.ParticipantID == a.self:
			cameraSegs = append(cameraSegs, s)
		default:
			if s.Stream != "" {
				t.Errorf("segment %s of stream %q", s.Key, s.Stream)
			}
		}
	}
	if len(screen) == 0 || len(cameraSegs) == 0 {
		t.Fatalf("%d screen and %d camera segments of a in the manifest", len(screen), len(cameraSegs))
	}
	var screenTime float64
	for _, s := range screen {
		if s.ParticipantID != a.self || !strings.HasPrefix(s.Key, "sessions/"+n.demo.SessionID+"/"+a.self+"/screen/") {
			t.Errorf("screen segment of %s under %s", s.ParticipantID, s.Key)
		}
		if slices.Contains(s.Codecs, "opus") || len(s.Codecs) != 1 {
			t.Errorf("screen segment %s has codecs %v, want the video alone", s.Key, s.Codecs)
		}
		screenTime += videoDuration(t, filepath.Join(ext, "media", filepath.FromSlash(s.Key)))
		if s.WallEnd.After(stopped.Add(time.Second)) {
			t.Errorf("screen segment %s ends at %v, after the sharing stopped at %v", s.Key, s.WallEnd.Time, stopped)
		}
	}
	slices.Sort(indexes)
	if len(slices.Compact(slices.Clone(indexes))) != len(indexes) {
		t.Errorf("a's segment indexes repeat across streams: %v", indexes)
	}
	// About 4-5 s of sharing (from the first keyframe to the stop).
	if screenTime < 3 || screenTime > 7 {
		t.Errorf("the screen segments hold %.2fs of video, want about 4-5 s", screenTime)
	}
	// The camera's segments follow each other without a break from
	// before the sharing began to after it stopped.
	var cameraTime float64
	for i, s := range cameraSegs {
		cameraTime += s.MediaEnd - s.MediaStart
		if i > 0 && s.WallStart.Sub(cameraSegs[i-1].WallEnd.Time) > 250*time.Millisecond {
			t.Errorf("a's camera breaks from %v to %v", cameraSegs[i-1].WallEnd.Time, s.WallStart.Time)
		}
	}
	if first, last := cameraSegs[0], cameraSegs[len(cameraSegs)-1]; !first.WallStart.Before(screen[0].WallStart.Time) || !last.WallEnd.After(stopped.Add(2*time.Second)) {
		t.Errorf("a's camera runs from %v to %v, not across the sharing (%v to %v)", first.WallStart.Time, last.WallEnd.Time, screen[0].WallStart.Time, stopped)
	}
	t.Logf("a: present %.2fs, camera %.2fs in %d segments, screen %.2fs in %d segments", presence(m)[a.self], cameraTime, len(cameraSegs), screenTime, len(screen))
	// (Leaving ends a participant's tracks a moment before their
	// presence, which may show as a short hole at the very end, as for
	// anyone: only the time around the stop matters here.)
	for _, g := range m.Gaps {
		t.Logf("gap: %s %q %s..%s %s", g.ParticipantID, g.Stream, g.From.Format(time.RFC3339Nano), g.To.Format(time.RFC3339Nano), g.Reason)
		if g.ParticipantID == a.self && g.Stream == "" && g.From.Before(stopped.Add(3*time.Second)) && g.To.After(stopped.Add(-3*time.Second)) {
			t.Errorf("a's camera has a %s gap from %v to %v, around the stop of the sharing at %v", g.Reason, g.From.Time, g.To.Time, stopped)
		}
	}
}

// videoDuration decodes a screen segment with ffprobe (a video stream,
// VP8, no audio) and returns its length in seconds.
func videoDuration(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:format=duration",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) != 2 || lines[0] != "vp8,video" {
		t.Fatalf("%s: ffprobe says %q, want one VP8 video stream and a duration", filepath.Base(path), out)
	}
	d, err := strconv.ParseFloat(lines[1], 64)
	if err != nil {
		t.Fatalf("%s: duration %q", filepath.Base(path), lines[1])
	}
	return d
}
