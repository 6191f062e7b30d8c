// Package storetest is the conformance suite every store.Store
// implementation must pass. An implementation's tests call Run with a
// function that opens a fresh, empty store.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Run runs the suite as subtests of t. open must return a new, empty,
// migrated store each time it is called, and close it when the test that
// opened it ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"OrgRoundTrip", testOrgRoundTrip},
		{"OrgConflict", testOrgConflict},
		{"AccountRoundTrip", testAccountRoundTrip},
		{"AccountConflict", testAccountConflict},
		{"CaseRoundTrip", testCaseRoundTrip},
		{"CaseNumberConflict", testCaseNumberConflict},
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionsOfCaseOrder", testSessionsOfCaseOrder},
		{"MarkSessionLive", testMarkSessionLive},
		{"ParticipantRoundTrip", testParticipantRoundTrip},
		{"ParticipantsOfSessionOrder", testParticipantsOfSessionOrder},
		{"MarkJoinedLeft", testMarkJoinedLeft},
		{"MarkConsent", testMarkConsent},
		{"InviteRoundTrip", testInviteRoundTrip},
		{"InviteConflict", testInviteConflict},
		{"RevokeInvite", testRevokeInvite},
		{"ReferentialIntegrity", testReferentialIntegrity},
		{"ConcurrentWrites", testConcurrentWrites},
		{"SQLMetacharacters", testSQLMetacharacters},
		{"OrgLookup", testOrgLookup},
		{"AccountsList", testAccountsList},
		{"SearchCases", testSearchCases},
		{"ClerkSearch", testClerkSearch},
		{"CaseSummaries", testCaseSummaries},
		{"AuditActions", testAuditActions},
		{"InviteByID", testInviteByID},
		{"Logins", testLogins},
		{"AuditAppend", testAuditAppend},
		{"AuditConcurrent", testAuditConcurrent},
		{"OrgRetention", testOrgRetention},
		{"EndSession", testEndSession},
		{"Recordings", testRecordings},
		{"RecordingsInState", testRecordingsInState},
		{"Segments", testSegments},
		{"SegmentConflict", testSegmentConflict},
		{"SigningKeys", testSigningKeys},
		{"ClaimRecording", testClaimRecording},
		{"AdoptRecording", testAdoptRecording},
		{"SetRecordingNode", testSetRecordingNode},
		{"RecordingNodesOrder", testRecordingNodesOrder},
		{"AdoptConcurrent", testAdoptConcurrent},
		{"Settlements", testSettlements},
		{"OfficeHours", testOfficeHours},
		{"SelfBooking", testSelfBooking},
		{"BusySessions", testBusySessions},
		{"BookConflicts", testBookConflicts},
		{"BookConcurrent", testBookConcurrent},
		{"Documents", testDocuments},
		{"Journal", testJournal},
		{"IdentityChecks", testIdentityChecks},
		{"IdentityImages", testIdentityImages},
		{"IdentityPolicy", testIdentityPolicy},
		{"IdentityRequiredAndNonces", testIdentityRequiredAndNonces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// t0 is a base time with nanoseconds, outside UTC, to check that stores
// keep at least microseconds and return UTC.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("CST", 8*3600))

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to t.
func ptr(t time.Time) *time.Time { return &t }

// fixture is a chain of records: org, account, case, session, participant.
type fixture struct {
	org         *cases.Org
	account     *cases.Account
	kase        *cases.Case
	session     *cases.Session
	participant *cases.Participant
}

// seed creates a fixture whose org is called orgName.
func seed(t *testing.T, s store.Store, orgName string) *fixture {
	t.Helper()
	f := &fixture{org: newOrg(orgName)}
	f.account = newAccount(f.org, store.NewID()+"@example.org")
	f.kase = newCase(f.org, f.account, "(2025)-"+store.NewID()[:8])
	f.session = newSession(f.kase, at(time.Hour))
	f.participant = newParticipant(f.session, "Zhang San", at(2*time.Hour))
	must(t, "CreateOrg", s.CreateOrg(t.Context(), f.org))
	must(t, "CreateAccount", s.CreateAccount(t.Context(), f.account))
	must(t, "CreateCase", s.CreateCase(t.Context(), f.kase))
	must(t, "CreateSession", s.CreateSession(t.Context(), f.session))
	must(t, "CreateParticipant", s.CreateParticipant(t.Context(), f.participant))
	return f
}

func newOrg(name string) *cases.Org {
	return &cases.Org{ID: store.NewID(), Name: name, CreatedAt: t0}
}

func newAccount(o *cases.Org, email string) *cases.Account {
	return &cases.Account{
		ID: store.NewID(), OrgID: o.ID, Email: email, Name: "Li Si",
		Role: cases.RoleMediator, PasswordHash: "$argon2id$v=19$m=65536,t=2,p=2$c2FsdA$aGFzaA",
		CreatedAt: at(time.Second),
	}
}

func newCase(o *cases.Org, by *cases.Account, number string) *cases.Case {
	c := &cases.Case{
		ID: store.NewID(), OrgID: o.ID, Kind: cases.KindMediation, Number: number,
		Title: "Dispute over a lease", Status: "open", CreatedAt: at(time.Minute),
	}
	if by != nil {
		c.CreatedBy = by.ID
	}
	return c
}

func newSession(c *cases.Case, created time.Time) *cases.Session {
	return &cases.Session{
		ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Title: "First hearing",
		ScheduledStart: at(24 * time.Hour), TimeZone: "Asia/Shanghai",
		WaitingRoom: true, State: "scheduled", CreatedAt: created,
	}
}

func newParticipant(sess *cases.Session, name string, created time.Time) *cases.Participant {
	return &cases.Participant{
		ID: store.NewID(), SessionID: sess.ID, Role: cases.RoleParty, DisplayName: name,
		Language: "zh-CN", TimeZone: "Europe/Rome", Email: "party@example.com", CreatedAt: created,
	}
}

func newInvite(p *cases.Participant, hash byte, created time.Time) *cases.Invite {
	h := make([]byte, 32)
	for i := range h {
		h[i] = hash ^ byte(i)
	}
	return &cases.Invite{
		ID: store.NewID(), ParticipantID: p.ID, SessionID: p.SessionID, TokenHash: h,
		ExpiresAt: at(72 * time.Hour), CreatedAt: created,
	}
}

// must fails the test now if err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks that err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// eq checks a field.
func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// eqTime checks that got is want to the microsecond (PostgreSQL keeps
// microseconds) and in UTC. A zero want needs a zero got.
func eqTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want zero", what, got)
		}
		return
	}
	if d := got.Sub(want).Abs(); d >= time.Microsecond {
		t.Errorf("%s = %v, want %v (off by %v)", what, got, want, d)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
}

// eqNullTime checks an optional time.
func eqNullTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil:
		t.Errorf("%s = nil, want %v", what, *want)
	case want == nil:
		t.Errorf("%s = %v, want nil", what, *got)
	default:
		eqTime(t, what, *got, *want)
	}
}
