package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// sink receives what every client measures.
type sink struct {
	counters  counters
	latAll    histogram // every stamped packet, for the progress line
	latWindow histogram // stamped packets of the measurement window
	measuring atomic.Bool
	joined    atomic.Int64 // clients that received "joined"
	firsts    atomic.Int64 // clients that received a first frame
}

// newAPI returns the WebRTC API all clients share: default codecs and
// interceptors, plus one counting what is sent. With loopback, candidates
// are gathered on the loopback interface only.
func newAPI(s *sink, loopback bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	ir.Add(sentCounterFactory{s})
	se := webrtc.SettingEngine{}
	if loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// sentCounter counts the RTP packets and bytes a client writes (after
// packetization, before SRTP).
type sentCounterFactory struct{ s *sink }

func (f sentCounterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &sentCounter{s: f.s}, nil
}

type sentCounter struct {
	interceptor.NoOp
	s *sink
}

func (c *sentCounter) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		n, err := w.Write(h, payload, a)
		if err == nil {
			c.s.counters.sentPackets.Add(1)
			c.s.counters.sentBytes.Add(uint64(h.MarshalSize() + len(payload)))
		}
		return n, err
	})
}

// clientConfig is what a client sends.
type clientConfig struct {
	api        *webrtc.API
	sink       *sink
	videoBytes int // per frame
	fps        int
	keyEvery   time.Duration
	audioBytes int  // per 20 ms packet
	simulcast  bool // video as numLayers simulcast layers
}

// Simulcast: with --simulcast a client sends its video as three layers,
// 1/4, 1/2 and all of the video bitrate, at the same frame rate, each
// with its own keyframes (at start, every keyEvery and on a PLI for its
// SSRC), negotiated with RIDs like a browser's (a=rid, a=simulcast) and
// carrying the mid and rid header extensions. Every frame is stamped as
// without simulcast and also names its layer, so receivers count what
// they get of each.
const numLayers = 3

// layerRIDs are the layers' RIDs, lowest first, as browsers name them.
var layerRIDs = [numLayers]string{"q", "h", "f"}

// pubLayer is one simulcast layer a client sends.
type pubLayer struct {
	idx       int
	rid       string
	track     *webrtc.TrackLocalStaticRTP
	pk        rtp.Packetizer
	bytes     int // per frame
	keyWanted atomic.Bool
	lastKey   time.Time // sendMedia only
}

// simExt is what a simulcast sender puts in every packet's header
// extensions, known once the publish answer is applied.
type simExt struct {
	mid          string
	midID, ridID uint8
}

// client is one synthetic participant: a websocket, a publish connection
// sending stamped VP8 and Opus, and a subscribe connection receiving
// everyone else.
type client struct {
	cfg     clientConfig
	name    string
	session string
	ws      *websocket.Conn
	wmu     sync.Mutex // guards writes to ws

	pub, sub     *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticSample
	layers       []*pubLayer       // with simulcast, instead of video
	videoSender  *webrtc.RTPSender // of the layers
	simExt       atomic.Pointer[simExt]

	keyframeWanted atomic.Bool
	pending        map[string][]webrtc.ICECandidateInit // read loop only

	started   time.Time // the join began
	firstOnce sync.Once
	joinTime  atomic.Int64 // nanoseconds from started to the first frame; 0 before
	bye       chan struct{}
	byeOnce   sync.Once
	errs      chan error // asynchronous faults, the first few

	mu      sync.Mutex // guards closed, senders and wg.Add after close
	closed  bool
	senders map[string]*senderStats

	done chan struct{}
	wg   sync.WaitGroup
}

// senderStats is what one client received from one sender.
type senderStats struct {
	packets, bytes atomic.Uint64
	video          atomic.Bool  // a video packet arrived
	layer          atomic.Int32 // simulcast layer of the last video frame + 1; 0: none
}

