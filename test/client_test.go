package test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// client is a Go participant: a websocket, a publish connection sending
// synthetic VP8 and Opus, and a subscribe connection that counts what it
// receives per sender.
type client struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
	// base is the node the client joined on; redirectedFrom the node
	// that sent it there, and redirects how many times it was sent.
	base, redirectedFrom string
	redirects            int

	wmu sync.Mutex // guards writes to ws

	pub, sub *webrtc.PeerConnection
	video    *webrtc.TrackLocalStaticSample
	audio    *webrtc.TrackLocalStaticSample

	keyframeWanted atomic.Bool // a PLI arrived: send a keyframe next
	clip           *clip       // real media to send, or nil for synthetic frames
	plis           atomic.Int64
	stopRead       atomic.Bool // stop reading received tracks (a stalled viewer)

	// levels, when set, gives the audio level (RFC 6464) each audio
	// packet carries, as a browser's does; nil sends none.
	levels func() (level uint8, voice bool)

	msgs    chan map[string]any                  // server messages other than negotiation
	pending map[string][]webrtc.ICECandidateInit // remote candidates before the remote description; read loop only

	mu       sync.Mutex // guards the fields below
	recv     map[string]*received
	joinedAt time.Time
	self     string
	closed   bool
	leaving  bool // leave was sent: the server may close at any moment

	done chan struct{}
	wg   sync.WaitGroup
}

// received counts one sender's media at this client.
type received struct {
	videoPackets, audioPackets int
	videoTrackAt               time.Time
	firstKeyframeAt            time.Time
}

func newAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// dial opens the websocket of a join answer.
func dial(t *testing.T, a joinAnswer) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(a.WSURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", a.WSURL, err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// connect joins the session with a fresh token for invite i and starts
// publishing.
func connect(t *testing.T, n *testNode, i int) *client {
	t.Helper()
	return connectTo(t, n.URL(), n.invite(t, i), nil)
}

// connectTo joins the session of an invite on the node at base, sending
// the real clip when one is given.
func connectTo(t *testing.T, base, invite string, media *clip) *client {
	t.Helper()
	return connectWithLevels(t, base, invite, media, nil)
}

// connectWithLevels is connectTo for a client whose audio packets carry
// the audio level levels returns.
func connectWithLevels(t *testing.T, base, invite string, media *clip, levels func() (uint8, bool)) *client {
	t.Helper()
	var a joinAnswer
	if status, raw := postJSON(t, base+"/api/v1/join", map[string]string{"invite": invite}, &a); status != http.StatusOK {
		t.Fatalf("join token: %d %s", status, raw)
	}
	c := &client{t: t, name: a.Participant.Name, ws: dial(t, a), msgs: make(chan map[string]any, 256), clip: media, levels: levels,
		recv: make(map[string]*received), done: make(chan struct{}), pending: map[string][]webrtc.ICECandidateInit{}}
	t.Cleanup(c.close)
	c.send(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true})
	joined := c.readUntil("joined", "redirect")
	if joined["type"] == "redirect" {
		// The room lives on another node (docs/protocol.md): get a join
		// token there and join there, as the web client does.
		c.close()
		to, _ := joined["url"].(string)
		if joined["code"] != "room_elsewhere" || to == "" || to == base || c.redirects >= 3 {
			t.Fatalf("%s: bad redirect %v from %s", c.name, joined, base)
		}
		next := connectWithLevels(t, to, invite, media, levels)
		next.redirects = c.redirects + 1
		next.redirectedFrom = base
		return next
	}
	c.base = base
	c.self = joined["self"].(map[string]any)["id"].(string)
	c.joinedAt = time.Now()
	c.startPeers(webrtc.Configuration{})
	c.wg.Add(1)
	go c.readLoop()
	return c
}

func (c *client) send(v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteJSON(v); err != nil && !c.isClosed() {
		c.errorf("%s: write: %v", c.name, err)
	}
}

// readUntil reads messages until one of the types arrives (before the
// read loop runs). An error message fails the test.
func (c *client) readUntil(types ...string) map[string]any {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.ws.SetReadDeadline(time.Time{})
	for {
		var m map[string]any
		if err := c.ws.ReadJSON(&m); err != nil {
			c.t.Fatalf("%s: waiting for %s: %v", c.name, types, err)
		}
		for _, typ := range types {
			if m["type"] == typ {
				return m
			}
		}
		if m["type"] == "error" {
			c.t.Fatalf("%s: waiting for %s got error %v", c.name, types, m)
		}
	}
}

