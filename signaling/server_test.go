package signaling

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/sfu"
)

// fakeRecords is an in-memory Records with one session of two participants.
type fakeRecords struct {
	mu    sync.Mutex
	sess  *cases.Session
	parts map[string]*cases.Participant
	left  map[string]int
	audit []string
}

func newFakeRecords(record bool) *fakeRecords {
	return &fakeRecords{
		sess: &cases.Session{ID: "s1", Title: "Joint session", Record: record, State: "scheduled"},
		parts: map[string]*cases.Participant{
			"p1": {ID: "p1", SessionID: "s1", Role: cases.RoleMediator, DisplayName: "Zhou"},
			"p2": {ID: "p2", SessionID: "s1", Role: cases.RoleParty, DisplayName: "Chen"},
			"px": {ID: "px", SessionID: "other", Role: cases.RoleParty, DisplayName: "Stranger"},
		},
		left: map[string]int{},
	}
}

func (f *fakeRecords) Session(_ context.Context, id string) (*cases.Session, error) {
	if id != f.sess.ID {
		return nil, store.ErrNotFound
	}
	return f.sess, nil
}

func (f *fakeRecords) Participant(_ context.Context, id string) (*cases.Participant, error) {
	if p := f.parts[id]; p != nil {
		return p, nil
	}
	return nil, store.ErrNotFound
}

func (f *fakeRecords) MarkSessionLive(context.Context, string, time.Time) error    { return nil }
func (f *fakeRecords) MarkJoined(context.Context, string, time.Time, string) error { return nil }
func (f *fakeRecords) MarkConsent(context.Context, string, time.Time) error        { return nil }
func (f *fakeRecords) AppendAudit(_ context.Context, e *audit.Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, e.Action+" "+e.ActorID)
	return nil
}

func (f *fakeRecords) MarkLeft(_ context.Context, id string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left[id]++
	return nil
}

func (f *fakeRecords) leaves(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.left[id]
}

// fakeMedia is a Media that only counts joins and leaves.
type fakeMedia struct {
	mu       sync.Mutex
	joined   map[string]int
	groups   map[string]string      // pid -> media group
	handlers map[string]sfu.Handler // pid -> the handler of its last join
	restarts map[string]int         // pid -> ICE restarts
}

type fakeParticipant struct {
	m   *fakeMedia
	pid string
}

func (m *fakeMedia) Join(_, pid string, h sfu.Handler) (MediaParticipant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.joined[pid]++
	if m.handlers == nil {
		m.handlers = map[string]sfu.Handler{}
	}
	m.handlers[pid] = h
	return &fakeParticipant{m, pid}, nil
}

func (p *fakeParticipant) Publish(webrtc.SessionDescription) (webrtc.SessionDescription, error) {
	return webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: "v=0"}, nil
}
func (p *fakeParticipant) Answer(webrtc.SessionDescription) error                    { return nil }
func (p *fakeParticipant) AddCandidate(sfu.Direction, webrtc.ICECandidateInit) error { return nil }
func (p *fakeParticipant) SetGroup(g string) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.m.groups == nil {
		p.m.groups = map[string]string{}
	}
	p.m.groups[p.pid] = g
}

func (p *fakeParticipant) RestartICE() {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.m.restarts == nil {
		p.m.restarts = map[string]int{}
	}
	p.m.restarts[p.pid]++
}

func (p *fakeParticipant) SetScreen(string) {}

func (p *fakeParticipant) Leave() {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	p.m.joined[p.pid]--
}

func (m *fakeMedia) count(pid string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.joined[pid]
}

type fixture struct {
	srv     *Server
	url     string
	tokens  *auth.JoinTokens
	records *fakeRecords
	media   *fakeMedia
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{tokens: auth.NewJoinTokens(make([]byte, 32), time.Minute), records: newFakeRecords(true),
		media: &fakeMedia{joined: map[string]int{}}}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ResumeWindow == 0 {
		// A dropped connection leaves at once; the tests of resume
		// (resume_test.go) set a window.
		cfg.ResumeWindow = -1
	}
	f.srv = New(cfg, f.media, f.records, f.tokens)
	hs := httptest.NewServer(f.srv)
	t.Cleanup(func() { f.srv.Close(); hs.Close() })
	f.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return f
}

