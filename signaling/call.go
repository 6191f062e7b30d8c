package signaling

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// A connected client is either in the call (media flows, it sees and is
// seen) or in the session's waiting room (no media; hosts see it in
// `lobby`). enterCall and toLobby move it between the two; they may run
// on any goroutine (a host's actions move others) and are serialized per
// client by callMu, which the media handlers take too, so that a publish
// racing an admission waits for the media plane.

// enterCall puts c into the call: the records (presence starts), the
// message (joined when it comes with the join, else admitted), the media
// plane, and the others. A host entering brings back those who waited for
// a host.
func (c *client) enterCall(withJoin bool) *Error {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.s.records.MarkJoined(ctx, c.pid, time.Now(), c.ip); err != nil {
		c.s.log.Error("recording join", "participant", c.pid, "err", err)
		return errorf(CodeInternal, "join", "the join could not be recorded; try again")
	}
	c.audit(ctx, c.session, c.pid, "session.join", "")
	c.loadNotary()

	s := c.s
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	if r == nil || r.members[c.pid] != c {
		s.mu.Unlock()
		return nil // gone meanwhile
	}
	c.inCall, c.waitReason = true, ""
	r.allowed[c.pid] = true
	delete(r.removed, c.pid)
	// tell: exactly those in the call now; a later newcomer sees c in its
	// own list.
	call, tell := r.callLocked(c)
	s.mu.Unlock()
	arrival := participantMsg{Type: "participant_joined", Participant: c.info()}
	for _, m := range tell {
		m.send(arrival)
	}

	call.Settlement = c.currentSettlement()
	if withJoin {
		call.Type, call.Self, call.Resume, call.Call = "joined", c.info(), c.resumeInfo(), c.callInfo()
		c.send(call)
	} else {
		// Before the media plane's first offer: a client starts its media
		// on admitted. Its publish waits for the media plane on callMu.
		c.send(admittedMsg{Type: "admitted", Participants: call.Participants, Chat: call.Chat, Rooms: call.Rooms, Recording: call.Recording,
			Script: call.Script, Documents: call.Documents, Settlement: call.Settlement})
	}
	media, err := s.media.Join(c.sessionID, c.pid, mediaHandler{c.link})
	if err != nil {
		s.log.Error("joining media plane", "session", c.sessionID, "participant", c.pid, "err", err)
		c.final.Store(true) // nothing to keep: the client joins again
		c.closeAfterFlush()
		return errorf(CodeInternal, "join", "the media server could not add you; try again")
	}
	c.mu.Lock()
	c.media = media
	c.group = ""
	c.screen = false // a new publish connection shares nothing yet
	c.mu.Unlock()
	c.restorePrivate() // before any publish: callMu is held
	s.applyRecording(c)
	if c.host() {
		if l := s.lobby(c.sessionID); len(l.Waiting) > 0 || c.session.WaitingRoom {
			c.send(l)
		}
		s.returnFromHostAbsence(c.sessionID)
	}
	return nil
}

// toLobby takes c out of the call into the waiting room: its media
// connections close, its presence ends in the records, the others see it
// leave, and it is told why it waits.
func (c *client) toLobby(reason string) {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	s := c.s
	s.mu.Lock()
	was := c.inCall
	c.inCall, c.waitReason, c.waitingSince = false, reason, time.Now()
	s.mu.Unlock()
	if !was {
		return
	}
	c.leaveMedia()
	c.mu.Lock()
	c.hand, c.screen = false, false
	c.mu.Unlock()
	c.recordLeave()
	s.broadcast(c.sessionID, c, leftMsg{Type: "participant_left", ID: c.pid})
	c.send(waitingMsg{Type: "waiting", Reason: reason})
	c.auditNow("lobby.enter", reasonDetail(reason))
	s.lobbyChanged(c.sessionID)
}

// recordLeave ends the participant's presence in the records.
func (c *client) recordLeave() {
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.s.records.MarkLeft(ctx, c.pid, time.Now()); err != nil {
		c.s.log.Error("recording leave", "participant", c.pid, "err", err)
	}
	c.audit(ctx, c.session, c.pid, "session.leave", "")
}

