package sfu

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// sendLayer is one simulcast layer a test client publishes: VP8 frames of
// perFrame packets of size bytes every 20 ms, named by id (layerPayload),
// a keyframe first and on each PLI for its SSRC.
type sendLayer struct {
	rid      string
	id       byte
	perFrame int
	size     int

	track    *webrtc.TrackLocalStaticRTP
	seq      uint16
	ts       uint32
	pic      uint16
	tl0      uint8
	forceKey atomic.Bool
	plis     atomic.Int32
}

// publishSimulcast publishes a VP8 track as layers (the first is the
// sender's first encoding) and an Opus track, negotiates and starts
// sending. Each layer has its own SSRC, sequence numbers, timestamps and
// picture IDs, chosen at random.
func (c *client) publishSimulcast(layers ...*sendLayer) {
	c.t.Helper()
	for _, l := range layers {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8},
			"video-"+c.id, "cam-"+c.id, webrtc.WithRTPStreamID(l.rid))
		if err != nil {
			c.t.Fatal(err)
		}
		l.track, l.seq, l.ts, l.pic, l.tl0 = tr, uint16(rand.Uint32()), rand.Uint32(), uint16(rand.Uint32())&0x7fff, uint8(rand.Uint32())
		l.forceKey.Store(true)
	}
	sender, err := c.pub.AddTrack(layers[0].track)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, l := range layers[1:] {
		if err := sender.AddEncoding(l.track); err != nil {
			c.t.Fatal(err)
		}
	}
	if c.audio, err = webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio-"+c.id, "cam-"+c.id); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.pub.AddTrack(c.audio); err != nil {
		c.t.Fatal(err)
	}
	c.layers = layers
	for _, l := range layers {
		c.wg.Go(func() { l.readPLI(sender) })
	}
	c.do(func() { err = c.negotiatePublish() })
	if err != nil {
		c.t.Fatal(err)
	}
	var midID, ridID uint8
	for _, e := range sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		}
	}
	var mid string
	for _, tr := range c.pub.GetTransceivers() {
		if tr.Sender() == sender {
			mid = tr.Mid()
		}
	}
	if midID == 0 || ridID == 0 || mid == "" {
		c.t.Fatalf("simulcast not negotiated: mid %q, extension ids %d %d", mid, midID, ridID)
	}
	c.wg.Go(func() { c.sendLayers(mid, midID, ridID) })
}

// readPLI notes the keyframe requests for the layer's SSRC.
func (l *sendLayer) readPLI(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := s.ReadSimulcast(buf, l.rid)
		if err != nil {
			return
		}
		if wantsKeyframe(buf[:n]) {
			l.plis.Add(1)
			l.forceKey.Store(true)
		}
	}
}

// sendLayers writes a frame of every layer and an Opus packet every 20 ms,
// each RTP packet with the mid and rid header extensions.
func (c *client) sendLayers(mid string, midID, ridID uint8) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		for _, l := range c.layers {
			key := l.forceKey.Swap(false)
			l.ts += 1800
			l.pic = (l.pic + 1) & 0x7fff
			l.tl0++
			for i := range l.perFrame {
				p := &rtp.Packet{
					Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: l.seq, Timestamp: l.ts,
						Marker: i == l.perFrame-1},
					Payload: layerPayload(l.id, l.pic, l.tl0, i == 0, key, l.size),
				}
				l.seq++
				if p.Header.SetExtension(midID, []byte(mid)) != nil || p.Header.SetExtension(ridID, []byte(l.rid)) != nil {
					c.t.Error("set extension failed")
					return
				}
				_ = l.track.WriteRTP(p)
			}
		}
		_ = c.audio.WriteSample(media.Sample{Data: []byte{0xfc, 1, 2, 3}, Duration: 20 * time.Millisecond})
	}
}

// lastLayer is the layer of the last video packet c got from pid, 0 if none.
func (c *client) lastLayer(pid string) byte {
	r := c.track(pid, webrtc.RTPCodecTypeVideo)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.log) == 0 {
		return 0
	}
	return r.log[len(r.log)-1].layer
}

// tracksFrom counts the tracks of kind c received from pid.
func (c *client) tracksFrom(pid string, kind webrtc.RTPCodecType) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.tracks {
		if r.streamID == pid && r.kind == kind {
			n++
		}
	}
	return n
}

// layerObserver records the video it is given, and counts its tracks.
type layerObserver struct {
	mu     sync.Mutex // guards the fields below
	infos  []TrackInfo
	video  *layerSink
	srs    int
	closed bool
}

func (o *layerObserver) TrackAdded(t TrackInfo) TrackSink {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.infos = append(o.infos, t)
	if t.Kind != "video" {
		return nil
	}
	o.video = &layerSink{}
	return layerTrackSink{o}
}

type layerTrackSink struct{ o *layerObserver }

func (s layerTrackSink) WriteRTP(b []byte) { _, _ = s.o.video.Write(b) }
func (s layerTrackSink) Lost(int)          {}
func (s layerTrackSink) SenderReport(uint64, uint32) {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	s.o.srs++
}
func (s layerTrackSink) Close() {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	s.o.closed = true
}

func (o *layerObserver) sink() *layerSink {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.video
}

