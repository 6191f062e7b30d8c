package test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// settler is a websocket participant of the settlement tests.
type settler struct {
	t     *testing.T
	ws    *websocket.Conn
	id    string
	token string // call token
}

func joinSettler(t *testing.T, n *testNode, i int) *settler {
	t.Helper()
	a := n.joinToken(t, i)
	ws := dial(t, a)
	if err := ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true}); err != nil {
		t.Fatal(err)
	}
	s := &settler{t: t, ws: ws, id: a.Participant.ID}
	joined := s.await("joined")
	call, _ := joined["call"].(map[string]any)
	s.token, _ = call["token"].(string)
	return s
}

// await reads until a message of type typ; an error fails the test.
func (s *settler) await(typ string) map[string]any {
	s.t.Helper()
	_ = s.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var m map[string]any
		if err := s.ws.ReadJSON(&m); err != nil {
			s.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
		if m["type"] == "error" {
			s.t.Fatalf("waiting for %s: %v", typ, m)
		}
	}
}

// settlementUntil reads settlement messages until cond holds.
func (s *settler) settlementUntil(what string, cond func(map[string]any) bool) map[string]any {
	s.t.Helper()
	for range 30 {
		if v, _ := s.await("settlement")["settlement"].(map[string]any); cond(v) {
			return v
		}
	}
	s.t.Fatalf("no settlement where %s", what)
	return nil
}

func (s *settler) send(m map[string]any) {
	s.t.Helper()
	if err := s.ws.WriteJSON(m); err != nil {
		s.t.Fatal(err)
	}
}

// fetchStatus GETs url with an Authorization header and returns the
// status, the error code of a JSON error, and the body's SHA-256.
func fetchStatus(t *testing.T, url, authz string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", authz)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error.Code, ""
	}
	sum := sha256.Sum256(b)
	return resp.StatusCode, "", hex.EncodeToString(sum[:])
}