// waitInLobby tells a client that has just joined why it waits, and the
// hosts that it does.
func (c *client) waitInLobby(reason string) {
	c.send(waitingMsg{Type: "waiting", Reason: reason})
	c.auditNow("lobby.enter", reasonDetail(reason))
	c.s.lobbyChanged(c.sessionID)
}

// hostLeft: when the last host leaves the call of a session with a
// waiting room, everyone else waits until a host returns.
func (s *Server) hostLeft(sessionID string, waitingRoom bool) {
	if !waitingRoom {
		return
	}
	s.mu.Lock()
	r := s.rooms[sessionID]
	var move []*client
	if r != nil && !r.hostInCallLocked(nil) {
		for _, m := range r.members {
			if m.inCall {
				move = append(move, m)
			}
		}
	}
	s.mu.Unlock()
	for _, m := range move {
		m.toLobby(WaitHostAbsent)
	}
	if len(move) > 0 {
		s.log.Info("no host in the call: the others wait", "session", sessionID, "waiting", len(move))
	}
}

// returnFromHostAbsence brings back into the call those who waited only
// for a host.
func (s *Server) returnFromHostAbsence(sessionID string) {
	s.mu.Lock()
	var back []*client
	if r := s.rooms[sessionID]; r != nil {
		for _, m := range r.members {
			if !m.inCall && m.waitReason == WaitHostAbsent {
				back = append(back, m)
			}
		}
	}
	s.mu.Unlock()
	for _, m := range back {
		if perr := m.enterCall(false); perr != nil {
			m.reject(perr)
		}
	}
}

// lobby is the waiting list of a session, for hosts, in the order they
// began waiting: a list that changes does not reshuffle under the host's
// hand.
func (s *Server) lobby(sessionID string) lobbyMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := lobbyMsg{Type: "lobby", Waiting: []ParticipantInfo{}}
	var waiting []*client
	if r := s.rooms[sessionID]; r != nil {
		for _, m := range r.members {
			if !m.inCall {
				waiting = append(waiting, m)
			}
		}
	}
	slices.SortFunc(waiting, func(a, b *client) int {
		return cmp.Or(a.waitingSince.Compare(b.waitingSince), strings.Compare(a.pid, b.pid))
	})
	for _, m := range waiting {
		info := m.info()
		info.Reason = m.waitReason
		msg.Waiting = append(msg.Waiting, info)
	}
	return msg
}

// lobbyChanged sends the waiting list to every host in the call.
func (s *Server) lobbyChanged(sessionID string) {
	msg := s.lobby(sessionID)
	for _, m := range s.inCall(sessionID, nil) {
		if m.host() {
			m.send(msg)
		}
	}
}

// requireHost refuses a host-only message from anyone else.
func (c *client) requireHost(ref string) *Error {
	if !c.host() {
		return errorf(CodeNotHost, ref, "only the host (mediator, notary or judge) may do this")
	}
	return nil
}

func (c *client) onAdmit(m Admit) *Error {
	if perr := c.requireHost("admit"); perr != nil {
		return perr
	}
	var targets []*client
	if m.All {
		c.s.mu.Lock()
		if r := c.s.rooms[c.sessionID]; r != nil {
			for _, w := range r.members {
				if !w.inCall {
					targets = append(targets, w)
				}
			}
		}
		c.s.mu.Unlock()
	} else {
		w, in := c.s.member(c.sessionID, m.ID)
		if w == nil || in {
			return errorf(CodeNoSuchParticipant, "admit", "nobody with this id is waiting")
		}
		targets = append(targets, w)
	}
	for _, w := range targets {
		c.hostAudit("lobby.admit", w.pid)
		if perr := w.enterCall(false); perr != nil {
			w.reject(perr)
		}
	}
	c.s.lobbyChanged(c.sessionID)
	return nil
}

func (c *client) onReject(m Reject) *Error {
	if perr := c.requireHost("reject"); perr != nil {
		return perr
	}
	w, in := c.s.member(c.sessionID, m.ID)
	if w == nil || in {
		return errorf(CodeNoSuchParticipant, "reject", "nobody with this id is waiting")
	}
	c.hostAudit("lobby.reject", w.pid, "text", m.Message)
	w.goodbye(byeMsg{Type: "bye", Reason: "rejected", Message: m.Message})
	return nil
}