func (f *fixture) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(f.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func read(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func (f *fixture) join(t *testing.T, pid string) *websocket.Conn {
	t.Helper()
	ws := f.dial(t)
	tok, _ := f.tokens.Mint("s1", pid)
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	if m := read(t, ws); m["type"] != "joined" {
		t.Fatalf("join: %v", m)
	}
	return ws
}

func TestReplaceOlderConnection(t *testing.T) {
	f := newFixture(t, Config{})
	other := f.join(t, "p2")
	old := f.join(t, "p1")
	if m := read(t, other); m["type"] != "participant_joined" {
		t.Fatalf("other saw %v", m)
	}
	_ = f.join(t, "p1")
	if m := read(t, old); m["type"] != "bye" || m["reason"] != "replaced" {
		t.Fatalf("old connection got %v, want bye replaced", m)
	}
	if _, _, err := old.ReadMessage(); err == nil {
		t.Fatal("old connection still open")
	}
	if n := f.media.count("p1"); n != 1 {
		t.Fatalf("p1 is %d times in the media plane, want 1", n)
	}
	if got := f.srv.Present("s1"); len(got) != 2 {
		t.Fatalf("present %v", got)
	}
	// The replaced connection's end is no departure.
	time.Sleep(100 * time.Millisecond)
	if f.records.leaves("p1") != 0 {
		t.Fatal("replacement recorded a leave")
	}
}

func TestJoinTimeout(t *testing.T) {
	f := newFixture(t, Config{JoinTimeout: 100 * time.Millisecond})
	ws := f.dial(t)
	m := read(t, ws)
	if m["type"] != "error" || m["code"] != CodeJoinTimeout {
		t.Fatalf("got %v", m)
	}
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("connection still open after join timeout")
	}
}

func TestParticipantOfAnotherSession(t *testing.T) {
	f := newFixture(t, Config{})
	ws := f.dial(t)
	tok, _ := f.tokens.Mint("s1", "px")
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	if m := read(t, ws); m["code"] != CodeTokenInvalid {
		t.Fatalf("got %v", m)
	}
}

func TestLeaveAndDisconnectAreRecordedOnce(t *testing.T) {
	f := newFixture(t, Config{})
	a := f.join(t, "p1")
	b := f.join(t, "p2")
	_ = a.WriteJSON(map[string]any{"type": "leave"})
	for {
		m := read(t, a)
		if m["type"] == "participant_joined" {
			continue
		}
		if m["type"] != "bye" || m["reason"] != "left" {
			t.Fatalf("got %v, want bye left", m)
		}
		break
	}
	for {
		m := read(t, b)
		if m["type"] == "participant_left" {
			if m["id"] != "p1" {
				t.Fatalf("left %v", m)
			}
			break
		}
	}
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for f.records.leaves("p2") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if f.records.leaves("p1") != 1 || f.records.leaves("p2") != 1 {
		t.Fatalf("leaves p1=%d p2=%d, want 1 each", f.records.leaves("p1"), f.records.leaves("p2"))
	}
	if f.media.count("p1") != 0 || f.media.count("p2") != 0 {
		t.Fatal("media participants not left")
	}
	f.records.mu.Lock()
	got := strings.Join(f.records.audit, ", ")
	f.records.mu.Unlock()
	for _, want := range []string{"consent p1", "session.join p1", "session.leave p1", "session.leave p2"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit %q lacks %q", got, want)
		}
	}
}

func TestOriginCheck(t *testing.T) {
	f := newFixture(t, Config{AllowedOrigins: []string{"https://court.example.org"}})
	for origin, ok := range map[string]bool{
		"https://court.example.org": true,
		"https://evil.example.org":  false,
	} {
		h := map[string][]string{"Origin": {origin}}
		ws, resp, err := websocket.DefaultDialer.Dial(f.url, h)
		if ok && err != nil {
			t.Errorf("%s refused: %v", origin, err)
		}
		if !ok && (err == nil || resp.StatusCode != 403) {
			t.Errorf("%s accepted", origin)
		}
		if ws != nil {
			ws.Close()
		}
	}
}

// failingLifecycle refuses every join, as an archive whose recording
// cannot start does.
type failingLifecycle struct{}

func (failingLifecycle) Joined(*cases.Session, string) error { return errors.New("object store down") }
func (failingLifecycle) Left(*cases.Session, string, int)    {}

func TestJoinRefusedWhenRecordingCannotStart(t *testing.T) {
	f := newFixture(t, Config{Lifecycle: failingLifecycle{}})
	ws := f.dial(t)
	tok, _ := f.tokens.Mint("s1", "p1")
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	if m := read(t, ws); m["type"] != "error" || m["code"] != CodeRecordingUnavailable {
		t.Fatalf("got %v, want error %s", m, CodeRecordingUnavailable)
	}
	if got := f.srv.Present("s1"); len(got) != 0 || f.media.count("p1") != 0 {
		t.Fatalf("refused participant is present: %v", got)
	}
}
