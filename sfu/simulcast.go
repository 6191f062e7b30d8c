package sfu

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// Simulcast. A publisher may send one video track as up to three RTP
// streams, its layers, each with its own SSRC and RID (RFC 8853): the same
// picture at different sizes and bitrates. pion calls OnTrack once per
// layer; the layers of one track are grouped into one forwarder (its sim
// field is set), so subscribers and observers see one track per published
// track, as without simulcast.
//
// Each layer has its own reader goroutine, which fans its packets out to
// the forwarder's subscribers. A subscriber receives one layer at a time:
// its downTrack forwards the layer it is on (cur) and, when the allocation
// wants another (tgt), asks that layer for a keyframe (a PLI for the
// layer's SSRC, throttled per layer like every PLI) and switches at the
// first keyframe of it, forwarding the old layer until then. Across
// switches the subscriber sees one stream: sequence numbers continue
// without a hole, RTP timestamps continue (the new layer's are offset so
// that its first packet follows the last one sent by the wall-clock time
// between the two), and for VP8 the picture ID and TL0PICIDX continue too
// (rewritten in the queued copy, without allocating).
//
// Since two readers (the current and the target layer's) may push into one
// subscriber's queue, the simulcast path takes the subscriber's lock per
// packet of those two layers (uncontended but for the moments of a
// switch); packets of other layers are skipped after two atomic loads.
// Tracks without simulcast keep the lock-free path.
//
// Layers are ranked by the bitrate the SFU measures over the last second,
// not by their RIDs or their order in the SDP, counting media only (not
// the padding-only packets a browser sends to probe the bandwidth); a
// layer that sent no media for a second (a browser pauses its top layers
// when its uplink or CPU cannot keep up) is out of the ranking until it
// resumes. Every controlInterval the controller (control.go) measures the
// layers and chooses each subscriber's layer from its connection's
// bandwidth estimate; observers (the recorder) get the layer with the
// largest picture (see recordTop).

// maxLayers is the most layers a published track may have (the RIDs beyond
// the third are read and dropped).
const maxLayers = 3

// epoch is the origin of the monotonic packet times of the simulcast path.
var epoch = time.Now()

// monoNow is the monotonic time in nanoseconds since epoch.
func monoNow() int64 { return int64(time.Since(epoch)) }

// layer is one RTP stream of a simulcast track.
type layer struct {
	idx     int    // slot in simulcast.layers
	rid     string // the publisher's RID
	ssrc    uint32
	bytes   atomic.Uint64 // of media received, for the bitrate
	pixels  atomic.Uint32 // picture size of its last keyframe (VP8), 0 if unknown
	ended   atomic.Bool   // its reader stopped
	lastSR  atomic.Pointer[senderReport]
	pli     chan struct{} // capacity 1: a keyframe is wanted
	sendPLI func()

	// Reader state.
	havePrev   bool
	prevMarker bool
	prevTS     uint32

	// Controller state, guarded by room.mu.
	lastBytes uint64
	win       [rateWindow]uint64 // bytes per control interval
	ticks     int                // control intervals measured
	rate      int64              // bit/s over the window
}

// requestKeyframe asks for a keyframe of this layer; requests coalesce and
// the layer's PLI goroutine rate-limits them. It never blocks.
func (l *layer) requestKeyframe() {
	select {
	case l.pli <- struct{}{}:
	default:
	}
}

// ranking lists layer slots from the lowest bitrate to the highest: the
// count in the low 4 bits, then 4 bits per slot.
type ranking uint32

func makeRanking(slots []int) ranking {
	r := ranking(len(slots))
	for i, s := range slots {
		r |= ranking(s) << (4 + 4*i)
	}
	return r
}

// n is the number of ranked layers.
func (r ranking) n() int { return int(r & 0xf) }

// at is the slot of the i-th lowest layer.
func (r ranking) at(i int) int32 { return int32(r>>(4+4*i)) & 0xf }