// errorf fails the test unless the client is being closed: teardown
// races (an offer arriving as the connections close) are no failure.
func (c *client) errorf(format string, args ...any) {
	for _, a := range args {
		// Only this client closes its own connections: such an error is
		// its teardown racing a message, whatever the flag says yet.
		if err, ok := a.(error); ok && errors.Is(err, webrtc.ErrConnectionClosed) {
			return
		}
	}
	if !c.isClosed() {
		c.t.Errorf(format, args...)
	}
}

func (c *client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed || c.leaving
}

// startPeers creates the client's two connections with conf (ICE servers,
// a relay-only policy), starts publishing and sends the publish offer.
func (c *client) startPeers(conf webrtc.Configuration) {
	t := c.t
	api := newAPI(t)
	if c.levels != nil {
		api = newLevelAPI(t, c.levels)
	}
	var err error
	if c.pub, err = api.NewPeerConnection(conf); err != nil {
		t.Fatal(err)
	}
	if c.sub, err = api.NewPeerConnection(conf); err != nil {
		t.Fatal(err)
	}
	c.video, _ = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", c.self)
	c.audio, _ = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", c.self)
	for _, tr := range []*webrtc.TrackLocalStaticSample{c.video, c.audio} {
		s, err := c.pub.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		c.wg.Add(1)
		go c.readRTCP(s)
	}
	c.pub.OnICECandidate(func(cand *webrtc.ICECandidate) { c.trickle("publish", cand) })
	c.sub.OnICECandidate(func(cand *webrtc.ICECandidate) { c.trickle("subscribe", cand) })
	c.sub.OnTrack(c.onTrack)
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pub.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"type": "publish", "sdp": offer.SDP})
	c.wg.Add(1)
	go c.sendMedia()
}

func (c *client) trickle(pc string, cand *webrtc.ICECandidate) {
	if cand == nil {
		return
	}
	c.send(map[string]any{"type": "candidate", "pc": pc, "candidate": cand.ToJSON()})
}

// readLoop handles server messages: negotiation here, the rest to msgs.
func (c *client) readLoop() {
	defer c.wg.Done()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			close(c.msgs)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			c.errorf("%s: bad frame %q", c.name, data)
			continue
		}
		c.handle(m)
	}
}

func (c *client) handle(m map[string]any) {
	switch m["type"] {
	case "answer":
		sdp := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m["sdp"].(string)}
		if err := c.pub.SetRemoteDescription(sdp); err != nil {
			c.errorf("%s: publish answer: %v", c.name, err)
		}
		c.flushCandidates("publish")
	case "offer":
		c.answer(m["sdp"].(string))
	case "candidate":
		var cand struct {
			PC        string                  `json:"pc"`
			Candidate webrtc.ICECandidateInit `json:"candidate"`
		}
		b, _ := json.Marshal(m)
		_ = json.Unmarshal(b, &cand)
		c.addCandidate(cand.PC, cand.Candidate)
	default:
		select {
		case c.msgs <- m:
		default:
		}
	}
}

// addCandidate adds a remote candidate, or queues it until the remote
// description of its connection is set.
func (c *client) addCandidate(which string, cand webrtc.ICECandidateInit) {
	pc := c.pub
	if which == "subscribe" {
		pc = c.sub
	}
	if pc.RemoteDescription() == nil {
		c.pending[which] = append(c.pending[which], cand)
		return
	}
	if err := pc.AddICECandidate(cand); err != nil {
		c.errorf("%s: candidate: %v", c.name, err)
	}
}

// flushCandidates adds the candidates queued for a connection.
func (c *client) flushCandidates(which string) {
	q := c.pending[which]
	c.pending[which] = nil
	for _, cand := range q {
		c.addCandidate(which, cand)
	}
}

func (c *client) answer(sdp string) {
	if err := c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		c.errorf("%s: subscribe offer: %v", c.name, err)
		return
	}
	c.flushCandidates("subscribe")
	ans, err := c.sub.CreateAnswer(nil)
	if err == nil {
		err = c.sub.SetLocalDescription(ans)
	}
	if err != nil {
		c.errorf("%s: subscribe answer: %v", c.name, err)
		return
	}
	c.send(map[string]any{"type": "answer", "sdp": ans.SDP})
}

