package signaling

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakePlacement hosts here unless to is set; it records vacated rooms.
type fakePlacement struct {
	mu      sync.Mutex
	to      string
	err     error
	vacated []string
}

func (p *fakePlacement) Claim(context.Context, string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.to, p.err
}

func (p *fakePlacement) Vacated(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.vacated = append(p.vacated, id)
}

func (p *fakePlacement) set(to string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.to, p.err = to, err
}

func (p *fakePlacement) vacatedRooms() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.vacated...)
}

func TestJoinRedirectedToHostingNode(t *testing.T) {
	pl := &fakePlacement{to: "https://node-2.example.org:8443/"}
	f := newFixture(t, Config{Placement: pl})
	ws := f.dial(t)
	tok, _ := f.tokens.Mint("s1", "p1")
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	m := read(t, ws)
	if m["type"] != "redirect" || m["code"] != RedirectRoomElsewhere || m["url"] != "https://node-2.example.org:8443/" ||
		m["ws_url"] != "wss://node-2.example.org:8443/ws" {
		t.Fatalf("got %v, want redirect to node-2", m)
	}
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("connection open after redirect")
	}
	if f.media.count("p1") != 0 || len(f.srv.Present("s1")) != 0 {
		t.Fatal("a redirected participant entered the room here")
	}
	// The token was not used up here (it only works on this node anyway).
	if _, err := f.tokens.Check(tok); err != nil {
		t.Fatalf("token after redirect: %v", err)
	}

	// Placement fails (Redis down): a clear, non-fatal error.
	pl.set("", errors.New("coord: coordination unavailable"))
	ws = f.dial(t)
	tok, _ = f.tokens.Mint("s1", "p1")
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	if m := read(t, ws); m["type"] != "error" || m["code"] != CodeCoordinationUnavailable {
		t.Fatalf("got %v, want coordination_unavailable", m)
	}
	// Still open: the client may try again on the same connection.
	pl.set("", nil)
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	if m := read(t, ws); m["type"] != "joined" {
		t.Fatalf("got %v, want joined", m)
	}
	other := f.join(t, "p2")
	_ = read(t, ws) // participant_joined
	ws.Close()
	time.Sleep(100 * time.Millisecond)
	if v := pl.vacatedRooms(); len(v) != 0 {
		t.Fatalf("vacated %v with p2 still there", v)
	}
	other.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(pl.vacatedRooms()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if v := pl.vacatedRooms(); len(v) != 1 || v[0] != "s1" {
		t.Fatalf("vacated %v, want [s1]", v)
	}
}

func TestOriginAllowedHook(t *testing.T) {
	f := newFixture(t, Config{OriginAllowed: func(o string) bool { return o == "https://node-2.example.org" }})
	h := http.Header{"Origin": {"https://node-2.example.org"}}
	ws, _, err := websocket.DefaultDialer.Dial(f.url, h)
	if err != nil {
		t.Fatalf("a node's origin was refused: %v", err)
	}
	ws.Close()
	h.Set("Origin", "https://evil.example")
	if _, _, err := websocket.DefaultDialer.Dial(f.url, h); err == nil {
		t.Fatal("a stranger's origin was accepted")
	}
}

func TestWSURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example":          "wss://a.example/ws",
		"http://127.0.0.1:8080/":     "ws://127.0.0.1:8080/ws",
		"https://a.example/kuayang/": "wss://a.example/kuayang/ws",
	} {
		if got := wsURL(in); got != want {
			t.Errorf("wsURL(%q) = %q, want %q", in, got, want)
		}
	}
}
