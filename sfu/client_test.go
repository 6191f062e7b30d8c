package sfu

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// newTestSFU starts an SFU on loopback, closed when the test ends.
func newTestSFU(t *testing.T, tcpPort int) *SFU {
	t.Helper()
	s, err := New(Config{ListenIP: "127.0.0.1", TCPPort: tcpPort, Loopback: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// clientAPI is the pion API of the test clients: default codecs, no
// interceptors, loopback only.
func clientAPI(t *testing.T) *webrtc.API { return newClientAPI(t, false) }

// newClientAPI is clientAPI; with simulcast it also registers the header
// extensions a simulcast sender puts on its packets (mid, rid), as
// browsers do.
func newClientAPI(t *testing.T, simulcast bool) *webrtc.API {
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
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
}

// received is what a client got of one forwarded track.
type received struct {
	streamID  string
	kind      webrtc.RTPCodecType
	arrived   time.Time // OnTrack
	packets   atomic.Int64
	keyframes atomic.Int64
	firstKey  atomic.Int64 // unix nanos of the first keyframe packet
	ended     atomic.Bool

	mu  sync.Mutex   // guards log
	log []sentPacket // every packet, if the client logs (see client.logMedia)
}

// logged returns the logged packets.
func (r *received) logged() []sentPacket {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentPacket(nil), r.log...)
}

// client is an in-process participant: it publishes a VP8 and an Opus track
// and answers the SFU's subscribe offers. All signaling runs on one loop
// goroutine, like a websocket reader would.
type client struct {
	t      *testing.T
	id     string
	p      *Participant
	pub    *webrtc.PeerConnection
	sub    *webrtc.PeerConnection
	video  *webrtc.TrackLocalStaticSample
	audio  *webrtc.TrackLocalStaticSample
	events chan func()
	done   chan struct{}
	wg     sync.WaitGroup

	plis     atomic.Int32 // keyframe requests the publisher received
	forceKey atomic.Bool  // next video frame is a keyframe
	offers   atomic.Int32
	failed   atomic.Int32
	logMedia atomic.Bool  // log every received packet (received.log)
	layers   []*sendLayer // simulcast layers published (simulcast_e2e_test.go)

	mu        sync.Mutex // guards the fields below
	tracks    []*received
	lastOffer string
	pending   map[Direction][]webrtc.ICECandidateInit
}

// Handler, delivered into the client's loop.
func (c *client) Offer(sd webrtc.SessionDescription) { c.events <- func() { c.onOffer(sd) } }
func (c *client) Candidate(d Direction, ci webrtc.ICECandidateInit) {
	c.events <- func() { c.onCandidate(d, ci) }
}
func (c *client) Failed(error) { c.failed.Add(1) }

// join creates a client, joins it to room and starts its loop.
func join(t *testing.T, s *SFU, api *webrtc.API, room, id string) *client {
	t.Helper()
	c := &client{
		t: t, id: id, events: make(chan func(), 1024), done: make(chan struct{}),
		pending: map[Direction][]webrtc.ICECandidateInit{},
	}
	var err error
	if c.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if c.sub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if c.p, err = s.Join(room, id, c); err != nil {
		t.Fatal(err)
	}
	c.pub.OnICECandidate(c.trickle(Publish))
	c.sub.OnICECandidate(c.trickle(Subscribe))
	c.sub.OnTrack(c.onTrack)
	c.wg.Go(c.loop)
	t.Cleanup(c.close)
	return c
}

func (c *client) trickle(d Direction) func(*webrtc.ICECandidate) {
	return func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		if err := c.p.AddCandidate(d, cand.ToJSON()); err != nil && !errors.Is(err, ErrLeft) {
			c.t.Errorf("%s: add %s candidate: %v", c.id, d, err)
		}
	}
}

func (c *client) loop() {
	for {
		select {
		case <-c.done:
			return
		case fn := <-c.events:
			fn()
		}
	}
}

// do runs fn on the client's loop and waits for it.
func (c *client) do(fn func()) {
	ran := make(chan struct{})
	c.events <- func() { fn(); close(ran) }
	<-ran
}

func (c *client) onOffer(sd webrtc.SessionDescription) {
	c.offers.Add(1)
	c.mu.Lock()
	c.lastOffer = sd.SDP
	c.mu.Unlock()
	if err := c.sub.SetRemoteDescription(sd); err != nil {
		if !c.closing() {
			c.t.Errorf("%s: set offer: %v", c.id, err)
		}
		return
	}
	c.flush(Subscribe, c.sub)
	answer, err := c.sub.CreateAnswer(nil)
	if err == nil {
		err = c.sub.SetLocalDescription(answer)
	}
	if err == nil {
		err = c.p.Answer(answer)
	}
	if err != nil && !c.closing() {
		c.t.Errorf("%s: answer: %v", c.id, err)
	}
}

// closing reports whether the client is shutting down: it left, or the SFU
// closed its connections (pion closes a connection on DTLS close_notify).
func (c *client) closing() bool {
	return c.p.left.Load() || c.sub.ConnectionState() == webrtc.PeerConnectionStateClosed
}

func (c *client) onCandidate(d Direction, ci webrtc.ICECandidateInit) {
	pc := c.pub
	if d == Subscribe {
		pc = c.sub
	}
	if pc.RemoteDescription() == nil {
		c.pending[d] = append(c.pending[d], ci)
		return
	}
	if err := pc.AddICECandidate(ci); err != nil {
		c.t.Errorf("%s: add server %s candidate: %v", c.id, d, err)
	}
}

func (c *client) flush(d Direction, pc *webrtc.PeerConnection) {
	for _, ci := range c.pending[d] {
		if err := pc.AddICECandidate(ci); err != nil {
			c.t.Errorf("%s: add queued %s candidate: %v", c.id, d, err)
		}
	}
	c.pending[d] = nil
}

// publish adds a VP8 and an Opus track, negotiates and starts sending.
func (c *client) publish() {
	c.t.Helper()
	var err error
	c.video, err = webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video-"+c.id, "cam-"+c.id)
	if err != nil {
		c.t.Fatal(err)
	}
	c.audio, err = webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio-"+c.id, "cam-"+c.id)
	if err != nil {
		c.t.Fatal(err)
	}
	vs, err := c.pub.AddTrack(c.video)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.pub.AddTrack(c.audio); err != nil {
		c.t.Fatal(err)
	}
	c.wg.Go(func() { c.readPLI(vs) })
	c.do(func() { err = c.negotiatePublish() })
	if err != nil {
		c.t.Fatal(err)
	}
	c.forceKey.Store(true)
	c.wg.Go(c.send)
}

func (c *client) negotiatePublish() error {
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := c.pub.SetLocalDescription(offer); err != nil {
		return err
	}
	answer, err := c.p.Publish(offer)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := c.pub.SetRemoteDescription(answer); err != nil {
		return err
	}
	c.flush(Publish, c.pub)
	return nil
}

// readPLI counts keyframe requests and answers them with a keyframe.
func (c *client) readPLI(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		if wantsKeyframe(buf[:n]) {
			c.plis.Add(1)
			c.forceKey.Store(true)
		}
	}
}

