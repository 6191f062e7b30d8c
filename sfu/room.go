package sfu

import (
	"slices"
	"sync"
	"time"
)

// room is a set of participants. Each member is in one group of the room
// (Participant.SetGroup; "" is the joint room, where everyone starts) and
// receives the tracks of the other members of its group only; the room's
// observers receive every track.
type room struct {
	s    *SFU
	name string

	// mu guards the fields below and the downs and group of every member.
	// It is taken after SFU.mu and before forwarder.mu.
	mu    sync.Mutex
	parts map[string]*Participant
	fwds  []*forwarder // published tracks, in publication order
	obs   []*observer  // in-process observers of the room
}

func newRoom(s *SFU, name string) *room {
	return &room{s: s, name: name, parts: map[string]*Participant{}}
}

// has reports whether pid is a member.
func (r *room) has(pid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.parts[pid]
	return ok
}

// memberLocked reports whether p is (still) a member. r.mu must be held.
func (r *room) memberLocked(p *Participant) bool { return r.parts[p.id] == p }

// subscribeAll gives a new member every track already published in its
// group, then offers them.
func (r *room) subscribeAll(p *Participant) {
	r.mu.Lock()
	n := 0
	if r.memberLocked(p) {
		for _, f := range r.fwds {
			if f.pub != p && r.attachLocked(f, p) {
				n++
			}
		}
	}
	r.mu.Unlock()
	if n > 0 {
		p.renegotiate()
	}
}

// publish starts forwarding f to every other member of its publisher's
// group and to the room's observers. It returns false when the publisher is
// no longer a member.
func (r *room) publish(f *forwarder) bool {
	r.mu.Lock()
	if !r.memberLocked(f.pub) {
		r.mu.Unlock()
		return false
	}
	r.fwds = append(r.fwds, f)
	var subs []*Participant
	for _, q := range r.parts {
		if q != f.pub && r.attachLocked(f, q) {
			subs = append(subs, q)
		}
	}
	var obs []*observer
	for _, o := range r.obs {
		if o.reserve(f) {
			obs = append(obs, o)
		}
	}
	r.mu.Unlock()
	for _, q := range subs {
		q.renegotiate()
	}
	for _, o := range obs {
		r.attachObserver(o, f)
	}
	return true
}

// attachLocked subscribes q to f unless q already is or is in another
// group than f's publisher; true means it did, and q must renegotiate.
// r.mu must be held.
func (r *room) attachLocked(f *forwarder, q *Participant) bool {
	if _, dup := q.downs[f]; dup || !sameGroupLocked(f, q) {
		return false
	}
	d, err := q.subscribe(f)
	if err != nil {
		q.log.Warn("subscribe failed", "track", f.id, "publisher", f.pub.id, "err", err)
		return false
	}
	q.downs[f] = d
	f.addSub(d)
	if f.sim != nil {
		if q.bwe != nil {
			q.bwe.activate()
		}
		q.allocateLocked(time.Now())
	}
	return true
}

// sameGroupLocked reports whether q may receive f: f's publisher and q are
// in the same group. r.mu must be held.
func sameGroupLocked(f *forwarder, q *Participant) bool {
	return f.pub == nil || f.pub.group == q.group
}

// detachLocked ends q's subscription to f, if any, and returns it; the
// caller tears it down with q.unsubscribe (or q.dropTrack and a
// renegotiation) once r.mu is released. r.mu must be held.
func (r *room) detachLocked(f *forwarder, q *Participant) *downTrack {
	d, ok := q.downs[f]
	if !ok {
		return nil
	}
	delete(q.downs, f)
	f.removeSub(d)
	return d
}

// unpublish stops forwarding f and removes it from every subscriber, who
// each get a new offer. Idempotent.
func (r *room) unpublish(f *forwarder) {
	r.mu.Lock()
	i := slices.Index(r.fwds, f)
	if i < 0 {
		r.mu.Unlock()
		return
	}
	r.fwds = slices.Delete(r.fwds, i, i+1)
	downs := f.takeSubs()
	for _, d := range downs {
		if d.obs == nil {
			delete(d.sub.downs, f)
		}
	}
	for _, o := range r.obs {
		o.forget(f)
	}
	r.mu.Unlock()
	f.stop()
	for _, d := range downs {
		if d.obs != nil {
			r.s.retire(d)
			continue
		}
		d.sub.unsubscribe(d)
	}
}

// publishedLocked reports whether f is one of the room's tracks. r.mu must
// be held.
func (r *room) publishedLocked(f *forwarder) bool { return slices.Contains(r.fwds, f) }

// removeLocked takes p out of the room and returns the tracks p published
// and p's own subscriptions, which the caller tears down. r.mu must be held.
func (r *room) removeLocked(p *Participant) (pubs []*forwarder, downs []*downTrack) {
	if !r.memberLocked(p) {
		return nil, nil
	}
	delete(r.parts, p.id)
	for _, f := range r.fwds {
		if f.pub == p {
			pubs = append(pubs, f)
		}
	}
	for f, d := range p.downs {
		f.removeSub(d)
		downs = append(downs, d)
	}
	clear(p.downs)
	return pubs, downs
}

// addStats adds the room's numbers to st.
func (r *room) addStats(st *Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.Participants += len(r.parts)
	st.Tracks += len(r.fwds)
	for _, f := range r.fwds {
		if f.sim != nil && f.sim.known.Load() {
			st.SimulcastLayers += f.sim.ranking().n()
		}
		for _, d := range *f.subs.Load() {
			st.Forwarded += d.forwarded.Load()
			st.Dropped += d.dropped.Load()
			st.ForwardedBytes += d.bytes.Load()
			if d.sim != nil {
				st.LayerSwitches += d.sim.switches.Load()
			}
		}
	}
}

// remove takes p out of its room, deleting the room when it empties.
func (s *SFU) remove(p *Participant) (pubs []*forwarder, downs []*downTrack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	pubs, downs = r.removeLocked(p)
	if len(r.parts) == 0 && s.rooms[r.name] == r {
		delete(s.rooms, r.name)
	}
	return pubs, downs
}

// retire stops d and keeps its counters for Stats. Idempotent.
func (s *SFU) retire(d *downTrack) {
	d.stop()
	if !d.retired.CompareAndSwap(false, true) {
		return
	}
	s.retiredForwarded.Add(d.forwarded.Load())
	s.retiredDropped.Add(d.dropped.Load())
	s.retiredBytes.Add(d.bytes.Load())
	if d.sim != nil {
		s.retiredSwitches.Add(d.sim.switches.Load())
	}
}
