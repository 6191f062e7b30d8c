package sfu

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Participant is one member of a room.
//
// Its methods are safe for concurrent use. Handler methods are called from
// pion's goroutines (or the SFU's), never while the participant holds a
// lock, so a Handler may call back into the Participant.
type Participant struct {
	id   string
	s    *SFU
	h    Handler
	log  *slog.Logger
	room *room // set by SFU.admit before any callback runs

	pub *conn // publish: the client offers
	sub *conn // subscribe: the SFU offers

	// bwe estimates the subscribe connection's bandwidth (bwe.go);
	// estOverride, when positive, replaces its estimate (tests).
	bwe         *bweGate
	estOverride atomic.Int64

	left   atomic.Bool // Leave was called
	failed atomic.Bool // Handler.Failed was called
	subUp  atomic.Bool // the subscribe connection is connected
	subMu  sync.Mutex  // orders the state handlers' read-and-store of subUp

	// downs are p's subscriptions, one per track of another member of p's
	// group; guarded by room.mu.
	downs map[*forwarder]*downTrack
	// group is p's group in its room ("" is the joint room; see SetGroup);
	// guarded by room.mu.
	group string
	// ctlSims is the controller's scratch list of p's simulcast
	// subscriptions; guarded by room.mu.
	ctlSims []*downTrack

	// screenMid is the mid of the publish connection's screen-share
	// track ("" for none); see SetScreen. Guarded by screenMu.
	screenMu  sync.Mutex
	screenMid string

	// sims groups the layers of each simulcast track p publishes, by
	// receiver (one per published track); guarded by simMu.
	simMu sync.Mutex
	sims  map[*webrtc.RTPReceiver]*simGroup

	negMu        sync.Mutex // guards the fields below: subscribe negotiation
	offerPending bool       // an offer awaits its answer
	dirty        bool       // tracks changed while an offer was pending
	answered     bool       // the first offer was answered
	subConnected bool       // the subscribe connection has been connected
}

// newParticipant builds a participant and its two peer connections.
func newParticipant(s *SFU, pid string, h Handler) (*Participant, error) {
	p := &Participant{
		id: pid, s: s, h: h,
		log:   s.log.With("participant", pid),
		downs: map[*forwarder]*downTrack{},
		sims:  map[*webrtc.RTPReceiver]*simGroup{},
	}
	var err error
	if p.pub, err = newConn(s.apis.pub, Publish, p.log); err != nil {
		return nil, err
	}
	pc, bwe, err := s.apis.bwe.newPeerConnection(func() (*webrtc.PeerConnection, error) {
		return s.apis.sub.NewPeerConnection(webrtc.Configuration{})
	})
	if err != nil {
		p.pub.close()
		return nil, fmt.Errorf("sfu: new %s connection: %w", Subscribe, err)
	}
	p.sub, p.bwe = wrapConn(pc, Subscribe, p.log), bwe
	return p, nil
}

// attachCallbacks connects pion's events to p, once p is in its room.
func (p *Participant) attachCallbacks() {
	for _, c := range []*conn{p.pub, p.sub} {
		c.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			p.onState(c.dir, st)
		})
		c.pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand != nil {
				c.local(p.h, cand.ToJSON())
			}
		})
	}
	p.pub.pc.OnTrack(p.onTrack)
}

// ID returns the participant id given to Join.
func (p *Participant) ID() string { return p.id }

// onState tracks the subscribe connection and reports a failure once.
func (p *Participant) onState(d Direction, st webrtc.PeerConnectionState) {
	p.log.Debug("connection state", "pc", d, "state", st)
	if d == Subscribe {
		// Handlers run in goroutines of their own and may be reordered:
		// read the current state rather than trust st, and read and
		// store under a lock, or a handler that read "connecting" could
		// store its answer after a later one stored "connected", leaving
		// the subscriber deaf for good.
		p.subMu.Lock()
		up := p.sub.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
		p.subUp.Store(up)
		p.subMu.Unlock()
		if up {
			p.subscribeConnected()
		}
	}
	if st != webrtc.PeerConnectionStateFailed || p.left.Load() || !p.failed.CompareAndSwap(false, true) {
		return
	}
	err := fmt.Errorf("%w: %s connection of %q", ErrConnectionFailed, d, p.id)
	p.log.Warn("connection failed", "pc", d)
	p.s.spawn(func() { p.h.Failed(err) })
}

