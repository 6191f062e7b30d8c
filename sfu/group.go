package sfu

import "slices"

// Groups. A mediator may hold a caucus: a private conversation with some
// members of the room, whose media must reach no one else. Every member of
// a room is in one group, the joint room "" to begin with, and media flows
// only between members of the same group. The room's observers (the
// recorder) are not members and receive every track whatever its group.
//
// A group is only the member's group field, guarded by room.mu. Every
// subscription is made by attachLocked, which refuses a subscriber in
// another group than the track's publisher, and SetGroup changes the field
// and, under the same lock, ends the subscriptions the move forbids and
// makes those it allows. The forwarding path knows nothing of groups: a
// forwarder's subscribers are exactly the members allowed to receive it,
// and its observers.

// SetGroup moves p into group g of its room ("" is the joint room, where
// everyone starts). Media flows only between members of the same group: p
// stops receiving the tracks of members of other groups and starts
// receiving those of g's members, and members of other groups stop
// receiving p's tracks while g's members start receiving them. In-process
// observers (Observe) keep receiving every track. The affected
// participants renegotiate as when tracks are published or unpublished.
// Safe for concurrent use; a no-op when p is already in g or has left.
func (p *Participant) SetGroup(g string) {
	r := p.room
	var (
		renego []*Participant // members whose tracks changed
		drops  []*downTrack   // subscriptions the move ends
	)
	// move makes q's subscription to f what the groups allow.
	move := func(f *forwarder, q *Participant) {
		if sameGroupLocked(f, q) {
			if r.attachLocked(f, q) && !slices.Contains(renego, q) {
				renego = append(renego, q)
			}
		} else if d := r.detachLocked(f, q); d != nil {
			drops = append(drops, d)
		}
	}
	r.mu.Lock()
	if !r.memberLocked(p) || p.group == g {
		r.mu.Unlock()
		return
	}
	from := p.group
	p.group = g
	for _, f := range r.fwds {
		if f.pub != p {
			move(f, p)
			continue
		}
		for _, q := range r.parts {
			if q != p {
				move(f, q)
			}
		}
	}
	r.mu.Unlock()
	// The teardown of unpublish (unsubscribe), with one offer per
	// subscriber rather than one per track.
	for _, d := range drops {
		if d.sub.dropTrack(d) && !slices.Contains(renego, d.sub) {
			renego = append(renego, d.sub)
		}
	}
	for _, q := range renego {
		q.renegotiate()
	}
	p.log.Info("group changed", "from", from, "to", g, "unsubscribed", len(drops))
}

// Group returns p's group ("" is the joint room).
func (p *Participant) Group() string {
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.group
}