// pos is the rank of slot, or -1 when it is not ranked.
func (r ranking) pos(slot int32) int {
	for i := range r.n() {
		if r.at(i) == slot {
			return i
		}
	}
	return -1
}

// simulcast is what a forwarder of a simulcast track adds.
type simulcast struct {
	layers [maxLayers]atomic.Pointer[layer]
	ssrc   uint32 // the forwarded stream's SSRC as observers see it
	vp8    bool   // rewrite VP8 picture IDs

	order atomic.Uint32 // a ranking
	known atomic.Bool   // order is measured, not provisional
	since atomic.Int64  // when the first layer arrived (monoNow)
	have  atomic.Int32  // layers arrived
	offer atomic.Int32  // layers the publisher offered (a=rid), 0 if unknown

	mu    sync.Mutex // guards count and the stores of order and known
	count int

	ticks int // control intervals measured; room.mu
}

// add makes a layer of the track, or returns nil when it has maxLayers.
// Until the layers are measured, the ranking is their order of arrival.
func (s *simulcast) add(rid string, ssrc uint32, sendPLI func()) *layer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == maxLayers {
		return nil
	}
	l := &layer{idx: s.count, rid: rid, ssrc: ssrc, sendPLI: sendPLI, pli: make(chan struct{}, 1)}
	if s.count == 0 {
		s.since.Store(monoNow())
	}
	s.layers[s.count].Store(l)
	s.count++
	s.have.Store(int32(s.count))
	if !s.known.Load() {
		var slots [maxLayers]int
		for i := range s.count {
			slots[i] = i
		}
		s.order.Store(uint32(makeRanking(slots[:s.count])))
	}
	return l
}

// layer returns the layer in slot, or nil.
func (s *simulcast) layer(slot int32) *layer {
	if slot < 0 || slot >= maxLayers {
		return nil
	}
	return s.layers[slot].Load()
}

// ranking returns the current ranking.
func (s *simulcast) ranking() ranking { return ranking(s.order.Load()) }

// top is the slot of the highest ranked layer, or -1.
func (s *simulcast) top() int32 {
	r := s.ranking()
	if r.n() == 0 {
		return -1
	}
	return r.at(r.n() - 1)
}

// below is the slot of the layer ranked just under slot, or -1.
func (s *simulcast) below(slot int32) int32 {
	r := s.ranking()
	if p := r.pos(slot); p > 0 {
		return r.at(p - 1)
	}
	return -1
}

// initial is the layer a new subscriber starts on, until the allocation
// has chosen: the lowest (or, before the layers are measured, the first
// that arrived).
func (s *simulcast) initial() int32 {
	r := s.ranking()
	if r.n() == 0 {
		return 0
	}
	return r.at(0)
}

// recordTop is the slot of the layer observers record, or -1: of the
// ranked layers the one with the largest picture, when the pictures of
// all are known; otherwise the top one. Before the layers are measured,
// the largest picture known, else the first layer that arrived (an
// observer starts observeSettle after it, when a browser's layers have
// come).
func (s *simulcast) recordTop() int32 {
	r := s.ranking()
	if r.n() == 0 {
		return -1
	}
	best, most := int32(-1), uint32(0)
	for i := range r.n() {
		px := s.layer(r.at(i)).pixels.Load()
		if px == 0 && s.known.Load() {
			return r.at(r.n() - 1)
		}
		if px > most {
			best, most = r.at(i), px
		}
	}
	if best < 0 {
		return r.at(0)
	}
	return best
}

// observeTop heads f's observers for the layer they record, asking it
// for a keyframe unless it is slot keyed, whose keyframe is at hand (-1:
// none).
func (s *simulcast) observeTop(f *forwarder, keyed int32) {
	top := s.recordTop()
	if top < 0 {
		return
	}
	for _, d := range *f.subs.Load() {
		switch {
		case d.obs == nil:
		case top == keyed:
			d.sim.tgt.Store(top)
		default:
			d.setTarget(top)
		}
	}
}

