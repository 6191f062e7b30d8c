package signaling

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Caucus: a mediator talks with one party (and their interpreter) in a
// private room, away from the others. Media of a private room reaches
// only its members (the media plane's groups); everyone sees who is in
// which room. A private room is not recorded unless the host opened it
// recorded; the recording pauses for its members and the manifest shows
// their time there as a private_room gap. A recorded private room is
// recorded and sealed to the mediator: its members' segments carry the
// room's id, and only the session's presider may play them. Membership of
// a private room survives a reconnect.

// privateRoom is one caucus of a session's room.
type privateRoom struct {
	id      string
	record  bool
	members map[string]bool // participant ids, kept across reconnects
}

// Privacy is an optional interface of Lifecycle: it is told, whenever it
// may change, how a participant is to be recorded: not at all (private
// true: a private room that is not recorded, or the recording paused),
// sealed to the recorded private room sealedTo (private false), or
// ordinarily in the joint room (private false, sealedTo "").
type Privacy interface {
	Private(sessionID, participantID string, private bool, sealedTo string)
}

// roomsLocked lists the private rooms; Server.mu is held.
func (r *room) roomsLocked() []PrivateRoom {
	out := []PrivateRoom{}
	for _, pr := range r.privates {
		members := make([]string, 0, len(pr.members))
		for id := range pr.members {
			members = append(members, id)
		}
		sort.Strings(members)
		out = append(out, PrivateRoom{ID: pr.id, Record: pr.record, Members: members})
	}
	slices.SortFunc(out, func(a, b PrivateRoom) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// privateOfLocked is the private room pid belongs to, or nil.
func (r *room) privateOfLocked(pid string) *privateRoom {
	for _, pr := range r.privates {
		if pr.members[pid] {
			return pr
		}
	}
	return nil
}

// roomsChanged tells everyone in the call the private rooms.
func (s *Server) roomsChanged(sessionID string) {
	s.mu.Lock()
	rooms := []PrivateRoom{}
	if r := s.rooms[sessionID]; r != nil {
		rooms = r.roomsLocked()
	}
	s.mu.Unlock()
	s.broadcast(sessionID, nil, roomsMsg{Type: "rooms", Rooms: rooms})
}

// moveTo puts w's media in group g (a private room's id, "" for the joint
// room; the room's membership is already set), pauses or resumes its
// recording, records the move by actor, and tells everyone.
func (w *client) moveTo(g string, record bool, actor *client) {
	w.mu.Lock()
	if w.group == g {
		w.mu.Unlock()
		return
	}
	w.group = g
	media := w.media
	w.mu.Unlock()
	if media != nil {
		media.SetGroup(g)
	}
	w.s.applyRecording(w)
	detail, _ := json.Marshal(map[string]any{"participant": w.pid, "room": g, "record": g == "" || record})
	actor.auditNow("room.move", string(detail))
	w.s.broadcast(w.sessionID, nil, participantMsg{Type: "participant_updated", Participant: w.info()})
}

// applyRecording tells the recording (Privacy) whether w is to be
// recorded now, and whether sealed to the recorded private room w is in.
func (s *Server) applyRecording(w *client) {
	p, ok := s.cfg.Lifecycle.(Privacy)
	if !ok {
		return
	}
	s.mu.Lock()
	r := s.rooms[w.sessionID]
	off := r != nil && r.notRecordedLocked(w)
	sealedTo := ""
	if r != nil && !off {
		if pr := r.privateOfLocked(w.pid); pr != nil && pr.record {
			sealedTo = pr.id
		}
	}
	s.mu.Unlock()
	p.Private(w.sessionID, w.pid, off, sealedTo)
}

// restorePrivate puts a participant who (re)entered the call back into
// the private room they belong to.
func (c *client) restorePrivate() {
	c.s.mu.Lock()
	var pr *privateRoom
	if r := c.s.rooms[c.sessionID]; r != nil {
		pr = r.privateOfLocked(c.pid)
	}
	var id string
	var record bool
	if pr != nil {
		id, record = pr.id, pr.record
	}
	c.s.mu.Unlock()
	if pr != nil {
		c.moveTo(id, record, c)
	}
}

func (c *client) onCaucusOpen(m CaucusOpen) *Error {
	if perr := c.requireHost("caucus_open"); perr != nil {
		return perr
	}
	var moving []*client
	for _, id := range m.Members {
		w, in := c.s.member(c.sessionID, id)
		if w == nil || !in || w == c {
			return errorf(CodeNoSuchParticipant, "caucus_open", "nobody else with the id %.40q is in the call", id)
		}
		if !slices.Contains(moving, w) {
			moving = append(moving, w)
		}
	}
	moving = append(moving, c)
	s := c.s
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	if r == nil {
		s.mu.Unlock()
		return nil
	}
	// A party's interpreter goes with them.
	for _, m := range r.members {
		if m.inCall && m.interpretsFor != "" && !slices.Contains(moving, m) &&
			slices.ContainsFunc(moving, func(w *client) bool { return w.pid == m.interpretsFor }) {
			moving = append(moving, m)
		}
	}
	r.nextPrivate++
	pr := &privateRoom{id: fmt.Sprintf("private-%d", r.nextPrivate), record: m.Record, members: map[string]bool{}}
	for _, w := range moving {
		if old := r.privateOfLocked(w.pid); old != nil {
			delete(old.members, w.pid)
		}
		pr.members[w.pid] = true
	}
	r.privates[pr.id] = pr
	s.mu.Unlock()
	ids := make([]string, 0, len(moving))
	for _, w := range moving {
		ids = append(ids, w.pid)
	}
	detail, _ := json.Marshal(map[string]any{"room": pr.id, "members": ids, "record": m.Record})
	c.auditNow("caucus.open", string(detail))
	for _, w := range moving {
		w.moveTo(pr.id, pr.record, c)
	}
	s.dropEmptyPrivates(c.sessionID)
	s.roomsChanged(c.sessionID)
	return nil
}

func (c *client) onCaucusJoin(m CaucusJoin) *Error {
	if perr := c.requireHost("caucus_join"); perr != nil {
		return perr
	}
	s := c.s
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	var to *privateRoom
	if r != nil && m.Room != "" {
		to = r.privates[m.Room]
	}
	if r == nil || (m.Room != "" && to == nil) {
		s.mu.Unlock()
		return errorf(CodeNoSuchParticipant, "caucus_join", "there is no private room %.40q", m.Room)
	}
	if old := r.privateOfLocked(c.pid); old != nil {
		delete(old.members, c.pid)
	}
	record := false
	if to != nil {
		to.members[c.pid] = true
		record = to.record
	}
	s.mu.Unlock()
	c.moveTo(m.Room, record, c)
	s.dropEmptyPrivates(c.sessionID)
	s.roomsChanged(c.sessionID)
	return nil
}

func (c *client) onCaucusClose(m CaucusClose) *Error {
	if perr := c.requireHost("caucus_close"); perr != nil {
		return perr
	}
	s := c.s
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	if r == nil || (!m.All && r.privates[m.Room] == nil) {
		s.mu.Unlock()
		return errorf(CodeNoSuchParticipant, "caucus_close", "there is no private room %.40q", m.Room)
	}
	var back []*client
	var closed []string
	for id, pr := range r.privates {
		if !m.All && id != m.Room {
			continue
		}
		for pid := range pr.members {
			if w := r.members[pid]; w != nil {
				back = append(back, w)
			}
		}
		delete(r.privates, id)
		closed = append(closed, id)
	}
	s.mu.Unlock()
	sort.Strings(closed)
	detail, _ := json.Marshal(map[string]any{"rooms": closed})
	c.auditNow("caucus.close", string(detail))
	for _, w := range back {
		w.moveTo("", true, c)
	}
	s.roomsChanged(c.sessionID)
	return nil
}

// dropEmptyPrivates deletes the private rooms nobody belongs to any more.
func (s *Server) dropEmptyPrivates(sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[sessionID]; r != nil {
		for id, pr := range r.privates {
			if len(pr.members) == 0 {
				delete(r.privates, id)
			}
		}
	}
}
