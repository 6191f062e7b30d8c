package storetest

import (
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func checkOrg(t *testing.T, got, want *cases.Org) {
	t.Helper()
	eq(t, "Org.ID", got.ID, want.ID)
	eq(t, "Org.Name", got.Name, want.Name)
	eqTime(t, "Org.CreatedAt", got.CreatedAt, want.CreatedAt)
	eq(t, "Org.RetentionDays", got.RetentionDays, want.RetentionDays)
	eq(t, "Org.RetentionMode", got.RetentionMode, want.RetentionMode)
}

func checkAccount(t *testing.T, got, want *cases.Account) {
	t.Helper()
	eq(t, "Account.ID", got.ID, want.ID)
	eq(t, "Account.OrgID", got.OrgID, want.OrgID)
	eq(t, "Account.Email", got.Email, want.Email)
	eq(t, "Account.Name", got.Name, want.Name)
	eq(t, "Account.Role", got.Role, want.Role)
	eq(t, "Account.PasswordHash", got.PasswordHash, want.PasswordHash)
	eqTime(t, "Account.CreatedAt", got.CreatedAt, want.CreatedAt)
	eqNullTime(t, "Account.DisabledAt", got.DisabledAt, want.DisabledAt)
}

func testOrgRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("Hangzhou Internet Court")
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	must(t, "CreateOrg other", s.CreateOrg(ctx, newOrg("Milano Notary Office")))
	got, err := s.OrgByName(ctx, o.Name)
	must(t, "OrgByName", err)
	checkOrg(t, got, o)

	got, err = s.OrgByName(ctx, "Hangzhou")
	wantErr(t, "OrgByName(prefix)", err, store.ErrNotFound)
	if got != nil {
		t.Errorf("OrgByName(prefix) = %+v, want nil", got)
	}
}

func testOrgConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("Court")
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	sameID := &cases.Org{ID: o.ID, Name: "Another", CreatedAt: t0}
	wantErr(t, "CreateOrg(same id)", s.CreateOrg(ctx, sameID), store.ErrConflict)
	wantErr(t, "CreateOrg(same name)", s.CreateOrg(ctx, newOrg("Court")), store.ErrConflict)
	_, err := s.OrgByName(ctx, "Another")
	wantErr(t, "OrgByName(rejected)", err, store.ErrNotFound)
}

func testAccountRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("Court")
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	active := newAccount(o, "clerk@court.example")
	active.Role = cases.RoleClerk
	disabled := newAccount(o, "judge@court.example")
	disabled.Role = cases.RoleJudge
	disabled.DisabledAt = ptr(at(48 * time.Hour))
	for _, a := range []*cases.Account{active, disabled} {
		must(t, "CreateAccount", s.CreateAccount(ctx, a))
	}
	for _, a := range []*cases.Account{active, disabled} {
		got, err := s.Account(ctx, a.ID)
		must(t, "Account", err)
		checkAccount(t, got, a)
		got, err = s.AccountByEmail(ctx, a.Email)
		must(t, "AccountByEmail", err)
		checkAccount(t, got, a)
	}
	_, err := s.Account(ctx, store.NewID())
	wantErr(t, "Account(unknown)", err, store.ErrNotFound)
	_, err = s.AccountByEmail(ctx, "nobody@court.example")
	wantErr(t, "AccountByEmail(unknown)", err, store.ErrNotFound)
}

func testAccountConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("Court")
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	a := newAccount(o, "mediator@court.example")
	must(t, "CreateAccount", s.CreateAccount(ctx, a))

	dupEmail := newAccount(o, a.Email)
	dupEmail.Name = "Impostor"
	wantErr(t, "CreateAccount(same email)", s.CreateAccount(ctx, dupEmail), store.ErrConflict)
	dupID := newAccount(o, "other@court.example")
	dupID.ID = a.ID
	wantErr(t, "CreateAccount(same id)", s.CreateAccount(ctx, dupID), store.ErrConflict)

	got, err := s.AccountByEmail(ctx, a.Email)
	must(t, "AccountByEmail", err)
	checkAccount(t, got, a)
	_, err = s.Account(ctx, dupEmail.ID)
	wantErr(t, "Account(rejected)", err, store.ErrNotFound)
}
