package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func testOrgLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	list, err := s.Orgs(ctx)
	must(t, "Orgs(empty store)", err)
	eq(t, "len(Orgs(empty store))", len(list), 0)

	// Created out of order; all capitalized, so that byte order and
	// dictionary order agree.
	names := []string{"Milano Notary Office", "Hangzhou Internet Court", "Wenzhou Mediation Committee", "Beijing Court"}
	byName := map[string]*cases.Org{}
	for _, n := range names {
		o := newOrg(n)
		must(t, "CreateOrg", s.CreateOrg(ctx, o))
		byName[n] = o
		got, err := s.Org(ctx, o.ID)
		must(t, "Org", err)
		checkOrg(t, got, o)
	}
	list, err = s.Orgs(ctx)
	must(t, "Orgs", err)
	want := []string{"Beijing Court", "Hangzhou Internet Court", "Milano Notary Office", "Wenzhou Mediation Committee"}
	if len(list) != len(want) {
		t.Fatalf("Orgs returned %d, want %d", len(list), len(want))
	}
	for i, n := range want {
		checkOrg(t, list[i], byName[n])
	}
	_, err = s.Org(ctx, store.NewID())
	wantErr(t, "Org(unknown)", err, store.ErrNotFound)
	_, err = s.Org(ctx, "")
	wantErr(t, "Org(empty id)", err, store.ErrNotFound)
}

func testAccountsList(t *testing.T, s store.Store) {
	ctx := t.Context()
	court, notary := newOrg("Court"), newOrg("Notary")
	must(t, "CreateOrg", s.CreateOrg(ctx, court))
	must(t, "CreateOrg", s.CreateOrg(ctx, notary))
	list, err := s.Accounts(ctx, court.ID)
	must(t, "Accounts(no accounts)", err)
	eq(t, "len(Accounts(no accounts))", len(list), 0)

	wang := newAccount(court, "wang@court.example")
	li := newAccount(court, "li@court.example")
	zhao := newAccount(notary, "zhao@notary.example")
	ann := newAccount(notary, "ann@notary.example")
	ann.DisabledAt = ptr(at(time.Hour))
	for _, a := range []*cases.Account{wang, li, zhao, ann} {
		must(t, "CreateAccount", s.CreateAccount(ctx, a))
	}
	for _, tc := range []struct {
		org  string
		want []*cases.Account
	}{
		{court.ID, []*cases.Account{li, wang}},
		{notary.ID, []*cases.Account{ann, zhao}},
		{"", []*cases.Account{ann, li, wang, zhao}},
		{store.NewID(), nil},
	} {
		list, err := s.Accounts(ctx, tc.org)
		must(t, "Accounts", err)
		if len(list) != len(tc.want) {
			t.Errorf("Accounts(%q) returned %d, want %d", tc.org, len(list), len(tc.want))
			continue
		}
		for i, a := range tc.want {
			checkAccount(t, list[i], a)
		}
	}
}

func testInviteByID(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	first := newInvite(f.participant, 1, at(time.Hour))
	second := newInvite(f.participant, 2, at(2*time.Hour))
	second.RevokedAt = ptr(at(3 * time.Hour))
	for _, i := range []*cases.Invite{first, second} {
		must(t, "CreateInvite", s.CreateInvite(ctx, i))
	}
	for _, want := range []*cases.Invite{first, second} {
		got, err := s.Invite(ctx, want.ID)
		must(t, "Invite", err)
		checkInvite(t, got, want)
	}
	_, err := s.Invite(ctx, store.NewID())
	wantErr(t, "Invite(unknown)", err, store.ErrNotFound)
}

func checkLogin(t *testing.T, got, want *cases.Login) {
	t.Helper()
	if !bytes.Equal(got.TokenHash, want.TokenHash) {
		t.Errorf("Login.TokenHash = %x, want %x", got.TokenHash, want.TokenHash)
	}
	eq(t, "Login.AccountID", got.AccountID, want.AccountID)
	eq(t, "Login.CSRF", got.CSRF, want.CSRF)
	eq(t, "Login.IP", got.IP, want.IP)
	eq(t, "Login.UserAgent", got.UserAgent, want.UserAgent)
	eqTime(t, "Login.CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(t, "Login.ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func newLogin(a *cases.Account, hash byte, expires time.Time) *cases.Login {
	h := make([]byte, 32)
	for i := range h {
		h[i] = hash + byte(i)
	}
	return &cases.Login{
		TokenHash: h, AccountID: a.ID, CSRF: store.NewID(), IP: "2001:db8::7",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) 浏览器", CreatedAt: at(0), ExpiresAt: expires,
	}
}

// login reads a login, failing the test if it cannot.
func login(t *testing.T, s store.Store, hash []byte) *cases.Login {
	t.Helper()
	l, err := s.LoginByTokenHash(t.Context(), hash)
	must(t, "LoginByTokenHash", err)
	return l
}

func testLogins(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	gone := newLogin(f.account, 1, at(time.Hour))
	expired := newLogin(f.account, 2, at(3*time.Hour))
	boundary := newLogin(f.account, 3, at(4*time.Hour)) // expires at now: kept
	live := newLogin(f.account, 4, at(5*time.Hour))
	for _, l := range []*cases.Login{gone, expired, boundary, live} {
		must(t, "CreateLogin", s.CreateLogin(ctx, l))
		checkLogin(t, login(t, s, l.TokenHash), l)
	}
	dup := newLogin(f.account, 4, at(9*time.Hour))
	wantErr(t, "CreateLogin(same hash)", s.CreateLogin(ctx, dup), store.ErrConflict)
	checkLogin(t, login(t, s, live.TokenHash), live)
	orphan := newLogin(&cases.Account{ID: store.NewID()}, 5, at(time.Hour))
	if err := s.CreateLogin(ctx, orphan); err == nil {
		t.Error("CreateLogin for an unknown account succeeded")
	}
	_, err := s.LoginByTokenHash(ctx, orphan.TokenHash)
	wantErr(t, "LoginByTokenHash(unknown)", err, store.ErrNotFound)

	must(t, "DeleteLogin", s.DeleteLogin(ctx, gone.TokenHash))
	_, err = s.LoginByTokenHash(ctx, gone.TokenHash)
	wantErr(t, "LoginByTokenHash(deleted)", err, store.ErrNotFound)
	must(t, "DeleteLogin again", s.DeleteLogin(ctx, gone.TokenHash))

	n, err := s.DeleteExpiredLogins(ctx, at(4*time.Hour))
	must(t, "DeleteExpiredLogins", err)
	eq(t, "DeleteExpiredLogins count", n, 1)
	_, err = s.LoginByTokenHash(ctx, expired.TokenHash)
	wantErr(t, "LoginByTokenHash(expired)", err, store.ErrNotFound)
	checkLogin(t, login(t, s, boundary.TokenHash), boundary)
	checkLogin(t, login(t, s, live.TokenHash), live)
	n, err = s.DeleteExpiredLogins(ctx, at(4*time.Hour))
	must(t, "DeleteExpiredLogins again", err)
	eq(t, "DeleteExpiredLogins again count", n, 0)
}