// requestKeyframe asks for a keyframe of the layer observers record, or
// of every layer before they are ranked.
func (s *simulcast) requestKeyframe() {
	if s.known.Load() {
		if l := s.layer(s.recordTop()); l != nil {
			l.requestKeyframe()
		}
		return
	}
	for i := range s.layers {
		if l := s.layers[i].Load(); l != nil {
			l.requestKeyframe()
		}
	}
}

// measure updates each layer's bitrate with the bytes of the last control
// interval and ranks the layers that sent in the last window (and were
// measured over two intervals at least). The caller holds room.mu.
func (s *simulcast) measure() {
	var slots [maxLayers]int
	n := 0
	for i := range s.layers {
		l := s.layers[i].Load()
		if l == nil {
			continue
		}
		b := l.bytes.Load()
		l.win[l.ticks%rateWindow] = b - l.lastBytes
		l.lastBytes = b
		l.ticks++
		var sum uint64
		for _, w := range l.win {
			sum += w
		}
		k := int64(min(l.ticks, rateWindow))
		l.rate = int64(sum) * 8 * int64(time.Second) / (k * int64(controlInterval))
		if sum == 0 || l.ticks < 2 || l.ended.Load() {
			continue
		}
		j := n // insertion sort by rate
		for ; j > 0 && s.layers[slots[j-1]].Load().rate > l.rate; j-- {
			slots[j] = slots[j-1]
		}
		slots[j] = i
		n++
	}
	s.ticks++
	if s.ticks < 2 {
		return
	}
	s.mu.Lock()
	s.order.Store(uint32(makeRanking(slots[:n])))
	s.known.Store(true)
	s.mu.Unlock()
}

// readLayer reads packets of layer l with read into one reused buffer and
// dispatches them until read fails.
func (f *forwarder) readLayer(l *layer, read func([]byte) (int, error)) {
	buf := make([]byte, slotSize)
	for {
		n, err := read(buf)
		if err != nil {
			return
		}
		f.dispatchLayer(l, buf[:n])
	}
}

// dispatchLayer parses one packet of layer l and offers it to every
// subscriber. It does not allocate.
func (f *forwarder) dispatchLayer(l *layer, raw []byte) {
	var pk packet
	if !pk.parse(raw) {
		return
	}
	pk.frameStart = !l.havePrev || l.prevMarker || pk.ts != l.prevTS
	l.havePrev, l.prevMarker, l.prevTS = true, pk.marker, pk.ts
	pk.key = f.isKey(pk.payload())
	if pk.key && f.sim.vp8 {
		// A new picture size (a layer starts, or the browser scales it)
		// may change the layer observers record: at this keyframe.
		if px := vp8KeyframeSize(pk.payload()); px != 0 && l.pixels.Swap(px) != px {
			f.sim.observeTop(f, int32(l.idx))
		}
	}
	at := monoNow()
	// Padding-only packets (a browser probing for the bandwidth a layer
	// needs, even on a layer it does not send yet) are no media.
	if pk.payEnd > pk.payOff {
		l.bytes.Add(uint64(len(raw)))
	}
	var vp vp8Desc
	if f.sim.vp8 {
		vp.parse(pk.payload())
	}
	for _, d := range *f.subs.Load() {
		d.pushLayer(l, &pk, &vp, at)
	}
}

// layerReport passes a sender report of layer l to the observers on that
// layer, its RTP time moved to the forwarded stream's timeline.
func (f *forwarder) layerReport(l *layer, sr *senderReport) {
	l.lastSR.Store(sr)
	for _, d := range *f.subs.Load() {
		if d.obs == nil {
			continue
		}
		s := d.sim
		s.mu.Lock()
		on, off := s.cur.Load() == int32(l.idx), s.tsOff
		s.mu.Unlock()
		if on {
			d.report.Store(&senderReport{ntp: sr.ntp, rtpTime: sr.rtpTime + off})
			d.wakeUp()
		}
	}
}

