package test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// joinWS joins the demo session as invite i and returns the connection
// and the call token once joined.
func joinWS(t *testing.T, n *testNode, i int) (*websocket.Conn, string) {
	t.Helper()
	a := n.joinToken(t, i)
	ws := dial(t, a)
	if err := ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true}); err != nil {
		t.Fatal(err)
	}
	var joined struct {
		Type string `json:"type"`
		Call struct {
			Token string `json:"token"`
		} `json:"call"`
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for joined.Type != "joined" {
		if err := ws.ReadJSON(&joined); err != nil {
			t.Fatalf("waiting for joined: %v", err)
		}
	}
	return ws, joined.Call.Token
}

// TestIdentityMessageReachesPresider: the join answer says identity
// verification is required; a party's refusal of the biometric consent (a
// call route) reaches the mediator's websocket at once as an identity
// message, and the party's own.
func TestIdentityMessageReachesPresider(t *testing.T) {
	n := startNode(t)
	staff := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	if status, out := staff.do("PUT", "/api/v1/sessions/"+n.demo.SessionID+"/identity", map[string]any{"required": true}); status != http.StatusOK {
		t.Fatalf("requiring identity verification: %d %v", status, out)
	}
	var info struct {
		Session struct {
			IdentityRequired bool `json:"identity_required"`
		} `json:"session"`
	}
	if status, raw := postJSON(t, n.URL()+"/api/v1/join", map[string]string{"invite": n.invite(t, 1)}, &info); status != 200 || !info.Session.IdentityRequired {
		t.Fatalf("join answer for a party: %d %s, want identity_required", status, raw)
	}
	host, _ := joinWS(t, n, 0)
	party, partyToken := joinWS(t, n, 1)
	partyID := n.joinToken(t, 1).Participant.ID

	call := func(token, path string, body any) int {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", n.URL()+"/api/v1/call/"+n.demo.SessionID+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Call "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := call(partyToken, "/identity/consent", map[string]any{"consent": false}); status != 200 {
		t.Fatalf("refusal: %d", status)
	}
	waitIdentity := func(ws *websocket.Conn, who, state string) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatalf("%s waiting for the identity message: %v", who, err)
			}
			if m["type"] == "identity" && m["state"] == state {
				if m["participant_id"] != partyID || m["check_id"] == "" {
					t.Errorf("%s got %v", who, m)
				}
				return
			}
		}
	}
	waitIdentity(host, "the mediator", "refused")
	waitIdentity(party, "the party", "refused")
}
