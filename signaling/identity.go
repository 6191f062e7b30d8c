package signaling

// identityMsg says that an identity check of the session changed; the
// client reads it again over the call routes (docs/api.md).
type identityMsg struct {
	Type          string `json:"type"`
	ParticipantID string `json:"participant_id"`
	CheckID       string `json:"check_id"`
	State         string `json:"state"`
}

// IdentityChanged tells the hosts of a session connected to this node, and
// the participant whose check it is, that an identity check changed (it
// was requested, consented to, refused, submitted, answered by the
// provider or decided). It returns how many clients were told. Only this
// node's clients are reached: the pages also poll, so a client connected
// elsewhere learns it a little later.
func (s *Server) IdentityChanged(sessionID, participantID, checkID, state string) int {
	s.mu.Lock()
	var to []*client
	if r := s.rooms[sessionID]; r != nil {
		for _, c := range r.members {
			if c.host() || c.pid == participantID {
				to = append(to, c)
			}
		}
	}
	s.mu.Unlock()
	msg := identityMsg{Type: "identity", ParticipantID: participantID, CheckID: checkID, State: state}
	for _, c := range to {
		c.send(msg)
	}
	return len(to)
}