// simDown is what a downTrack of a simulcast track adds.
type simDown struct {
	cur atomic.Int32 // slot of the layer being forwarded; -1: none
	tgt atomic.Int32 // slot of the layer wanted; -1: none (observers, before the ranking)

	switches atomic.Uint64 // layer switches (not the first start)
	overflow atomic.Bool   // the queue overflowed; read by the controller

	// mu guards the downTrack's producer state and the fields below: the
	// readers of two layers may push at once.
	mu          sync.Mutex
	tsOff       uint32 // added to the current layer's timestamps
	picOff      uint16 // added to its VP8 picture IDs (mod 2^15)
	tl0Off      uint8  // added to its VP8 TL0PICIDX
	lastTS      uint32 // timestamp of the newest packet sent
	lastAt      int64  // when it arrived (monoNow)
	lastPic     uint16 // its picture ID, as sent
	lastTl0     uint8  // its TL0PICIDX, as sent
	havePic     bool
	haveTl0     bool
	switchSince int64 // first frame start of switchFor seen while nothing flows
	switchFor   int32

	// Controller state, guarded by room.mu.
	fresh     bool      // no layer chosen yet by the allocation
	rk        ranking   // the ranking of this round
	pick      int       // the rank this round allows
	upSince   time.Time // since when a higher layer has been allowed
	upTo      int       // the least rank allowed since upSince
	holdUntil time.Time // no switch up before (after an overflow)
}

// newSimDown returns the state of a subscriber of a simulcast track, on
// no layer and heading for slot tgt.
func newSimDown(tgt int32) *simDown {
	s := &simDown{fresh: true}
	s.cur.Store(-1)
	s.tgt.Store(tgt)
	return s
}

// pushLayer offers a packet of layer l to the subscriber, who takes it if
// l is its current or target layer. It never blocks for long (the lock is
// held by the other layer's reader for one packet at most) and never
// allocates.
func (d *downTrack) pushLayer(l *layer, pk *packet, vp *vp8Desc, at int64) {
	s := d.sim
	i := int32(l.idx)
	if i != s.cur.Load() && i != s.tgt.Load() {
		return
	}
	s.mu.Lock()
	d.pushLayerLocked(l, i, pk, vp, at)
	s.mu.Unlock()
}

// pushLayerLocked is pushLayer under d.sim.mu.
func (d *downTrack) pushLayerLocked(l *layer, i int32, pk *packet, vp *vp8Desc, at int64) {
	s := d.sim
	cur := s.cur.Load()
	if !d.ready() {
		if i == cur { // start over at a keyframe once ready
			d.skip()
			s.cur.Store(-1)
		}
		return
	}
	if i != cur {
		if i != s.tgt.Load() || cur < 0 && d.settling(at) {
			return
		}
		if !pk.key && !d.layerWaitExpired(i, pk, at) {
			l.requestKeyframe()
			return
		}
		d.switchLayer(l, pk, vp, at)
	} else if d.waitKey {
		if !pk.key && !d.waitExpired(pk) {
			d.skip()
			l.requestKeyframe()
			return
		}
	}
	d.waitKey = false
	off := d.off
	if d.gap {
		off = pk.seq - d.lastOut - 1
	}
	out := pk.seq - off
	rw := rewrite{ts: pk.ts + s.tsOff, ssrc: d.fwd.sim.ssrc, picOff: s.picOff, tl0Off: s.tl0Off}
	if !d.q.putLayer(pk, out, d.skipped, vp, &rw) {
		d.loseLayer(l, i)
		return
	}
	d.off, d.gap, d.skipped = off, false, 0
	if !d.started || int16(out-d.lastOut) > 0 {
		d.lastOut = out
		s.lastTS, s.lastAt = rw.ts, at
		if vp.picOff != 0 {
			s.lastPic, s.havePic = (vp.pic+s.picOff)&0x7fff, true
		}
		if vp.tl0Off != 0 {
			s.lastTl0, s.haveTl0 = vp.tl0+s.tl0Off, true
		}
	}
	s.switchSince = 0
	d.started = true
	d.forwarded.Add(1)
	d.bytes.Add(uint64(len(pk.raw)))
	d.wakeUp()
}