// TestSimulcastLayersPerSubscriber publishes three layers, the largest
// first in the SDP, to two subscribers and an observer. Both subscribers
// receive one video track of the publisher, on the top layer while their
// estimate allows it; the one whose estimate drops moves down to the
// bottom layer at once and back up once the estimate has allowed it for
// upHold, switching at keyframes only, with sequence numbers,
// timestamps and picture IDs continuous, and its audio unbroken. The
// observer (the recorder) records the top layer.
func TestSimulcastLayersPerSubscriber(t *testing.T) {
	s := newTestSFU(t, -1)
	obs := &layerObserver{}
	stop, err := s.Observe("r", obs)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	api := clientAPI(t)
	bob := join(t, s, api, "r", "bob")
	carol := join(t, s, api, "r", "carol")
	bob.logMedia.Store(true)
	carol.logMedia.Store(true)
	alice := join(t, s, newClientAPI(t, true), "r", "alice")
	// About 850, 270 and 100 kbit/s on the wire: the initial estimate
	// (1 Mbit/s, no feedback from these clients) allows the top layer.
	full := &sendLayer{rid: "f", id: 'f', perFrame: 2, size: 1000}
	half := &sendLayer{rid: "h", id: 'h', perFrame: 1, size: 600}
	quarter := &sendLayer{rid: "q", id: 'q', perFrame: 1, size: 200}
	alice.publishSimulcast(full, half, quarter)

	onLayer := func(c *client, layer byte, min int) func() bool {
		return func() bool {
			r := c.track("alice", webrtc.RTPCodecTypeVideo)
			if r == nil {
				return false
			}
			got := r.logged()
			n := 0
			for i := len(got) - 1; i >= 0 && got[i].layer == layer; i-- {
				n++
			}
			return n >= min
		}
	}
	for _, c := range []*client{bob, carol} {
		waitFor(t, c.id+" on the top layer", mediaWait, onLayer(c, 'f', 50))
	}

	bob.p.estOverride.Store(200_000)
	lowered := time.Now()
	waitFor(t, "bob moved down", 5*time.Second, onLayer(bob, 'q', 20))
	if carol.lastLayer("alice") != 'f' {
		t.Errorf("carol moved to layer %c with bob", carol.lastLayer("alice"))
	}

	bob.p.estOverride.Store(50_000_000)
	raised := time.Now()
	waitFor(t, "bob back up", upHold+5*time.Second, onLayer(bob, 'f', 20))
	waitFor(t, "observer's video", mediaWait, func() bool { return obs.sink() != nil && len(obs.sink().snapshot()) > 100 })
	alice.close() // stop sending before the streams are read

	got := bob.track("alice", webrtc.RTPCodecTypeVideo).logged()
	layers := string(checkStream(t, got))
	if layers != "fqf" && layers != "hfqf" && layers != "qfqf" {
		t.Errorf("bob's layers %q, want f (after a provisional first layer) q f (stats %+v)", layers, s.Stats())
	}
	for _, p := range got {
		if p.layer == 'f' && p.at.After(raised) {
			d := p.at.Sub(raised)
			t.Logf("bob: %d packets, layers %q, back on the top layer %v after the estimate allowed it", len(got), layers, d)
			if d < upHold-100*time.Millisecond {
				t.Errorf("bob back on the top layer %v after the estimate allowed it, want %v at least", d, upHold)
			}
			break
		}
	}
	carolGot := carol.track("alice", webrtc.RTPCodecTypeVideo).logged()
	if layers := string(checkStream(t, carolGot)); layers[len(layers)-1] != 'f' || len(layers) > 2 {
		t.Errorf("carol's layers %q, want f", layers)
	}
	audio := bob.track("alice", webrtc.RTPCodecTypeAudio).logged()
	if len(audio) < 100 {
		t.Errorf("bob got %d audio packets", len(audio))
	}
	// Unbroken: every packet alice sent, one after the other (the SFU
	// would number on across a dropped packet, but its timestamp would
	// jump), from before bob moved down until after he moved back up.
	for i := 1; i < len(audio); i++ {
		if audio[i].seq != audio[i-1].seq+1 || audio[i].ts != audio[i-1].ts+960 {
			t.Errorf("bob's audio: packet %d/%d after %d/%d, want the next 20 ms", audio[i].seq, audio[i].ts, audio[i-1].seq, audio[i-1].ts)
		}
	}
	if len(audio) > 0 && (audio[0].at.After(lowered) || audio[len(audio)-1].at.Before(raised.Add(upHold))) {
		t.Errorf("bob's audio from %v to %v, not across the switches", audio[0].at, audio[len(audio)-1].at)
	}
	for _, c := range []*client{bob, carol} {
		if v, a := c.tracksFrom("alice", webrtc.RTPCodecTypeVideo), c.tracksFrom("alice", webrtc.RTPCodecTypeAudio); v != 1 || a != 1 {
			t.Errorf("%s got %d video and %d audio tracks of alice, want 1 and 1", c.id, v, a)
		}
	}
	if quarter.plis.Load() == 0 || full.plis.Load() == 0 {
		t.Errorf("keyframe requests: f %d, h %d, q %d", full.plis.Load(), half.plis.Load(), quarter.plis.Load())
	}

	// The observer: one video track, the top layer from the start.
	obs.mu.Lock()
	var videos int
	for _, info := range obs.infos {
		if info.Kind == "video" {
			videos++
			if !info.Simulcast || info.Participant != "alice" {
				t.Errorf("observer's track info %+v", info)
			}
		}
	}
	obs.mu.Unlock()
	if videos != 1 {
		t.Errorf("observer got %d video tracks, want 1", videos)
	}
	// The top layer from the start, unless it came later than
	// observeSettle after the first (a loaded machine): then the
	// observer starts on the first and moves up once, at a keyframe.
	if layers := string(checkStream(t, obs.sink().snapshot())); layers != "f" && (len(layers) != 2 || layers[1] != 'f') {
		t.Errorf("observer's layers %q, want f (after a provisional first layer at most)", layers)
	}
	if st := s.Stats(); st.LayerSwitches < 2 {
		t.Errorf("stats %+v: want 2 layer switches at least", st)
	}
}