func (c *client) onNotice(m Notice) *Error {
	if perr := c.requireHost("notice"); perr != nil {
		return perr
	}
	w, in := c.s.member(c.sessionID, m.ID)
	if w == nil || in {
		return errorf(CodeNoSuchParticipant, "notice", "nobody with this id is waiting")
	}
	c.hostAudit("lobby.notice", w.pid, "text", m.Text)
	w.send(noticeMsg{Type: "notice", From: c.info(), Text: m.Text})
	return nil
}

func (c *client) onLock(m Lock) *Error {
	if perr := c.requireHost("lock"); perr != nil {
		return perr
	}
	c.s.mu.Lock()
	if r := c.s.rooms[c.sessionID]; r != nil {
		r.locked = m.Locked
	}
	c.s.mu.Unlock()
	detail, _ := json.Marshal(map[string]bool{"locked": m.Locked})
	c.auditNow("host.lock", string(detail))
	c.s.broadcast(c.sessionID, nil, roomMsg{Type: "room", Locked: m.Locked})
	return nil
}

func (c *client) onMute(m Mute) *Error {
	if perr := c.requireHost("mute"); perr != nil {
		return perr
	}
	w, in := c.s.member(c.sessionID, m.ID)
	if w == nil || !in || w == c {
		return errorf(CodeNoSuchParticipant, "mute", "nobody else with this id is in the call")
	}
	c.hostAudit("host.mute", w.pid, "kind", m.Kind)
	w.mu.Lock()
	if m.Kind == "audio" {
		w.audio = false
	} else {
		w.video = false
	}
	w.mu.Unlock()
	w.send(mutedMsg{Type: "muted", Kind: m.Kind, By: c.pid})
	c.s.broadcast(c.sessionID, w, participantMsg{Type: "participant_updated", Participant: w.info()})
	c.s.hostAction(c, "mute", w.pid)
	return nil
}

func (c *client) onRemove(m Remove) *Error {
	if perr := c.requireHost("remove"); perr != nil {
		return perr
	}
	w, _ := c.s.member(c.sessionID, m.ID)
	if w == nil || w == c {
		return errorf(CodeNoSuchParticipant, "remove", "nobody else with this id is here")
	}
	c.hostAudit("host.remove", w.pid)
	c.s.remove(w)
	c.s.hostAction(c, "remove", w.pid)
	return nil
}

// remove takes w out of the session: it gets bye removed, and waits for a
// host if it joins again.
func (s *Server) remove(w *client) {
	s.mu.Lock()
	if r := s.rooms[w.sessionID]; r != nil {
		r.removed[w.pid] = true
		delete(r.allowed, w.pid)
	}
	s.mu.Unlock()
	w.kick("removed")
}

func (c *client) onEndSession(m EndSession) *Error {
	if perr := c.requireHost("end_session"); perr != nil {
		return perr
	}
	if c.s.cfg.EndSession == nil {
		return errorf(CodeInternal, "end_session", "this server cannot end sessions")
	}
	detail, _ := json.Marshal(map[string]any{"in_person": m.InPerson, "reason": m.Reason})
	c.auditNow("host.end", string(detail))
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.s.cfg.EndSession(ctx, c.sessionID); err != nil {
		c.s.log.Error("ending session", "session", c.sessionID, "err", err)
		return errorf(CodeInternal, "end_session", "the session could not be ended; try again")
	}
	return nil
}

// onRecordingPause: a host pauses the recording of a recorded session,
// saying why; everyone is told, and the manifest shows the pause.
func (c *client) onRecordingPause(m RecordingPause) *Error {
	return c.setPaused(true, m.Reason, "recording_pause")
}

func (c *client) onRecordingResume() *Error {
	return c.setPaused(false, "", "recording_resume")
}