// observeSettle is how long an observer waits at most, after a simulcast
// track's first layer arrived, for the other layers offered before it
// starts: a browser starts its layers one by one within a moment, and a
// recording started on the first would have a file of a frame or two for
// each smaller layer. Once all have come it starts at once, at the first
// keyframe of the last (which a new layer starts with); after the wait
// it asks for a keyframe, well within the recorder's wait for video to
// join the audio.
const observeSettle = 250 * time.Millisecond

// settling reports whether d is an observer that does not start yet: the
// track's layers are still arriving.
func (d *downTrack) settling(at int64) bool {
	sim := d.fwd.sim
	return d.obs != nil && !sim.known.Load() && sim.have.Load() < sim.offer.Load() &&
		at-sim.since.Load() < int64(observeSettle)
}

// layerWaitExpired reports whether a frame start of layer i may begin the
// forwarding of i without a keyframe. Never while the current layer
// flows; otherwise after keyframeWait (a keyframe test that never
// matches must not keep the subscriber dark for good).
func (d *downTrack) layerWaitExpired(i int32, pk *packet, at int64) bool {
	s := d.sim
	if !pk.frameStart {
		return false
	}
	if s.cur.Load() >= 0 && at-s.lastAt <= int64(keyframeWait) {
		return false
	}
	if s.switchSince == 0 || s.switchFor != i {
		s.switchSince, s.switchFor = at, i
		return false
	}
	return at-s.switchSince > int64(keyframeWait)
}

// switchLayer makes layer l, whose keyframe pk is, the current one: its
// timestamps, picture IDs and TL0PICIDX are offset to continue from what
// was sent, and its sequence numbers continue after the last one sent. An
// observer gets the layer's last sender report at once, on the new
// timeline.
func (d *downTrack) switchLayer(l *layer, pk *packet, vp *vp8Desc, at int64) {
	s := d.sim
	if d.started {
		elapsed := min(max(at-s.lastAt, 0), int64(time.Hour))
		step := max(uint32(elapsed*int64(d.fwd.codec.ClockRate)/int64(time.Second)), 1)
		s.tsOff = s.lastTS + step - pk.ts
		d.gap = true
		s.picOff, s.tl0Off = 0, 0
		if vp.picOff != 0 && s.havePic {
			s.picOff = (s.lastPic + 1 - vp.pic) & 0x7fff
		}
		if vp.tl0Off != 0 && s.haveTl0 {
			s.tl0Off = s.lastTl0 + 1 - vp.tl0
		}
		if s.cur.Load() >= 0 {
			s.switches.Add(1)
		}
	}
	s.cur.Store(int32(l.idx))
	s.switchSince = 0
	d.waitKey = false
	d.waitSince = time.Time{}
	if d.obs != nil {
		if sr := l.lastSR.Load(); sr != nil {
			d.report.Store(&senderReport{ntp: sr.ntp, rtpTime: sr.rtpTime + s.tsOff})
		}
	}
}

// loseLayer drops the packet of layer i that did not fit: the subscriber
// falls behind, so it waits for a keyframe and, unless it is an observer
// (which records the top layer whatever it costs), moves down a layer at
// once.
func (d *downTrack) loseLayer(l *layer, i int32) {
	d.dropped.Add(1)
	d.skip()
	d.waitKey = true
	d.waitSince = time.Time{}
	s := d.sim
	s.overflow.Store(true)
	if d.obs == nil {
		if lower := d.fwd.sim.below(i); lower >= 0 {
			s.tgt.Store(lower)
			d.fwd.sim.layer(lower).requestKeyframe()
			return
		}
	}
	l.requestKeyframe()
}

