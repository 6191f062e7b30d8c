package storetest

import (
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func checkCase(t *testing.T, got, want *cases.Case) {
	t.Helper()
	eq(t, "Case.ID", got.ID, want.ID)
	eq(t, "Case.OrgID", got.OrgID, want.OrgID)
	eq(t, "Case.Kind", got.Kind, want.Kind)
	eq(t, "Case.Number", got.Number, want.Number)
	eq(t, "Case.Title", got.Title, want.Title)
	eq(t, "Case.Status", got.Status, want.Status)
	eq(t, "Case.CreatedBy", got.CreatedBy, want.CreatedBy)
	eqTime(t, "Case.CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkSession(t *testing.T, got, want *cases.Session) {
	t.Helper()
	eq(t, "Session.ID", got.ID, want.ID)
	eq(t, "Session.CaseID", got.CaseID, want.CaseID)
	eq(t, "Session.OrgID", got.OrgID, want.OrgID)
	eq(t, "Session.Title", got.Title, want.Title)
	eqTime(t, "Session.ScheduledStart", got.ScheduledStart, want.ScheduledStart)
	eqTime(t, "Session.ScheduledEnd", got.ScheduledEnd, want.ScheduledEnd)
	eq(t, "Session.TimeZone", got.TimeZone, want.TimeZone)
	eq(t, "Session.Record", got.Record, want.Record)
	eq(t, "Session.WaitingRoom", got.WaitingRoom, want.WaitingRoom)
	eq(t, "Session.State", got.State, want.State)
	eqNullTime(t, "Session.StartedAt", got.StartedAt, want.StartedAt)
	eqNullTime(t, "Session.EndedAt", got.EndedAt, want.EndedAt)
	eqTime(t, "Session.CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testCaseRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	noCreator := newCase(f.org, nil, "(2025) No. 2")
	noCreator.Kind = cases.KindNotarization
	noCreator.Status = "closed"
	must(t, "CreateCase", s.CreateCase(ctx, noCreator))

	for _, c := range []*cases.Case{f.kase, noCreator} {
		got, err := s.Case(ctx, c.ID)
		must(t, "Case", err)
		checkCase(t, got, c)
		got, err = s.CaseByNumber(ctx, c.OrgID, c.Number)
		must(t, "CaseByNumber", err)
		checkCase(t, got, c)
	}
	_, err := s.Case(ctx, store.NewID())
	wantErr(t, "Case(unknown)", err, store.ErrNotFound)
	_, err = s.CaseByNumber(ctx, f.org.ID, "(2025) No. 404")
	wantErr(t, "CaseByNumber(unknown number)", err, store.ErrNotFound)
	_, err = s.CaseByNumber(ctx, store.NewID(), noCreator.Number)
	wantErr(t, "CaseByNumber(other org)", err, store.ErrNotFound)
}

func testCaseNumberConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	dup := newCase(f.org, f.account, f.kase.Number)
	wantErr(t, "CreateCase(same number, same org)", s.CreateCase(ctx, dup), store.ErrConflict)
	dupID := newCase(f.org, f.account, "(2025) No. 3")
	dupID.ID = f.kase.ID
	wantErr(t, "CreateCase(same id)", s.CreateCase(ctx, dupID), store.ErrConflict)

	other := newOrg("Notary")
	must(t, "CreateOrg", s.CreateOrg(ctx, other))
	elsewhere := newCase(other, nil, f.kase.Number)
	must(t, "CreateCase(same number, other org)", s.CreateCase(ctx, elsewhere))
	got, err := s.CaseByNumber(ctx, other.ID, f.kase.Number)
	must(t, "CaseByNumber(other org)", err)
	checkCase(t, got, elsewhere)
	got, err = s.CaseByNumber(ctx, f.org.ID, f.kase.Number)
	must(t, "CaseByNumber(first org)", err)
	checkCase(t, got, f.kase)
}

func testSessionRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	full := newSession(f.kase, at(3*time.Hour))
	full.Title = "Signing"
	full.ScheduledEnd = at(25 * time.Hour)
	full.TimeZone = "Europe/Rome"
	full.Record, full.WaitingRoom = true, false
	full.State = "ended"
	full.StartedAt = ptr(at(24*time.Hour + time.Microsecond))
	full.EndedAt = ptr(at(25*time.Hour + 7*time.Microsecond))
	must(t, "CreateSession", s.CreateSession(ctx, full))

	for _, want := range []*cases.Session{f.session, full} {
		got, err := s.Session(ctx, want.ID)
		must(t, "Session", err)
		checkSession(t, got, want)
	}
	_, err := s.Session(ctx, store.NewID())
	wantErr(t, "Session(unknown)", err, store.ErrNotFound)
}

func testSessionsOfCaseOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court") // f.session created at t0+1h
	other := newCase(f.org, nil, "(2025) other")
	must(t, "CreateCase", s.CreateCase(ctx, other))
	must(t, "CreateSession(other case)", s.CreateSession(ctx, newSession(other, at(0))))

	late := newSession(f.kase, at(5*time.Hour))
	tieB := newSession(f.kase, at(2*time.Hour))
	tieB.ID = "b-" + tieB.ID
	tieA := newSession(f.kase, at(2*time.Hour))
	tieA.ID = "a-" + tieA.ID
	early := newSession(f.kase, at(time.Minute))
	for _, x := range []*cases.Session{late, tieB, tieA, early} {
		must(t, "CreateSession", s.CreateSession(ctx, x))
	}
	got, err := s.SessionsOfCase(ctx, f.kase.ID)
	must(t, "SessionsOfCase", err)
	want := []*cases.Session{early, f.session, tieA, tieB, late}
	if len(got) != len(want) {
		t.Fatalf("SessionsOfCase returned %d sessions, want %d", len(got), len(want))
	}
	for i := range want {
		checkSession(t, got[i], want[i])
	}
	got, err = s.SessionsOfCase(ctx, store.NewID())
	must(t, "SessionsOfCase(unknown)", err)
	eq(t, "len(SessionsOfCase(unknown))", len(got), 0)
}

func testMarkSessionLive(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	must(t, "MarkSessionLive", s.MarkSessionLive(ctx, f.session.ID, at(24*time.Hour)))
	must(t, "MarkSessionLive again", s.MarkSessionLive(ctx, f.session.ID, at(26*time.Hour)))
	got, err := s.Session(ctx, f.session.ID)
	must(t, "Session", err)
	want := *f.session
	want.State = "live"
	want.StartedAt = ptr(at(24 * time.Hour))
	checkSession(t, got, &want)
	wantErr(t, "MarkSessionLive(unknown)", s.MarkSessionLive(ctx, store.NewID(), t0), store.ErrNotFound)
}