// onTrack forwards a track the client publishes, until it ends.
func (p *Participant) onTrack(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	if !p.s.enter() {
		return
	}
	defer p.s.wg.Done()
	if t.RID() != "" && t.Kind() == webrtc.RTPCodecTypeVideo {
		p.onLayer(t, recv)
		return
	}
	ssrc := uint32(t.SSRC())
	f := newForwarder(t.ID(), t.Codec().RTPCodecCapability, func() {
		pli := []rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}
		p.s.plisOut.Add(1)
		if err := p.pub.pc.WriteRTCP(pli); err != nil {
			p.log.Debug("keyframe request failed", "track", t.ID(), "err", err)
		}
	})
	f.pub = p
	if t.Kind() == webrtc.RTPCodecTypeAudio {
		f.levelID = audioLevelID(recv.GetParameters())
	}
	f.info = TrackInfo{
		Participant: p.id, TrackID: t.ID(), StreamID: t.StreamID(),
		Kind: t.Kind().String(), Codec: t.Codec(), Screen: p.isScreen(t, recv),
	}
	log := p.log.With("track", t.ID(), "kind", t.Kind(), "codec", f.codec.MimeType, "screen", f.info.Screen)
	if !p.room.publish(f) {
		return
	}
	log.Info("track published")
	if f.pli != nil {
		p.s.spawn(f.pliLoop)
	}
	p.s.spawn(func() { readRTCP(recv, ssrc, f.senderReport) })
	f.readLoop(func(b []byte) (int, error) {
		n, _, err := t.Read(b)
		return n, err
	})
	p.room.unpublish(f)
	log.Info("track ended")
}

// SetScreen names the mid of the publish connection's screen-share track
// ("" for none) in the offers given to Publish from now on. Only one
// track is the screen: a video track that arrives on that mid is
// forwarded as the participant's screen, under the stream id
// ScreenStreamID instead of the participant's id, and observers see
// TrackInfo.Screen; the participant's other tracks are their camera and
// microphone. A track keeps what it was when it arrived.
func (p *Participant) SetScreen(mid string) {
	p.screenMu.Lock()
	p.screenMid = mid
	p.screenMu.Unlock()
}

// ScreenStreamID is the stream id a participant's screen share is
// forwarded under: their id followed by "~screen" (a token character, as
// the msid grammar wants), while their camera and microphone are
// forwarded under their id alone.
func ScreenStreamID(pid string) string { return pid + screenSuffix }

const screenSuffix = "~screen"

// isScreen reports whether the track t arriving on recv is the screen
// share SetScreen named.
func (p *Participant) isScreen(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) bool {
	p.screenMu.Lock()
	mid := p.screenMid
	p.screenMu.Unlock()
	if mid == "" || t.Kind() != webrtc.RTPCodecTypeVideo {
		return false
	}
	for _, tr := range p.pub.pc.GetTransceivers() {
		if tr.Receiver() == recv {
			return tr.Mid() == mid
		}
	}
	return false
}

// simGroup is a simulcast track being published: its forwarder and how
// many of its layers are being read.
type simGroup struct {
	f    *forwarder
	live int
}

// onLayer forwards one layer of a simulcast track, until it ends. The
// first layer to arrive publishes the track; the last to end unpublishes
// it.
func (p *Participant) onLayer(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	ssrc, rid := uint32(t.SSRC()), t.RID()
	sendPLI := func() {
		pli := []rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}
		p.s.plisOut.Add(1)
		if err := p.pub.pc.WriteRTCP(pli); err != nil {
			p.log.Debug("keyframe request failed", "track", t.ID(), "rid", rid, "err", err)
		}
	}
	p.simMu.Lock()
	g := p.sims[recv]
	first := g == nil
	if first {
		f := newSimulcastForwarder(t.ID(), t.Codec().RTPCodecCapability, ssrc)
		f.pub = p
		f.info = TrackInfo{
			Participant: p.id, TrackID: t.ID(), StreamID: t.StreamID(),
			Kind: t.Kind().String(), Codec: t.Codec(), Simulcast: true, Screen: p.isScreen(t, recv),
		}
		f.sim.offer.Store(int32(min(len(recv.Tracks()), maxLayers))) // one per a=rid
		g = &simGroup{f: f}
		p.sims[recv] = g
		p.s.simulcasts.Add(1)
	}
	f := g.f
	l := f.sim.add(rid, ssrc, sendPLI)
	if l != nil {
		g.live++
	}
	p.simMu.Unlock()
	log := p.log.With("track", t.ID(), "kind", t.Kind(), "codec", f.codec.MimeType, "rid", rid)
	if l == nil {
		log.Warn("simulcast layer ignored: too many layers")
		discard(t)
		return
	}
	published := !first || p.room.publish(f)
	if published {
		log.Info("simulcast layer published", "ssrc", ssrc, "offered", f.sim.offer.Load())
		p.s.spawn(func() { l.pliLoop(f.done) })
		p.s.spawn(func() { readLayerRTCP(recv, rid, ssrc, func(sr *senderReport) { f.layerReport(l, sr) }) })
		f.readLayer(l, func(b []byte) (int, error) {
			n, _, err := t.Read(b)
			return n, err
		})
	}
	l.ended.Store(true)
	p.simMu.Lock()
	g.live--
	last := g.live == 0
	if last && p.sims[recv] == g {
		delete(p.sims, recv)
	}
	p.simMu.Unlock()
	if last {
		p.room.unpublish(f)
		f.stop()
		p.s.simulcasts.Add(-1)
		log.Info("simulcast track ended")
	}
}