// send writes a VP8 frame and an Opus frame every 20 ms. Only the first
// frame and frames after a keyframe request are keyframes.
func (c *client) send() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	frame := make([]byte, 300)
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		frame[0] = 0x01
		if c.forceKey.Swap(false) {
			frame[0] = 0x00
		}
		_ = c.video.WriteSample(media.Sample{Data: frame, Duration: 20 * time.Millisecond})
		_ = c.audio.WriteSample(media.Sample{Data: []byte{0xfc, 1, 2, 3}, Duration: 20 * time.Millisecond})
	}
}

func (c *client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	r := &received{streamID: tr.StreamID(), kind: tr.Kind(), arrived: time.Now()}
	c.mu.Lock()
	c.tracks = append(c.tracks, r)
	c.mu.Unlock()
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			r.ended.Store(true)
			return
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		r.packets.Add(1)
		if c.logMedia.Load() {
			sp, _ := parseSent(buf[:n])
			sp.seq, sp.ts, sp.at = p.SequenceNumber, p.Timestamp, time.Now()
			r.mu.Lock()
			r.log = append(r.log, sp)
			r.mu.Unlock()
		}
		if r.kind == webrtc.RTPCodecTypeVideo && vp8Keyframe(p.Payload) {
			r.keyframes.Add(1)
			r.firstKey.CompareAndSwap(0, time.Now().UnixNano())
		}
	}
}

// track returns the live track of kind from publisher pid, or nil.
func (c *client) track(pid string, kind webrtc.RTPCodecType) *received {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.tracks) - 1; i >= 0; i-- {
		if r := c.tracks[i]; r.streamID == pid && r.kind == kind {
			return r
		}
	}
	return nil
}

// receiving reports whether c gets packets of kind from pid.
func (c *client) receiving(pid string, kind webrtc.RTPCodecType, min int64) bool {
	r := c.track(pid, kind)
	return r != nil && r.packets.Load() >= min
}

// close leaves and closes the client's connections.
func (c *client) close() {
	c.p.Leave()
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	_ = c.pub.GracefulClose()
	_ = c.sub.GracefulClose()
	c.wg.Wait()
}