func (c *client) setPaused(paused bool, reason, ref string) *Error {
	if perr := c.requireHost(ref); perr != nil {
		return perr
	}
	if !c.session.Record {
		return errorf(CodeBadMessage, ref, "this session is not recorded")
	}
	s := c.s
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	if r == nil || r.paused == paused {
		s.mu.Unlock()
		return nil
	}
	r.paused, r.pauseReason = paused, reason
	s.mu.Unlock()
	if paused {
		detail, _ := json.Marshal(map[string]string{"reason": reason})
		c.auditNow("recording.pause", string(detail))
	} else {
		c.auditNow("recording.resume", "")
	}
	for _, w := range s.inCall(c.sessionID, nil) {
		s.applyRecording(w)
	}
	s.broadcast(c.sessionID, nil, recordingMsg{Type: "recording", Paused: paused, Reason: reason, By: c.pid})
	return nil
}

// onRequestView: a host (a notary) asks a participant to show the whole
// room with their camera.
func (c *client) onRequestView(m RequestView) *Error {
	if perr := c.requireHost("request_view"); perr != nil {
		return perr
	}
	w, in := c.s.member(c.sessionID, m.ID)
	if w == nil || !in || w == c {
		return errorf(CodeNoSuchParticipant, "request_view", "nobody else with this id is in the call")
	}
	c.hostAudit("host.request_view", w.pid)
	w.send(viewRequestedMsg{Type: "view_requested", By: c.pid})
	return nil
}

// hostAudit records a host's action on a participant.
// extra adds fields to the detail ("text", "kind"); empty ones are left
// out.
func (c *client) hostAudit(action, target string, extra ...string) {
	d := map[string]string{"participant": target}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			d[extra[i]] = extra[i+1]
		}
	}
	detail, _ := json.Marshal(d)
	c.auditNow(action, string(detail))
}

// hostAction tells the other nodes of a host's action (several nodes).
func (s *Server) hostAction(by *client, action, target string) {
	if f := s.cfg.OnHostAction; f != nil {
		f(by.sessionID, by.pid, action, target)
	}
}

// RemoveParticipant removes a participant connected to this node from a
// session's call, as a host on another node did.
func (s *Server) RemoveParticipant(sessionID, pid string) bool {
	w, _ := s.member(sessionID, pid)
	if w == nil {
		return false
	}
	s.remove(w)
	return true
}

// chatRate bounds chat messages: at most chatBurst within chatWindow.
const (
	chatBurst  = 5
	chatWindow = time.Second
)

func (c *client) onChat(m Chat) *Error {
	now := time.Now()
	c.mu.Lock()
	recent := c.chatTimes[:0]
	for _, t := range c.chatTimes {
		if now.Sub(t) < chatWindow {
			recent = append(recent, t)
		}
	}
	c.chatTimes = recent
	if len(recent) >= chatBurst {
		c.mu.Unlock()
		return errorf(CodeRateLimited, "chat", "at most %d chat messages a second", chatBurst)
	}
	c.chatTimes = append(c.chatTimes, now)
	c.mu.Unlock()

	var id [8]byte
	_, _ = rand.Read(id[:])
	msg := ChatMsg{Type: "chat", ID: hex.EncodeToString(id[:]), From: c.pid, Name: c.name, Role: string(c.role), Text: m.Text, At: now.UTC()}
	detail, _ := json.Marshal(map[string]string{"id": msg.ID, "text": m.Text})
	c.auditNow("chat.message", string(detail))
	c.s.mu.Lock()
	if r := c.s.rooms[c.sessionID]; r != nil {
		r.chat = append(r.chat, msg)
		if len(r.chat) > maxChatHistory {
			r.chat = append([]ChatMsg(nil), r.chat[len(r.chat)-maxChatHistory:]...)
		}
	}
	c.s.mu.Unlock()
	c.s.broadcast(c.sessionID, nil, msg)
	return nil
}

func (c *client) onHand(m Hand) *Error {
	c.mu.Lock()
	c.hand = m.Raised
	c.mu.Unlock()
	c.s.broadcast(c.sessionID, c, participantMsg{Type: "participant_updated", Participant: c.info()})
	return nil
}

func reasonDetail(reason string) string {
	b, _ := json.Marshal(map[string]string{"reason": reason})
	return string(b)
}
