package test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// callGet sends GET path with "Authorization: Call <token>" (none when
// token is "") and decodes a JSON answer.
func callGet(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Call "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestCallTokenSpeaksForItsParticipant: joined carries a call token; the
// call routes take it for that participant of that session only, and
// nothing else in its place.
func TestCallTokenSpeaksForItsParticipant(t *testing.T) {
	n := startNode(t)
	a := n.joinToken(t, 1)
	ws := dial(t, a)
	if err := ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true}); err != nil {
		t.Fatal(err)
	}
	var joined struct {
		Type string `json:"type"`
		Call struct {
			Token     string    `json:"token"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"call"`
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for joined.Type != "joined" {
		if err := ws.ReadJSON(&joined); err != nil {
			t.Fatalf("waiting for joined: %v", err)
		}
	}
	if joined.Call.Token == "" || time.Until(joined.Call.ExpiresAt) < time.Hour {
		t.Fatalf("joined carries call %+v, want a token good for hours", joined.Call)
	}

	base := n.URL() + "/api/v1/call/"
	status, me := callGet(t, base+a.Session.ID+"/me", joined.Call.Token)
	if status != http.StatusOK || me["participant_id"] != a.Participant.ID || me["session_id"] != a.Session.ID || me["role"] != "party" {
		t.Fatalf("me = %d %v, want participant %s", status, me, a.Participant.ID)
	}
	for _, tc := range []struct {
		name, url, token string
		status           int
		code             string
	}{
		{"no token", base + a.Session.ID + "/me", "", http.StatusUnauthorized, "call_token_invalid"},
		{"the join token", base + a.Session.ID + "/me", a.JoinToken, http.StatusUnauthorized, "call_token_invalid"},
		{"a forged token", base + a.Session.ID + "/me", joined.Call.Token + "x", http.StatusUnauthorized, "call_token_invalid"},
		{"another session", base + "another-session/me", joined.Call.Token, http.StatusNotFound, "not_found"},
	} {
		status, m := callGet(t, tc.url, tc.token)
		e, _ := m["error"].(map[string]any)
		code, _ := e["code"].(string)
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, m, tc.status, tc.code)
		}
	}
}
