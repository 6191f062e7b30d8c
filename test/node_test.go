package test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func TestHealthAndReady(t *testing.T) {
	n := startNode(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(n.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestDemoIsIdempotentAndWritesDemoJSON(t *testing.T) {
	n := startNode(t)
	again, err := n.Demo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, n.demo) {
		t.Fatalf("second demo differs:\n%+v\n%+v", again, n.demo)
	}
	b, err := os.ReadFile(filepath.Join(n.dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	if len(doc) != 6 || doc["case_id"] == nil || doc["session_id"] == nil || doc["join_urls"] == nil || doc["accounts"] == nil || doc["book_urls"] == nil ||
		doc["notary_urls"] == nil {
		t.Fatalf("demo.json keys %v", keys)
	}
	var f struct {
		JoinURLs []map[string]string `json:"join_urls"`
		Accounts []map[string]string `json:"accounts"`
	}
	_ = json.Unmarshal(b, &f)
	if len(f.JoinURLs) != 3 || f.JoinURLs[0]["role"] != "mediator" || f.JoinURLs[1]["role"] != "party" || f.JoinURLs[2]["role"] != "party" {
		t.Fatalf("join urls %v", f.JoinURLs)
	}
	roles := map[string]bool{}
	for _, a := range f.Accounts {
		roles[a["role"]] = a["email"] != "" && a["password"] != ""
	}
	if !roles["mediator"] || !roles["clerk"] || !roles["admin"] {
		t.Fatalf("accounts %v", f.Accounts)
	}
	// The printed password is the one the store checks.
	acc, err := n.Store().AccountByEmail(context.Background(), f.Accounts[1]["email"])
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.CheckPassword(acc.PasswordHash, f.Accounts[1]["password"]); !ok || err != nil {
		t.Fatalf("demo password does not check: %v", err)
	}
	sess, err := n.Store().Session(context.Background(), n.demo.SessionID)
	if err != nil || !sess.Record || sess.WaitingRoom {
		t.Fatalf("demo session %+v %v", sess, err)
	}
}

func TestRevokedAndExpiredInvites(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	st := n.Store()
	parts, err := st.ParticipantsOfSession(ctx, n.demo.SessionID)
	if err != nil || len(parts) == 0 {
		t.Fatalf("participants: %v", err)
	}
	now := time.Now().UTC()
	mk := func(exp time.Time) (string, *cases.Invite) {
		tok := auth.InviteToken()
		inv := &cases.Invite{ID: store.NewID(), ParticipantID: parts[1].ID, SessionID: n.demo.SessionID,
			TokenHash: auth.HashToken(tok), ExpiresAt: exp, CreatedAt: now}
		if err := st.CreateInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
		return tok, inv
	}
	expiredTok, _ := mk(now.Add(-time.Minute))
	revokedTok, revoked := mk(now.Add(time.Hour))
	if err := st.RevokeInvite(ctx, revoked.ID, now); err != nil {
		t.Fatal(err)
	}
	for tok, code := range map[string]string{expiredTok: "invite_expired", revokedTok: "invite_revoked"} {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		status, raw := postJSON(t, n.URL()+"/api/v1/join", map[string]string{"invite": tok}, nil)
		_ = json.Unmarshal(raw, &e)
		if status != http.StatusGone || e.Error.Code != code {
			t.Errorf("got %d %s, want 410 %s", status, raw, code)
		}
	}
}
