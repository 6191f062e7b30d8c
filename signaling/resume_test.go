package signaling

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

// joinResumable joins pid and returns the connection and its resume token.
func (f *fixture) joinResumable(t *testing.T, pid string) (*websocket.Conn, string) {
	t.Helper()
	ws := f.dial(t)
	tok, _ := f.tokens.Mint("s1", pid)
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	m := read(t, ws)
	if m["type"] != "joined" {
		t.Fatalf("join: %v", m)
	}
	return ws, resumeToken(t, m)
}

func resumeToken(t *testing.T, m map[string]any) string {
	t.Helper()
	r, _ := m["resume"].(map[string]any)
	tok, _ := r["token"].(string)
	if tok == "" || r["window"] == nil {
		t.Fatalf("%s without a resume token: %v", m["type"], m)
	}
	return tok
}

// until reads ws until a message satisfies ok, and returns it.
func until(t *testing.T, ws *websocket.Conn, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m map[string]any
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(m) {
			return m
		}
	}
}

func updateOf(id string, reconnecting bool) func(map[string]any) bool {
	return func(m map[string]any) bool {
		p, _ := m["participant"].(map[string]any)
		return m["type"] == "participant_updated" && p["id"] == id && (p["reconnecting"] == true) == reconnecting
	}
}

func (f *fixture) resume(t *testing.T, token string) (*websocket.Conn, map[string]any) {
	t.Helper()
	ws := f.dial(t)
	_ = ws.WriteJSON(map[string]any{"type": "resume", "version": 1, "token": token})
	return ws, read(t, ws)
}

func (f *fixture) auditLog() string {
	f.records.mu.Lock()
	defer f.records.mu.Unlock()
	return strings.Join(f.records.audit, ", ")
}