// TestSettlementRoutes: a settlement signed and finalized over the
// websocket (the demo's mediator and its two parties); its signed PDF
// downloads for a party of the session by call token and for staff of the
// organization, not before it is final, not for a participant of another
// session, and not for staff of another organization.
func TestSettlementRoutes(t *testing.T) {
	n := startNode(t)
	med, chen, lin := joinSettler(t, n, 0), joinSettler(t, n, 1), joinSettler(t, n, 2)
	sid := n.demo.SessionID
	med.send(map[string]any{"type": "settlement_draft", "text": "Chen Wei pays Lin Mei 50,000 CNY by 31 December 2026.", "language": "en"})
	med.await("settlement_saved")
	med.send(map[string]any{"type": "settlement_share", "version": 1})
	v := chen.settlementUntil("shared", func(v map[string]any) bool { return v["version"] == 1.0 })
	sha, id := v["sha256"].(string), v["id"].(string)
	drawing := map[string]any{"w": 300, "h": 100, "strokes": [][]int{{10, 10, 50, 80, 120, 20}}}

	callURL := n.URL() + "/api/v1/call/" + sid + "/settlements/" + id
	if status, code, _ := fetchStatus(t, callURL, "Call "+chen.token); status != http.StatusConflict || code != "settlement_not_final" {
		t.Errorf("a party's download before finalizing: %d %s, want 409 settlement_not_final", status, code)
	}
	for _, p := range []*settler{chen, lin} {
		p.send(map[string]any{"type": "settlement_sign", "sha256": sha, "typed_name": map[*settler]string{chen: "Chen Wei", lin: "Lin Mei"}[p], "drawing": drawing})
		med.settlementUntil("signed", func(v map[string]any) bool { return signed(v, p.id) })
		med.send(map[string]any{"type": "settlement_confirm", "id": p.id, "what": "spoken"})
	}
	med.send(map[string]any{"type": "settlement_sign", "sha256": sha, "typed_name": "Zhou Min (mediator)", "drawing": drawing})
	med.settlementUntil("ready", func(v map[string]any) bool { return v["ready"] == true })
	med.send(map[string]any{"type": "settlement_finalize", "sha256": sha})
	final, _ := lin.settlementUntil("final", func(v map[string]any) bool { return v["final"] != nil })["final"].(map[string]any)
	pdfSHA := final["sha256"].(string)

	if status, _, got := fetchStatus(t, callURL, "Call "+lin.token); status != http.StatusOK || got != pdfSHA {
		t.Errorf("a party's download: %d, sha %s, want the PDF %s", status, got, pdfSHA)
	}

	// A participant of another session of the same case.
	mediatorAPI := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	status, out := mediatorAPI.do("POST", "/api/v1/cases/"+n.demo.CaseID+"/sessions", map[string]any{
		"title": "Follow-up", "scheduled_start": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "time_zone": "Asia/Shanghai"})
	if status != http.StatusCreated {
		t.Fatalf("second session: %d %v", status, out)
	}
	other, _ := out["id"].(string)
	status, out = mediatorAPI.do("POST", "/api/v1/sessions/"+other+"/invites", map[string]any{"name": "Chen Wei", "role": "party", "language": "en", "time_zone": "Europe/Rome"})
	if status != http.StatusCreated {
		t.Fatalf("invite: %d %v", status, out)
	}
	var a joinAnswer
	url, _ := out["url"].(string)
	if status, raw := postJSON(t, n.URL()+"/api/v1/join", map[string]string{"invite": url[strings.LastIndex(url, "/join/")+len("/join/"):]}, &a); status != http.StatusOK {
		t.Fatalf("join token: %d %s", status, raw)
	}
	ws := dial(t, a)
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true})
	stranger := &settler{t: t, ws: ws}
	call, _ := stranger.await("joined")["call"].(map[string]any)
	tok, _ := call["token"].(string)
	for _, tc := range []struct {
		name, url string
		status    int
	}{
		{"its own session's path", n.URL() + "/api/v1/call/" + other + "/settlements/" + id, http.StatusNotFound},
		{"the settlement's session's path", callURL, http.StatusNotFound},
	} {
		if status, _, _ := fetchStatus(t, tc.url, "Call "+tok); status != tc.status {
			t.Errorf("a participant of another session, %s: %d, want %d", tc.name, status, tc.status)
		}
	}

	// Staff: the clerk of the organization; a clerk of another one.
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	staffURL := n.URL() + "/api/v1/settlements/" + id + "/pdf"
	if status, _, got := fetchStatus(t, staffURL, "Bearer "+clerk.token); status != http.StatusOK || got != pdfSHA {
		t.Errorf("the clerk's download: %d, sha %s", status, got)
	}
	ctx := context.Background()
	org := &cases.Org{ID: store.NewID(), Name: "Another office", CreatedAt: time.Now().UTC()}
	hash, _ := auth.HashPassword("correct horse battery")
	acct := &cases.Account{ID: store.NewID(), OrgID: org.ID, Email: "clerk@another.example", Name: "Other clerk", Role: cases.RoleClerk, PasswordHash: hash, CreatedAt: time.Now().UTC()}
	if err := n.Store().CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := n.Store().CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	otherClerk := staffClient(t, n.URL(), []map[string]string{{"role": "clerk", "email": acct.Email, "password": "correct horse battery"}}, "clerk")
	if status, _, _ := fetchStatus(t, staffURL, "Bearer "+otherClerk.token); status != http.StatusNotFound {
		t.Errorf("another organization's clerk: %d, want 404", status)
	}
	if status, _ := otherClerk.do("GET", "/api/v1/cases/"+n.demo.CaseID+"/settlements", nil); status != http.StatusNotFound {
		t.Errorf("another organization's clerk lists the case's settlements: %d, want 404", status)
	}
	status, list := clerk.do("GET", "/api/v1/cases/"+n.demo.CaseID+"/settlements", nil)
	items, _ := list["settlements"].([]any)
	if status != http.StatusOK || len(items) != 1 {
		t.Errorf("the clerk's list: %d %v", status, list)
	}
}

func signed(v map[string]any, pid string) bool {
	for _, g := range v["signers"].([]any) {
		if g := g.(map[string]any); g["participant_id"] == pid {
			return g["signed"] == true
		}
	}
	return false
}