// discard reads a track that is not forwarded until it ends, so its
// packets do not pile up in pion's buffer.
func discard(t *webrtc.TrackRemote) {
	buf := make([]byte, slotSize)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}

// readLayerRTCP is readRTCP for the layer rid of a simulcast receiver.
func readLayerRTCP(recv *webrtc.RTPReceiver, rid string, ssrc uint32, report func(*senderReport)) {
	buf := make([]byte, slotSize)
	for {
		n, _, err := recv.ReadSimulcast(buf, rid)
		if err != nil {
			return
		}
		if sr, ok := parseSenderReport(buf[:n], ssrc); ok {
			report(&sr)
		}
	}
}

// audioLevelID is the id the publisher gave the audio level header
// extension (RFC 6464), 0 when it was not negotiated.
func audioLevelID(params webrtc.RTPParameters) uint8 {
	for _, e := range params.HeaderExtensions {
		if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 256 {
			return uint8(e.ID)
		}
	}
	return 0
}

// readRTCP reads a receiver's incoming RTCP so the interceptors see it,
// until the receiver stops, and hands the sender reports of the media
// stream ssrc (not those of its retransmission stream) to report.
func readRTCP(recv *webrtc.RTPReceiver, ssrc uint32, report func(*senderReport)) {
	buf := make([]byte, slotSize)
	for {
		n, _, err := recv.Read(buf)
		if err != nil {
			return
		}
		if sr, ok := parseSenderReport(buf[:n], ssrc); ok {
			report(&sr)
		}
	}
}

// subscribe adds a track forwarding f to p's subscribe connection and starts
// its writer. The caller holds room.mu and renegotiates.
func (p *Participant) subscribe(f *forwarder) (*downTrack, error) {
	stream := f.pub.id
	if f.info.Screen {
		stream = ScreenStreamID(f.pub.id)
	}
	rtpTrack, err := webrtc.NewTrackLocalStaticRTP(f.codec, f.id, stream)
	if err != nil {
		return nil, fmt.Errorf("sfu: new local track: %w", err)
	}
	lt := &localTrack{TrackLocalStaticRTP: rtpTrack}
	sender, err := p.sub.pc.AddTrack(lt)
	if err != nil {
		return nil, fmt.Errorf("sfu: add track: %w", err)
	}
	d := newDownTrack(f, lt, func() bool { return lt.bound.Load() && p.subUp.Load() })
	d.sub, d.sender = p, sender
	p.s.spawn(d.writeLoop)
	p.s.spawn(d.rtcpLoop)
	return d, nil
}

// unsubscribe stops d, removes its track from p's subscribe connection and
// renegotiates. d must no longer be among p's downs nor its forwarder's
// subscribers.
func (p *Participant) unsubscribe(d *downTrack) {
	if p.dropTrack(d) {
		p.renegotiate()
	}
}

// dropTrack is unsubscribe without the renegotiation: it stops d, retires
// its counters and removes its track from p's subscribe connection. False
// means p left, so there is nothing to renegotiate.
func (p *Participant) dropTrack(d *downTrack) bool {
	p.s.retire(d)
	if p.left.Load() {
		return false
	}
	if err := p.sub.pc.RemoveTrack(d.sender); err != nil {
		p.log.Debug("remove track failed", "track", d.fwd.id, "err", err)
	}
	return true
}

// Leave closes both connections, removes the participant's tracks from every
// other participant and removes the participant from the room. Idempotent.
func (p *Participant) Leave() {
	if !p.left.CompareAndSwap(false, true) {
		return
	}
	pubs, downs := p.s.remove(p)
	for _, d := range downs {
		p.s.retire(d)
	}
	for _, f := range pubs {
		p.room.unpublish(f)
	}
	p.closeConns()
	p.log.Debug("left")
}

// closeConns closes both peer connections and waits for pion to wind them
// down.
func (p *Participant) closeConns() {
	var wg sync.WaitGroup
	wg.Go(p.pub.close)
	wg.Go(p.sub.close)
	wg.Wait()
}