// TestResumeKeepsThePlace: a participant whose websocket drops keeps their
// place; the others see them reconnecting; a new websocket with the
// resume token takes the place over without a new join: the same media
// participant (restarting ICE), no leave in the records, the media plane's
// events on the new connection, and a new token (the old one is spent).
func TestResumeKeepsThePlace(t *testing.T) {
	f := newFixture(t, Config{ResumeWindow: 10 * time.Second})
	other, _ := f.joinResumable(t, "p2")
	ws, token := f.joinResumable(t, "p1")
	until(t, other, "p1 to join", func(m map[string]any) bool { return m["type"] == "participant_joined" })

	ws.Close() // no leave: the network went away
	until(t, other, "p1 shown reconnecting", updateOf("p1", true))
	if f.records.leaves("p1") != 0 || f.media.count("p1") != 1 {
		t.Fatalf("a dropped connection left: leaves %d, in the media plane %d", f.records.leaves("p1"), f.media.count("p1"))
	}
	if got := f.srv.Present("s1"); len(got) != 2 {
		t.Fatalf("present %v, want both", got)
	}

	back, m := f.resume(t, token)
	if m["type"] != "resumed" || m["admitted"] != true {
		t.Fatalf("resume answered %v", m)
	}
	next := resumeToken(t, m)
	if next == token {
		t.Fatal("the resume token was not renewed")
	}
	ps, _ := m["participants"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["id"] != "p2" {
		t.Fatalf("resumed participants %v, want p2", ps)
	}
	if self, _ := m["self"].(map[string]any); self["id"] != "p1" || self["reconnecting"] == true {
		t.Fatalf("resumed self %v", self)
	}
	until(t, other, "p1 shown back", updateOf("p1", false))

	f.media.mu.Lock()
	joins, restarts, h := f.media.joined["p1"], f.media.restarts["p1"], f.media.handlers["p1"]
	f.media.mu.Unlock()
	if joins != 1 || restarts != 1 {
		t.Fatalf("media: %d in the plane, %d ICE restarts; want the same participant restarted once", joins, restarts)
	}
	h.Offer(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0 after"})
	until(t, back, "the media plane's offer on the new connection", func(m map[string]any) bool {
		return m["type"] == "offer" && m["sdp"] == "v=0 after"
	})

	// The resumed connection works as the joined one did.
	_ = back.WriteJSON(map[string]any{"type": "chat", "text": "back"})
	until(t, other, "the chat of the resumed connection", func(m map[string]any) bool { return m["type"] == "chat" && m["text"] == "back" })

	// A spent token resumes nothing.
	spent, m := f.resume(t, token)
	if m["type"] != "error" || m["code"] != CodeResumeFailed {
		t.Fatalf("a spent token: %v", m)
	}
	if _, _, err := spent.ReadMessage(); err == nil {
		t.Fatal("connection still open after resume_failed")
	}
	if f.records.leaves("p1") != 0 {
		t.Fatal("the resume recorded a leave")
	}
	got := f.auditLog()
	for _, want := range []string{"connection.lost p1", "connection.resumed p1"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "session.leave p1") {
		t.Errorf("audit %q has a leave of p1", got)
	}
}

// TestResumeWindowPasses: a participant who does not come back within the
// window leaves as before (records, media, the others), and their token
// resumes nothing.
func TestResumeWindowPasses(t *testing.T) {
	f := newFixture(t, Config{ResumeWindow: 300 * time.Millisecond})
	other, _ := f.joinResumable(t, "p2")
	ws, token := f.joinResumable(t, "p1")
	until(t, other, "p1 to join", func(m map[string]any) bool { return m["type"] == "participant_joined" })
	ws.Close()
	until(t, other, "p1 to leave", func(m map[string]any) bool { return m["type"] == "participant_left" && m["id"] == "p1" })
	if f.records.leaves("p1") != 1 || f.media.count("p1") != 0 {
		t.Fatalf("after the window: leaves %d, in the media plane %d; want 1 and 0", f.records.leaves("p1"), f.media.count("p1"))
	}
	if _, m := f.resume(t, token); m["type"] != "error" || m["code"] != CodeResumeFailed {
		t.Fatalf("resume after the window: %v", m)
	}
}

// TestResumeOverAConnectionStillOpen: the client moved networks and the
// server has not noticed its old websocket is dead: the resume takes over
// and the old websocket is closed, without a bye and without a leave.
func TestResumeOverAConnectionStillOpen(t *testing.T) {
	f := newFixture(t, Config{ResumeWindow: 10 * time.Second})
	old, token := f.joinResumable(t, "p1")
	_, m := f.resume(t, token)
	if m["type"] != "resumed" {
		t.Fatalf("resume answered %v", m)
	}
	_ = old.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m map[string]any
		if err := old.ReadJSON(&m); err != nil {
			break
		}
		if m["type"] == "bye" {
			t.Fatalf("the old connection got %v", m)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if f.records.leaves("p1") != 0 || f.media.count("p1") != 1 {
		t.Fatalf("leaves %d, in the media plane %d; want 0 and 1", f.records.leaves("p1"), f.media.count("p1"))
	}
}

// TestNoResumeAfterGoodbye: leaving, being removed and the session ending
// are final: the token resumes nothing, and a place kept for a dropped
// connection ends with the session.
func TestNoResumeAfterGoodbye(t *testing.T) {
	f := newFixture(t, Config{ResumeWindow: 10 * time.Second})
	ws, token := f.joinResumable(t, "p1")
	_ = ws.WriteJSON(map[string]any{"type": "leave"})
	until(t, ws, "bye", func(m map[string]any) bool { return m["type"] == "bye" })
	if _, m := f.resume(t, token); m["code"] != CodeResumeFailed {
		t.Fatalf("resume after leave: %v", m)
	}

	ws, token = f.joinResumable(t, "p2")
	ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(f.auditLog(), "connection.lost p2") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.srv.EndSession("s1"); n != 1 {
		t.Fatalf("EndSession reached %d, want the one kept place", n)
	}
	if f.records.leaves("p2") != 1 || f.media.count("p2") != 0 {
		t.Fatalf("after the session ended: leaves %d, in the media plane %d", f.records.leaves("p2"), f.media.count("p2"))
	}
	if _, m := f.resume(t, token); m["code"] != CodeResumeFailed {
		t.Fatalf("resume after the session ended: %v", m)
	}
}

// TestIceRestart: a client whose media failed with its websocket up asks
// for an ICE restart of the subscribe connection.
func TestIceRestart(t *testing.T) {
	f := newFixture(t, Config{})
	ws := f.join(t, "p1")
	_ = ws.WriteJSON(map[string]any{"type": "ice_restart"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.media.mu.Lock()
		n := f.media.restarts["p1"]
		f.media.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d ICE restarts, want 1", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