// joinAnswer is the part of POST /api/v1/join's answer a client uses.
type joinAnswer struct {
	JoinToken string `json:"join_token"`
	WSURL     string `json:"ws_url"`
	Session   struct {
		ID string `json:"id"`
	} `json:"session"`
	Participant struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"participant"`
}

// join enters the session of invite: it exchanges the invite for a join
// token, joins over the websocket and starts publishing and receiving.
func join(ctx context.Context, ap *apiClient, invite string, cfg clientConfig) (*client, error) {
	c := &client{cfg: cfg, started: time.Now(), bye: make(chan struct{}), errs: make(chan error, 4),
		senders: map[string]*senderStats{}, done: make(chan struct{}), pending: map[string][]webrtc.ICECandidateInit{}}
	var a joinAnswer
	if err := ap.post(ctx, "/api/v1/join", map[string]string{"invite": invite}, &a); err != nil {
		return nil, fmt.Errorf("join token: %w", err)
	}
	c.name, c.session = a.Participant.Name, a.Session.ID
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, a.WSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("websocket %s: %w", a.WSURL, err)
	}
	c.ws = ws
	if err := c.enter(ctx, a.JoinToken); err != nil {
		c.close(false)
		return nil, err
	}
	cfg.sink.joined.Add(1)
	return c, nil
}

// enter sends join, waits for joined and starts the peer connections.
func (c *client) enter(ctx context.Context, token string) error {
	if err := c.send(map[string]any{"type": "join", "version": 1, "token": token, "consent": true}); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.ws.SetReadDeadline(deadline)
	for {
		var m struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := c.ws.ReadJSON(&m); err != nil {
			return fmt.Errorf("waiting for joined: %w", err)
		}
		if m.Type == "joined" {
			break
		}
		if m.Type == "error" || m.Type == "bye" {
			return fmt.Errorf("join refused: %s %s", m.Code, m.Message)
		}
	}
	_ = c.ws.SetReadDeadline(time.Time{})
	if err := c.startPeers(); err != nil {
		return err
	}
	c.goRun(c.readLoop)
	return nil
}

// goRun runs f in a goroutine the client waits for on close, unless the
// client is already closing.
func (c *client) goRun(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

func (c *client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *client) send(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// fault notes an asynchronous error unless the client is closing.
func (c *client) fault(err error) {
	if err == nil || c.isClosed() || errors.Is(err, webrtc.ErrConnectionClosed) {
		return
	}
	select {
	case c.errs <- fmt.Errorf("%s: %w", c.name, err):
	default:
	}
}

func (c *client) startPeers() error {
	var err error
	if c.pub, err = c.cfg.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	if c.sub, err = c.cfg.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return err
	}
	if c.cfg.simulcast {
		if err := c.addLayers(); err != nil {
			return err
		}
	} else {
		if c.video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "load"); err != nil {
			return err
		}
		s, err := c.pub.AddTrack(c.video)
		if err != nil {
			return err
		}
		c.goRun(func() { c.readRTCP(s) })
	}
	if c.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "load"); err != nil {
		return err
	}
	s, err := c.pub.AddTrack(c.audio)
	if err != nil {
		return err
	}
	c.goRun(func() { c.readRTCP(s) })
	c.pub.OnICECandidate(func(cand *webrtc.ICECandidate) { c.trickle("publish", cand) })
	c.sub.OnICECandidate(func(cand *webrtc.ICECandidate) { c.trickle("subscribe", cand) })
	c.sub.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.goRun(func() { c.receive(tr) })
	})
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := c.pub.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := c.send(map[string]any{"type": "publish", "sdp": offer.SDP}); err != nil {
		return err
	}
	c.goRun(c.sendMedia)
	return nil
}

// addLayers adds the video track as numLayers simulcast encodings (pion's
// simulcast sender: one TrackLocalStaticRTP per RID on one RTPSender).
func (c *client) addLayers() error {
	for i := range numLayers {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8},
			"video", "load", webrtc.WithRTPStreamID(layerRIDs[i]))
		if err != nil {
			return err
		}
		c.layers = append(c.layers, &pubLayer{
			idx: i, rid: layerRIDs[i], track: tr,
			// Payload type and SSRC are the sender's: the track sets them.
			pk: rtp.NewPacketizer(1200, 0, 0, &codecs.VP8Payloader{EnablePictureID: true},
				rtp.NewRandomSequencer(), 90000),
			bytes: max(c.cfg.videoBytes>>(numLayers-1-i), minLayerFrame),
		})
	}
	s, err := c.pub.AddTrack(c.layers[0].track)
	if err != nil {
		return err
	}
	for _, l := range c.layers[1:] {
		if err := s.AddEncoding(l.track); err != nil {
			return fmt.Errorf("simulcast encoding %s: %w", l.rid, err)
		}
	}
	c.videoSender = s
	for _, l := range c.layers {
		c.goRun(func() { c.readLayerRTCP(s, l) })
	}
	return nil
}

// noteSimulcast finds, once the publish answer is applied, the mid and the
// ids of the mid and rid header extensions the layers' packets carry.
func (c *client) noteSimulcast() {
	if c.videoSender == nil {
		return
	}
	var e simExt
	for _, h := range c.videoSender.GetParameters().HeaderExtensions {
		switch h.URI {
		case sdp.SDESMidURI:
			e.midID = uint8(h.ID)
		case sdp.SDESRTPStreamIDURI:
			e.ridID = uint8(h.ID)
		}
	}
	for _, tr := range c.pub.GetTransceivers() {
		if tr.Sender() == c.videoSender {
			e.mid = tr.Mid()
		}
	}
	if e.midID == 0 || e.ridID == 0 || e.mid == "" {
		c.fault(errors.New("simulcast refused: the answer has no mid or rid header extension"))
		return
	}
	c.simExt.Store(&e)
}

func (c *client) trickle(pc string, cand *webrtc.ICECandidate) {
	if cand == nil || c.isClosed() {
		return
	}
	if err := c.send(map[string]any{"type": "candidate", "pc": pc, "candidate": cand.ToJSON()}); err != nil {
		c.fault(err)
	}
}

// serverMsg is any message from the server.
type serverMsg struct {
	Type      string                   `json:"type"`
	SDP       string                   `json:"sdp"`
	PC        string                   `json:"pc"`
	Candidate *webrtc.ICECandidateInit `json:"candidate"`
	Code      string                   `json:"code"`
	Message   string                   `json:"message"`
	Reason    string                   `json:"reason"`
}

// readLoop handles server messages until the websocket closes.
func (c *client) readLoop() {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.byeOnce.Do(func() { close(c.bye) })
			if !c.isClosed() {
				c.fault(fmt.Errorf("websocket closed: %w", err))
			}
			return
		}
		var m serverMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.fault(fmt.Errorf("bad frame %q", data))
			continue
		}
		switch m.Type {
		case "answer":
			err := c.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
			if err != nil {
				c.fault(fmt.Errorf("publish answer: %w", err))
			} else if c.cfg.simulcast && c.simExt.Load() == nil {
				c.noteSimulcast()
			}
			c.flushCandidates("publish")
		case "offer":
			c.answer(m.SDP)
		case "candidate":
			if m.Candidate != nil && m.Candidate.Candidate != "" {
				c.addCandidate(m.PC, *m.Candidate)
			}
		case "error":
			c.fault(fmt.Errorf("server error %s: %s", m.Code, m.Message))
		case "bye":
			if m.Reason != "left" {
				c.fault(fmt.Errorf("server said bye: %s", m.Reason))
			}
			c.byeOnce.Do(func() { close(c.bye) })
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
		c.fault(fmt.Errorf("candidate: %w", err))
	}
}

func (c *client) flushCandidates(which string) {
	q := c.pending[which]
	c.pending[which] = nil
	for _, cand := range q {
		c.addCandidate(which, cand)
	}
}

func (c *client) answer(sdp string) {
	if err := c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		c.fault(fmt.Errorf("subscribe offer: %w", err))
		return
	}
	c.flushCandidates("subscribe")
	ans, err := c.sub.CreateAnswer(nil)
	if err == nil {
		err = c.sub.SetLocalDescription(ans)
	}
	if err == nil {
		err = c.send(map[string]any{"type": "answer", "sdp": ans.SDP})
	}
	if err != nil {
		c.fault(fmt.Errorf("subscribe answer: %w", err))
	}
}

// sendMedia sends stamped Opus every 20 ms and stamped VP8 at the frame
// rate, a keyframe at start, every keyEvery and on PLI.
func (c *client) sendMedia() {
	audio := time.NewTicker(20 * time.Millisecond)
	defer audio.Stop()
	frame := time.Second / time.Duration(c.cfg.fps)
	video := time.NewTicker(frame)
	defer video.Stop()
	lastKey := time.Time{}
	for {
		select {
		case <-c.done:
			return
		case <-audio.C:
			now := time.Now()
			if err := c.audio.WriteSample(media.Sample{Data: opusFrame(c.cfg.audioBytes, now.UnixNano()), Duration: 20 * time.Millisecond}); err != nil {
				c.fault(err)
			}
		case <-video.C:
			now := time.Now()
			if c.cfg.simulcast {
				c.sendLayers(now, frame)
				continue
			}
			key := c.keyframeWanted.Swap(false) || now.Sub(lastKey) >= c.cfg.keyEvery
			if key {
				lastKey = now
			}
			if err := c.video.WriteSample(media.Sample{Data: vp8Frame(c.cfg.videoBytes, key, now.UnixNano()), Duration: frame}); err != nil {
				c.fault(err)
			}
		}
	}
}

// sendLayers sends a frame of each simulcast layer, once the answer is
// applied, each RTP packet with the mid and rid header extensions.
func (c *client) sendLayers(now time.Time, frame time.Duration) {
	e := c.simExt.Load()
	if e == nil {
		return
	}
	mid := []byte(e.mid)
	samples := uint32(frame * 90000 / time.Second)
	for _, l := range c.layers {
		key := l.keyWanted.Swap(false) || now.Sub(l.lastKey) >= c.cfg.keyEvery
		if key {
			l.lastKey = now
		}
		for _, p := range l.pk.Packetize(vp8LayerFrame(l.bytes, key, now.UnixNano(), l.idx), samples) {
			if err := p.Header.SetExtension(e.midID, mid); err != nil {
				c.fault(err)
				return
			}
			if err := p.Header.SetExtension(e.ridID, []byte(l.rid)); err != nil {
				c.fault(err)
				return
			}
			if err := l.track.WriteRTP(p); err != nil {
				c.fault(err)
			}
		}
	}
}

// readLayerRTCP reads the RTCP of one simulcast layer (so the
// interceptors run) and asks that layer for a keyframe on PLI or FIR.
func (c *client) readLayerRTCP(s *webrtc.RTPSender, l *pubLayer) {
	buf := make([]byte, 1500)
	for {
		n, _, err := s.ReadSimulcast(buf, l.rid)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				l.keyWanted.Store(true)
			}
		}
	}
}

// readRTCP reads a sender's RTCP (so the interceptors run) and asks for a
// keyframe on PLI or FIR.
func (c *client) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.keyframeWanted.Store(true)
			}
		}
	}
}

// receive reads one remote track until it ends, counting packets, bytes
// and sequence gaps, and measuring the latency of stamped packets.
func (c *client) receive(tr *webrtc.TrackRemote) {
	from := tr.StreamID()
	video := tr.Kind() == webrtc.RTPCodecTypeVideo
	c.mu.Lock()
	st := c.senders[from]
	if st == nil {
		st = &senderStats{}
		c.senders[from] = st
	}
	c.mu.Unlock()
	s := c.cfg.sink
	seqs := map[uint32]*seqTracker{} // by SSRC: a track may change it
	layer := -1                      // simulcast layer of the current frame
	buf := make([]byte, 1600)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		p, err := parseRTP(buf[:n])
		if err != nil {
			continue
		}
		st.packets.Add(1)
		st.bytes.Add(uint64(n))
		s.counters.recvPackets.Add(1)
		s.counters.recvBytes.Add(uint64(n))
		t := seqs[p.ssrc]
		if t == nil {
			t = &seqTracker{}
			seqs[p.ssrc] = t
		}
		e0, l0 := t.Expected(), t.Lost()
		t.Add(p.seq)
		s.counters.expected.Add(int64(t.Expected() - e0))
		s.counters.lost.Add(int64(t.Lost()) - int64(l0))
		var sent int64
		var ok bool
		if video {
			st.video.Store(true)
			if l, ok := vp8Layer(p.payload); ok {
				layer = l
				st.layer.Store(int32(l + 1))
			}
			if layer >= 0 {
				s.counters.layers[layer].Add(1)
			}
			sent, ok = vp8Stamp(p.payload)
			if ok {
				c.firstOnce.Do(func() {
					c.joinTime.Store(int64(now.Sub(c.started)))
					s.firsts.Add(1)
				})
			}
		} else {
			sent, ok = opusStamp(p.payload)
		}
		if ok {
			d := time.Duration(now.UnixNano() - sent)
			s.latAll.Record(d)
			if s.measuring.Load() {
				s.latWindow.Record(d)
			}
		}
	}
}

// faults returns the asynchronous errors noted so far.
func (c *client) faults() []error {
	var out []error
	for {
		select {
		case err := <-c.errs:
			out = append(out, err)
		default:
			return out
		}
	}
}

// layersNow adds to on, per simulcast layer, the senders whose last video
// frame this client received was of that layer.
func (c *client) layersNow(on *[numLayers]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.senders {
		if l := st.layer.Load(); l > 0 {
			on[l-1]++
		}
	}
}

// videoSenders is the number of senders whose video this client receives.
func (c *client) videoSenders() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, st := range c.senders {
		if st.video.Load() {
			n++
		}
	}
	return n
}

// close ends the client: with leave, it says so and waits briefly for bye.
func (c *client) close(leave bool) {
	if leave {
		if err := c.send(map[string]any{"type": "leave"}); err == nil {
			select {
			case <-c.bye:
			case <-time.After(2 * time.Second):
			}
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.done)
	_ = c.ws.Close()
	if c.pub != nil {
		_ = c.pub.Close()
	}
	if c.sub != nil {
		_ = c.sub.Close()
	}
	c.wg.Wait()
}
