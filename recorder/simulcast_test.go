package recorder

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/kuayang/kuayang/sfu"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// makeLayerClip encodes seconds of a test pattern as VP8 at width×height
// and kbps, a keyframe every second.
func makeLayerClip(t *testing.T, width, height, kbps, seconds int) [][]byte {
	t.Helper()
	needFFmpeg(t)
	dir := t.TempDir()
	ivf := filepath.Join(dir, "v.ivf")
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc=size=%dx%d:rate=%d", width, height, clipFPS), "-t", strconv.Itoa(seconds),
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", strconv.Itoa(clipFPS),
		"-b:v", fmt.Sprintf("%dk", kbps), "-minrate", fmt.Sprintf("%dk", kbps), "-maxrate", fmt.Sprintf("%dk", kbps),
		"-auto-alt-ref", "0", ivf)
	return readIVF(t, ivf)
}

// simulcastPublisher publishes one VP8 track as simulcast layers and an
// Opus track, with sender reports, like a browser.
type simulcastPublisher struct {
	*publisher
	layers []*webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	mid    string
	midID  uint8
	ridID  uint8
}

// publishSimulcast joins room as pid and negotiates a video track with one
// encoding per RID and an Opus track.
func publishSimulcast(t *testing.T, s *sfu.SFU, room, pid string, rids ...string) *simulcastPublisher {
	t.Helper()
	api := publisherAPI(t, true)
	var err error

	c := &simulcastPublisher{publisher: &publisher{t: t, up: make(chan struct{})}}
	if c.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
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
	for _, rid := range rids {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8},
			"video", "cam", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		c.layers = append(c.layers, tr)
	}
	if c.sender, err = c.pc.AddTrack(c.layers[0]); err != nil {
		t.Fatal(err)
	}
	for _, l := range c.layers[1:] {
		if err := c.sender.AddEncoding(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, rid := range rids {
		go func() { // keep the interceptors fed
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.sender.ReadSimulcast(buf, rid); err != nil {
					return
				}
			}
		}()
	}
	c.audio = c.addTrack(webrtc.MimeTypeOpus, "audio")
	c.negotiate()
	select {
	case <-c.up:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher did not connect")
	}
	for _, e := range c.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			c.midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			c.ridID = uint8(e.ID)
		}
	}
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Sender() == c.sender {
			c.mid = tr.Mid()
		}
	}
	if c.midID == 0 || c.ridID == 0 || c.mid == "" {
		t.Fatal("simulcast not negotiated")
	}
	return c
}

// send plays one clip per layer and the audio in real time.
func (c *simulcastPublisher) send(video [][][]byte, audio [][]byte) {
	type ev struct {
		at    time.Duration
		frame int // video frame index, or -1 for audio
		data  []byte
	}
	var evs []ev
	frames := len(video[0])
	for _, v := range video {
		frames = min(frames, len(v))
	}
	for i := range frames {
		evs = append(evs, ev{time.Duration(i) * time.Second / clipFPS, i, nil})
	}
	for i, f := range audio {
		evs = append(evs, ev{time.Duration(i) * audioFrameDur, -1, f})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	pks := make([]rtp.Packetizer, len(c.layers))
	for i := range pks {
		pks[i] = rtp.NewPacketizer(1200, 96, 0, &codecs.VP8Payloader{EnablePictureID: true},
			rtp.NewRandomSequencer(), 90000)
	}
	start := time.Now()
	for _, e := range evs {
		time.Sleep(time.Until(start.Add(e.at)))
		if e.frame < 0 {
			_ = c.audio.WriteSample(media.Sample{Data: e.data, Duration: audioFrameDur})
			continue
		}
		for l, tr := range c.layers {
			for _, p := range pks[l].Packetize(video[l][e.frame], 90000/clipFPS) {
				if p.Header.SetExtension(c.midID, []byte(c.mid)) != nil ||
					p.Header.SetExtension(c.ridID, []byte(tr.RID())) != nil {
					c.t.Error("set extension")
					return
				}
				_ = tr.WriteRTP(p)
			}
		}
	}
}

// TestRecordSimulcastTopLayer records a publisher sending three layers,
// the top one listed last: the recording is of the top layer only.
func TestRecordSimulcastTopLayer(t *testing.T) {
	const seconds = 4
	video := [][][]byte{ // q, h, f
		makeLayerClip(t, 160, 120, 100, seconds),
		makeLayerClip(t, 320, 240, 300, seconds),
		makeLayerClip(t, 640, 480, 900, seconds),
	}
	audio := makeClip(t, 320, 240, seconds).audio
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, Loopback: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := &collected{}
	r := New(Config{SessionID: "case-9", SpoolDir: t.TempDir(), SegmentDuration: time.Minute,
		Logger: testLogger(t), OnSegment: got.add})
	stop, err := s.Observe("room", r)
	if err != nil {
		t.Fatal(err)
	}
	c := publishSimulcast(t, s, "room", "alice", "q", "h", "f")
	c.send(video, audio)
	c.leave()
	stop()
	r.Close()
	segs := got.all()
	if len(segs) == 0 {
		t.Fatal("nothing recorded")
	}
	var total float64
	for _, seg := range segs {
		p := checkSegment(t, seg, true)
		_, vi := p.stream("video")
		if vi < 0 || p.Streams[vi].Width != 640 || p.Streams[vi].Height != 480 || seg.Width != 640 {
			t.Errorf("%s: video %+v, sidecar %dx%d, want the top layer, 640x480", seg.Key, p.Streams, seg.Width, seg.Height)
		}
		total += p.duration()
		t.Logf("%s: %.2fs %dx%d gaps %v", seg.Key, p.duration(), seg.Width, seg.Height, seg.Gaps)
	}
	// The top layer is known after half a second and switched to at its
	// next keyframe (the clip has one a second).
	if total < seconds-2 {
		t.Errorf("%.2fs recorded of %ds", total, seconds)
	}
}
