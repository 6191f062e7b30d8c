package signaling

import (
	"net/url"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// room is the set of clients connected to one session: those in the call
// and those in its waiting room. Rooms live in Server.rooms and are
// guarded by Server.mu, as are the clients' inCall, waitReason and
// waitingSince.
type room struct {
	id      string
	members map[string]*client // connected (in the call or waiting), by participant id
	locked  bool               // newcomers wait until a host admits them
	allowed map[string]bool    // let in once (freely or by a host): straight back in after a drop
	removed map[string]bool    // removed by a host: they wait until admitted again
	chat    []ChatMsg          // the last maxChatHistory messages

	privates    map[string]*privateRoom // caucuses, by id
	nextPrivate int                     // numbers them

	paused      bool   // a host paused the recording
	pauseReason string // and said why

	notary *notaryState // the notary's script and documents; nil until loaded (notary.go)
}

// notRecordedLocked reports whether w's media is not to be recorded now:
// the recording is paused, or w is in a private room that is not
// recorded. Server.mu is held.
func (r *room) notRecordedLocked(w *client) bool {
	if r.paused {
		return true
	}
	pr := r.privateOfLocked(w.pid)
	return pr != nil && !pr.record
}

// maxChatHistory is how many chat messages a newcomer to the call gets.
const maxChatHistory = 200

// enter adds c to its session's room and decides whether it goes into
// the call or waits (and why). If the participant is already connected,
// the old client is returned so the caller can replace it.
func (s *Server) enter(c *client) (old *client, inCall bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[c.sessionID]
	if r == nil {
		r = &room{id: c.sessionID, members: map[string]*client{}, allowed: map[string]bool{}, removed: map[string]bool{},
			privates: map[string]*privateRoom{}}
		s.rooms[c.sessionID] = r
	}
	old = r.members[c.pid]
	r.members[c.pid] = c
	if old != nil {
		s.forgetLocked(old)
	}
	s.issueResumeLocked(c)
	switch {
	case c.host():
	case r.removed[c.pid]:
		reason = WaitRemoved
	case c.session.WaitingRoom && !r.allowed[c.pid]:
		reason = WaitWaitingRoom
	case c.session.WaitingRoom && !r.hostInCallLocked(c):
		reason = WaitHostAbsent
	case r.locked && !r.allowed[c.pid]:
		reason = WaitLocked
	}
	c.waitReason = reason
	if reason != "" {
		c.waitingSince = time.Now()
		// Someone waiting who reconnects keeps their place in the list.
		if old != nil && !old.inCall && old.waitReason != "" {
			c.waitingSince = old.waitingSince
		}
	}
	return old, reason == "", reason
}

// hostInCallLocked reports whether a host other than except is in the
// call; called with Server.mu held.
func (r *room) hostInCallLocked(except *client) bool {
	for _, m := range r.members {
		if m != except && m.inCall && m.host() {
			return true
		}
	}
	return false
}

// exit removes c from its room if it is still the member for its
// participant (a replaced client is not). It reports whether it was,
// whether it was in the call, and how many remain connected (in the call
// or waiting).
func (s *Server) exit(c *client) (was, inCall bool, remaining int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[c.sessionID]
	if r == nil || r.members[c.pid] != c {
		return false, false, 0
	}
	delete(r.members, c.pid)
	s.forgetLocked(c)
	inCall = c.inCall
	c.inCall = false
	if len(r.members) == 0 {
		delete(s.rooms, c.sessionID)
	}
	return true, inCall, len(r.members)
}

// inCall lists the clients in the call of a session but except.
func (s *Server) inCall(sessionID string, except *client) []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	var to []*client
	if r := s.rooms[sessionID]; r != nil {
		to = make([]*client, 0, len(r.members))
		for _, m := range r.members {
			if m != except && m.inCall {
				to = append(to, m)
			}
		}
	}
	return to
}

// broadcast sends msg to everyone in the call of the session but except.
func (s *Server) broadcast(sessionID string, except *client, msg any) {
	for _, m := range s.inCall(sessionID, except) {
		m.send(msg)
	}
}

// member returns the client of participant pid in the session's room, and
// whether it is in the call.
func (s *Server) member(sessionID, pid string) (*client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[sessionID]; r != nil {
		if m := r.members[pid]; m != nil {
			return m, m.inCall
		}
	}
	return nil, false
}

// wsURL is the websocket URL of the node at base (https://host → wss://host/ws).
func wsURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	case "http":
		u.Scheme = "ws"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ws"
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// callLocked is the call as c sees it now, for joined, admitted and
// resumed (Type, Self and Resume are the sender's): who else is in it,
// the chat, the private rooms, the lock and the recording's state, all
// empty while c waits. It returns those others too, the clients to tell
// of c. Server.mu is held.
func (r *room) callLocked(c *client) (joinedMsg, []*client) {
	m := joinedMsg{Participants: []ParticipantInfo{}, Chat: []ChatMsg{}, Admitted: c.inCall, Room: RoomInfo{Locked: r.locked},
		Recording: RecordingState{Paused: r.paused, Reason: r.pauseReason}, Session: sessionInfo(c.session)}
	if !c.inCall {
		return m, nil
	}
	var in []*client
	for _, o := range r.members {
		if o != c && o.inCall {
			m.Participants = append(m.Participants, o.info())
			in = append(in, o)
		}
	}
	m.Chat = append(m.Chat, r.chat...)
	m.Rooms = r.roomsLocked()
	m.Script, m.Documents = r.notaryLocked()
	return m, in
}

// sessionInfo is what a client is told of its session.
func sessionInfo(sess *cases.Session) SessionInfo {
	return SessionInfo{ID: sess.ID, Title: sess.Title, Record: sess.Record, WaitingRoom: sess.WaitingRoom}
}