// onTrack counts packets of a received track by sender (the stream id).
func (c *client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	from := tr.StreamID()
	video := tr.Kind() == webrtc.RTPCodecTypeVideo
	c.mu.Lock()
	r := c.counts(from)
	if video {
		r.videoTrackAt = time.Now()
	}
	c.mu.Unlock()
	buf := make([]byte, 1500)
	var vp8 codecs.VP8Packet
	for {
		if c.stopRead.Load() {
			<-c.done
			return
		}
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		c.count(from, video, buf[:n], &vp8)
	}
}

func (c *client) count(from string, video bool, pkt []byte, vp8 *codecs.VP8Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.counts(from)
	if !video {
		r.audioPackets++
		return
	}
	r.videoPackets++
	if r.firstKeyframeAt.IsZero() && isVP8Keyframe(pkt, vp8) {
		r.firstKeyframeAt = time.Now()
	}
}

// counts returns from's counters; called with mu held.
func (c *client) counts(from string) *received {
	r := c.recv[from]
	if r == nil {
		r = &received{}
		c.recv[from] = r
	}
	return r
}

// got returns a copy of what arrived from a sender.
func (c *client) got(from string) received {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.recv[from]; r != nil {
		return *r
	}
	return received{}
}

// sendMedia sends 30 VP8 frames and 50 Opus frames a second: the real clip
// when the client has one (jumping to its next keyframe on PLI), else
// synthetic frames with a keyframe on start, every 10 s, and on PLI.
func (c *client) sendMedia() {
	if c.clip != nil {
		c.sendClip()
		return
	}
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		_ = c.audio.WriteSample(media.Sample{Data: []byte{0xf8, 0xff, 0xfe}, Duration: 20 * time.Millisecond})
		if i%3 != 0 {
			continue
		}
		key := i%500 == 0 || c.keyframeWanted.Swap(false)
		_ = c.video.WriteSample(media.Sample{Data: vp8Frame(key), Duration: 33 * time.Millisecond})
	}
}

func (c *client) sendClip() {
	defer c.wg.Done()
	audio := time.NewTicker(20 * time.Millisecond)
	defer audio.Stop()
	video := time.NewTicker(time.Second / 30)
	defer video.Stop()
	a, v := 0, 0
	for {
		select {
		case <-c.done:
			return
		case <-audio.C:
			_ = c.audio.WriteSample(media.Sample{Data: c.clip.audio[a%len(c.clip.audio)], Duration: 20 * time.Millisecond})
			a++
		case <-video.C:
			if c.keyframeWanted.Swap(false) {
				v = c.clip.nextKey(v)
			}
			_ = c.video.WriteSample(media.Sample{Data: c.clip.video[v%len(c.clip.video)], Duration: time.Second / 30})
			v++
		}
	}
}

// readRTCP reads a sender's RTCP (so interceptors run) and notes PLIs.
func (c *client) readRTCP(s *webrtc.RTPSender) {
	defer c.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.plis.Add(1)
				c.keyframeWanted.Store(true)
			}
		}
	}
}

// close leaves quietly (without leave: as if the network went away).
func (c *client) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.done)
	c.ws.Close()
	if c.pub != nil {
		_ = c.pub.Close()
	}
	if c.sub != nil {
		_ = c.sub.Close()
	}
	c.wg.Wait()
}

// vp8Frame is a synthetic VP8 frame: a real frame header (key or inter)
// followed by filler. Receivers only inspect the header.
func vp8Frame(key bool) []byte {
	f := make([]byte, 1200)
	if key {
		copy(f, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}) // 320x240
	} else {
		f[0] = 0x51
	}
	for i := 10; i < len(f); i++ {
		f[i] = byte(i)
	}
	return f
}

// isVP8Keyframe reports whether an RTP packet starts a VP8 keyframe.
func isVP8Keyframe(pkt []byte, vp8 *codecs.VP8Packet) bool {
	var p rtp.Packet
	if p.Unmarshal(pkt) != nil {
		return false
	}
	out, err := vp8.Unmarshal(p.Payload)
	if err != nil || vp8.S != 1 || vp8.PID != 0 || len(out) == 0 {
		return false
	}
	return out[0]&0x01 == 0
}
