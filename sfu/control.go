package sfu

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The controller chooses the simulcast layer of every subscriber. One
// goroutine per SFU wakes every controlInterval; while no simulcast track
// is published it does nothing else. For each room with a simulcast track
// it measures the layers' bitrates and, for each member, shares the
// member's subscribe connection's bandwidth estimate among its tracks:
// audio first, then video of publishers without simulcast (which cannot
// be adapted), then the simulcast tracks, each on its lowest layer first,
// then one layer up at a time, round robin, while the rest of the estimate
// allows (so a track whose next layer does not fit leaves its share to the
// others). A subscriber moves down at once when the estimate no longer
// allows its layer (or its queue overflows, see loseLayer), and up only
// once the estimate has allowed the higher layer for upHold.
const (
	controlInterval = 250 * time.Millisecond
	rateWindow      = 4 // control intervals a bitrate is measured over
	upHold          = 3 * time.Second
)

// controlLoop runs the controller until the SFU closes.
func (s *SFU) controlLoop() {
	t := time.NewTicker(controlInterval)
	defer t.Stop()
	var rooms []*room
	for {
		var now time.Time
		select {
		case <-s.quit:
			return
		case now = <-t.C:
		}
		if s.simulcasts.Load() == 0 {
			continue
		}
		rooms = rooms[:0]
		s.mu.Lock()
		for _, r := range s.rooms {
			rooms = append(rooms, r)
		}
		s.mu.Unlock()
		for _, r := range rooms {
			r.control(now)
		}
		clear(rooms)
	}
}

// control measures the room's simulcast layers and chooses the layer of
// each subscriber and observer.
func (r *room) control(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sim := false
	for _, f := range r.fwds {
		if f.sim != nil {
			f.sim.measure()
			sim = true
		}
	}
	if !sim {
		return
	}
	for _, p := range r.parts {
		for _, d := range p.downs {
			d.measure(now)
		}
		p.allocateLocked(now)
	}
	for _, f := range r.fwds {
		if f.sim != nil {
			f.sim.observeTop(f, -1)
		}
	}
}

// measure updates the bitrate the subscriber receives from d (smoothed
// over about two control intervals). The caller holds room.mu.
func (d *downTrack) measure(now time.Time) {
	b := d.bytes.Load()
	if !d.ctlAt.IsZero() {
		if dt := now.Sub(d.ctlAt); dt > 0 {
			r := int64(b-d.ctlBytes) * 8 * int64(time.Second) / int64(dt)
			d.rate = (d.rate + r) / 2
		}
	}
	d.ctlBytes, d.ctlAt = b, now
}

// allocateLocked chooses the layer of each of p's simulcast subscriptions
// whose layers are measured. The caller holds room.mu.
func (p *Participant) allocateLocked(now time.Time) {
	budget := p.estimate()
	sims := p.ctlSims[:0]
	for f, d := range p.downs {
		switch {
		case f.sim == nil:
			budget -= d.rate
		case f.sim.known.Load():
			sims = append(sims, d)
		}
	}
	p.ctlSims = sims
	if len(sims) == 0 {
		return
	}
	slices.SortFunc(sims, func(a, b *downTrack) int {
		return cmp.Or(strings.Compare(a.fwd.pubID(), b.fwd.pubID()), strings.Compare(a.fwd.id, b.fwd.id))
	})
	rate := func(d *downTrack, rank int) int64 {
		if l := d.fwd.sim.layer(d.sim.rk.at(rank)); l != nil {
			return l.rate
		}
		return 0
	}
	for _, d := range sims {
		d.sim.rk, d.sim.pick = d.fwd.sim.ranking(), 0
		if d.sim.rk.n() > 0 {
			budget -= rate(d, 0)
		}
	}
	for up := true; up; {
		up = false
		for _, d := range sims {
			s := d.sim
			if s.pick+1 >= s.rk.n() {
				continue
			}
			if cost := rate(d, s.pick+1) - rate(d, s.pick); cost <= budget {
				budget -= cost
				s.pick++
				up = true
			}
		}
	}
	for i, d := range sims {
		if d.sim.rk.n() > 0 {
			d.decide(now)
		}
		sims[i] = nil
	}
}

// decide applies the rank the allocation allows to the subscriber's
// target: at once for a new subscriber, when it is lower, or when the
// target left the ranking; after upHold when it is higher.
func (d *downTrack) decide(now time.Time) {
	s := d.sim
	if s.overflow.Swap(false) {
		s.holdUntil = now.Add(upHold)
		s.upSince = time.Time{}
	}
	want, have := s.pick, s.rk.pos(s.tgt.Load())
	switch {
	case s.fresh || have < 0 || want < have:
		s.fresh = false
		s.upSince = time.Time{}
		d.setTarget(s.rk.at(want))
	case want > have && !now.Before(s.holdUntil):
		if s.upSince.IsZero() {
			s.upSince, s.upTo = now, want
		} else {
			s.upTo = min(s.upTo, want)
		}
		if now.Sub(s.upSince) >= upHold {
			s.upSince = time.Time{}
			d.setTarget(s.rk.at(s.upTo))
		}
	default:
		s.upSince = time.Time{}
	}
}

// pubID is the publisher's id ("" in unit tests).
func (f *forwarder) pubID() string {
	if f.pub == nil {
		return ""
	}
	return f.pub.id
}