// setTarget makes slot the layer the subscriber heads for, asking it for a
// keyframe if that means a switch.
func (d *downTrack) setTarget(slot int32) {
	s := d.sim
	if s.tgt.Swap(slot) == slot || slot == s.cur.Load() {
		return
	}
	if l := d.fwd.sim.layer(slot); l != nil {
		l.requestKeyframe()
	}
}

// requestKeyframe asks for a keyframe of what the subscriber receives (a
// subscriber's PLI): the track, or its current (else target) layer.
func (d *downTrack) requestKeyframe() {
	if d.sim == nil {
		d.fwd.requestKeyframe()
		return
	}
	slot := d.sim.cur.Load()
	if slot < 0 {
		slot = d.sim.tgt.Load()
	}
	if l := d.fwd.sim.layer(slot); l != nil {
		l.requestKeyframe()
	}
}

// vp8Desc locates the picture ID and TL0PICIDX of a VP8 payload descriptor
// (RFC 7741 section 4.2). Offsets index the payload; 0 means absent (byte
// 0 is the descriptor's first byte).
type vp8Desc struct {
	picOff int
	pic    uint16
	wide   bool // 15-bit picture ID
	tl0Off int
	tl0    uint8
}

// parse fills v from a VP8 payload.
func (v *vp8Desc) parse(p []byte) {
	*v = vp8Desc{}
	if len(p) < 2 || p[0]&0x80 == 0 {
		return
	}
	x, off := p[1], 2
	if x&0x80 != 0 { // I
		if len(p) <= off {
			return
		}
		if p[off]&0x80 != 0 {
			if len(p) <= off+1 {
				return
			}
			v.picOff, v.wide = off, true
			v.pic = uint16(p[off]&0x7f)<<8 | uint16(p[off+1])
			off += 2
		} else {
			v.picOff, v.pic = off, uint16(p[off])
			off++
		}
	}
	if x&0x40 != 0 && len(p) > off { // L
		v.tl0Off, v.tl0 = off, p[off]
	}
}

// rewrite is how a queued packet of a simulcast layer is changed.
type rewrite struct {
	ts, ssrc uint32
	picOff   uint16
	tl0Off   uint8
}

// apply writes the offset picture ID and TL0PICIDX into payload p, a copy
// of the payload v was parsed from.
func (v *vp8Desc) apply(p []byte, picOff uint16, tl0Off uint8) {
	if v.picOff != 0 && picOff != 0 {
		pic := v.pic + picOff
		if v.wide {
			p[v.picOff] = 0x80 | byte(pic>>8)&0x7f
			p[v.picOff+1] = byte(pic)
		} else {
			p[v.picOff] = byte(pic) & 0x7f
		}
	}
	if v.tl0Off != 0 && tl0Off != 0 {
		p[v.tl0Off] = v.tl0 + tl0Off
	}
}

// putLayer is put for a packet of a simulcast layer: it also rewrites the
// timestamp, the SSRC and the VP8 descriptor as rw says.
func (q *ring) putLayer(pk *packet, seq uint16, lost uint32, vp *vp8Desc, rw *rewrite) bool {
	t := q.tail.Load()
	if t-q.head.Load() >= uint64(len(q.slots)) || pk.size() > slotSize {
		return false
	}
	s := &q.slots[t&q.mask]
	n := pk.writeTo(s.buf[:], seq)
	binary.BigEndian.PutUint32(s.buf[4:], rw.ts)
	binary.BigEndian.PutUint32(s.buf[8:], rw.ssrc)
	vp.apply(s.buf[pk.hdrLen:n], rw.picOff, rw.tl0Off)
	s.n = n
	s.lost = lost
	s.level, s.hasLevel = 0, false
	q.tail.Store(t + 1)
	return true
}
