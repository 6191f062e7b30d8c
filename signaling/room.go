package signaling

import (
	"net/url"
	"strings"
)

// room is the set of clients connected to one session. Rooms live in
// Server.rooms and are guarded by Server.mu.
type room struct {
	id      string
	members map[string]*client // by participant id
}

// enter adds c to its session's room. If the participant is already
// connected, the old client is returned so the caller can replace it.
// It also returns the infos of the others present.
func (s *Server) enter(c *client) (old *client, others []ParticipantInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[c.sessionID]
	if r == nil {
		r = &room{id: c.sessionID, members: make(map[string]*client)}
		s.rooms[c.sessionID] = r
	}
	old = r.members[c.pid]
	r.members[c.pid] = c
	for id, m := range r.members {
		if id != c.pid {
			others = append(others, m.info())
		}
	}
	return old, others
}

// exit removes c from its room if it is still the member for its
// participant (a replaced client is not). It reports whether it was, and
// how many remain.
func (s *Server) exit(c *client) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[c.sessionID]
	if r == nil || r.members[c.pid] != c {
		return false, 0
	}
	delete(r.members, c.pid)
	if len(r.members) == 0 {
		delete(s.rooms, c.sessionID)
	}
	return true, len(r.members)
}

// broadcast sends msg to every member of the session but except.
func (s *Server) broadcast(sessionID string, except *client, msg any) {
	s.mu.Lock()
	var to []*client
	if r := s.rooms[sessionID]; r != nil {
		to = make([]*client, 0, len(r.members))
		for _, m := range r.members {
			if m != except {
				to = append(to, m)
			}
		}
	}
	s.mu.Unlock()
	for _, m := range to {
		m.send(msg)
	}
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
