package test

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kuayang/kuayang/internal/auth"
)

// raw is a bare websocket to a node, for feeding it bad input.
type raw struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, n *testNode) *raw {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.URL(), "http") + "/ws"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return &raw{t: t, ws: ws}
}

func (r *raw) write(s string) {
	r.t.Helper()
	if err := r.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// next reads the next message other than ICE and negotiation traffic.
func (r *raw) next() (map[string]any, error) {
	_ = r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m map[string]any
		if err := r.ws.ReadJSON(&m); err != nil {
			return nil, err
		}
		if m["type"] != "candidate" && m["type"] != "offer" {
			return m, nil
		}
	}
}

// expectError reads the next message and checks it is error code.
func (r *raw) expectError(code string) {
	r.t.Helper()
	m, err := r.next()
	if err != nil {
		r.t.Fatalf("waiting for error %s: %v", code, err)
	}
	if m["type"] != "error" || m["code"] != code {
		r.t.Fatalf("got %v, want error %s", m, code)
	}
	if msg, _ := m["message"].(string); msg == "" {
		r.t.Fatalf("error %s without a message", code)
	}
}

// expectClosed checks that the server ends the connection.
func (r *raw) expectClosed() *websocket.CloseError {
	r.t.Helper()
	for {
		_, err := r.next()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		errors.As(err, &ce)
		if ce == nil && strings.Contains(err.Error(), "timeout") {
			r.t.Fatal("connection still open")
		}
		return ce
	}
}

func joinMsg(token string, consent bool) string {
	c := "false"
	if consent {
		c = "true"
	}
	return `{"type":"join","version":1,"token":"` + token + `","consent":` + c + `}`
}

func TestBadInputIsAnsweredAndHarmsNobody(t *testing.T) {
	n := startNode(t)
	a, b := connect(t, n, 0), connect(t, n, 1)
	flowing(t, a, 10, b)

	key, err := auth.LoadKey(filepath.Join(n.dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	party2 := n.joinToken(t, 2)
	expired, _ := auth.NewJoinTokens(key, -time.Minute).Mint(party2.Session.ID, party2.Participant.ID)
	forged, _ := auth.NewJoinTokens(make([]byte, 32), time.Minute).Mint(party2.Session.ID, party2.Participant.ID)

	t.Run("nonfatal errors keep the connection", func(t *testing.T) {
		r := dialRaw(t, n)
		for _, tc := range []struct{ in, code string }{
			{`this is not json`, "bad_json"},
			{`{"type":"teleport"}`, "unknown_type"},
			{`{"type":"join","version":"one"}`, "bad_message"},
			{`{"type":"publish","sdp":"v=0"}`, "not_joined"},
			{joinMsg(n.joinToken(t, 2).JoinToken, false), "consent_required"},
		} {
			r.write(tc.in)
			r.expectError(tc.code)
		}
		// The same connection can still join.
		r.write(joinMsg(n.joinToken(t, 2).JoinToken, true))
		if m, err := r.next(); err != nil || m["type"] != "joined" {
			t.Fatalf("join after errors: %v %v", m, err)
		}
		r.write(joinMsg(n.joinToken(t, 2).JoinToken, true))
		r.expectError("already_joined")
		r.write(`{"type":"publish","sdp":"v=0\r\nthis is not sdp"}`)
		r.expectError("bad_sdp")
		r.write(`{"type":"answer","sdp":"v=0\r\nnor is this"}`)
		r.expectError("bad_sdp")
		r.write(`{"type":"candidate","pc":"publish","candidate":{"candidate":"candidate:garbage"}}`)
		r.expectError("bad_candidate")
	})

	for _, tc := range []struct{ name, msg, code string }{
		{"expired token", joinMsg(expired, true), "token_expired"},
		{"forged token", joinMsg(forged, true), "token_invalid"},
		{"malformed token", joinMsg("kj1.nonsense", true), "token_invalid"},
		{"wrong version", `{"type":"join","version":7,"token":"x"}`, "unsupported_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, n)
			r.write(tc.msg)
			r.expectError(tc.code)
			r.expectClosed()
		})
	}

	t.Run("second join with the same token", func(t *testing.T) {
		tok := n.joinToken(t, 2).JoinToken
		r1 := dialRaw(t, n)
		r1.write(joinMsg(tok, true))
		if m, err := r1.next(); err != nil || m["type"] != "joined" {
			t.Fatalf("first join: %v %v", m, err)
		}
		r2 := dialRaw(t, n)
		r2.write(joinMsg(tok, true))
		r2.expectError("token_used")
		r2.expectClosed()
	})

	t.Run("oversized frame", func(t *testing.T) {
		r := dialRaw(t, n)
		r.write(`{"type":"publish","sdp":"` + strings.Repeat("x", 70<<10) + `"}`)
		if ce := r.expectClosed(); ce == nil || ce.Code != websocket.CloseMessageTooBig {
			t.Fatalf("close %v, want %d", ce, websocket.CloseMessageTooBig)
		}
	})

	t.Run("others unaffected", func(t *testing.T) {
		before := a.got(b.self)
		waitFor(t, 5*time.Second, "media still flowing a<-b", func() bool {
			return a.got(b.self).videoPackets > before.videoPackets+20
		})
		before = b.got(a.self)
		waitFor(t, 5*time.Second, "media still flowing b<-a", func() bool {
			return b.got(a.self).videoPackets > before.videoPackets+20
		})
	})
}

func TestJoinAPIErrors(t *testing.T) {
	n := startNode(t)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"unknown invite", `{"invite":"AAAAAAAAAAAAAAAAAAAAAA"}`, http.StatusNotFound, "invite_invalid"},
		{"empty invite", `{"invite":""}`, http.StatusNotFound, "invite_invalid"},
		{"sql in invite", `{"invite":"' OR 1=1 --"}`, http.StatusNotFound, "invite_invalid"},
		{"malformed json", `{"invite":`, http.StatusBadRequest, "bad_request"},
		{"wrong type", `{"invite":5}`, http.StatusBadRequest, "bad_request"},
		{"unknown field", `{"invite":"x","admin":true}`, http.StatusBadRequest, "bad_request"},
		{"huge body", `{"invite":"` + strings.Repeat("a", 100<<10) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(n.URL()+"/api/v1/join", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := decodeJSON(resp, &e); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, e, tc.status, tc.code)
			}
		})
	}
}
