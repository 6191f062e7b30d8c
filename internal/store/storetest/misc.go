package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// testReferentialIntegrity checks that records cannot point at records
// that do not exist, that a session belongs to the organization of its
// case, and that an invite belongs to the session of its participant.
func testReferentialIntegrity(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	other := newOrg("Elsewhere")
	must(t, "CreateOrg", s.CreateOrg(ctx, other))
	otherSession := newSession(f.kase, at(0))
	must(t, "CreateSession", s.CreateSession(ctx, otherSession))

	a := newAccount(&cases.Org{ID: store.NewID()}, "orphan@example.org")
	if err := s.CreateAccount(ctx, a); err == nil {
		t.Error("CreateAccount with an unknown org succeeded")
	}
	sess := newSession(&cases.Case{ID: store.NewID(), OrgID: f.org.ID}, t0)
	if err := s.CreateSession(ctx, sess); err == nil {
		t.Error("CreateSession with an unknown case succeeded")
	}
	sess = newSession(f.kase, t0)
	sess.OrgID = other.ID
	if err := s.CreateSession(ctx, sess); err == nil {
		t.Error("CreateSession with the case of another org succeeded")
	}
	p := newParticipant(&cases.Session{ID: store.NewID()}, "Nobody", t0)
	if err := s.CreateParticipant(ctx, p); err == nil {
		t.Error("CreateParticipant with an unknown session succeeded")
	}
	p = newParticipant(f.session, "Interpreter", t0)
	p.Role, p.InterpretsFor = cases.RoleInterpreter, store.NewID()
	if err := s.CreateParticipant(ctx, p); err == nil {
		t.Error("CreateParticipant interpreting for an unknown participant succeeded")
	}
	_, err := s.Participant(ctx, p.ID)
	wantErr(t, "Participant(rejected interpreter)", err, store.ErrNotFound)
	i := newInvite(f.participant, 1, t0)
	i.SessionID = otherSession.ID
	if err := s.CreateInvite(ctx, i); err == nil {
		t.Error("CreateInvite for the participant of another session succeeded")
	}
	_, err = s.Session(ctx, sess.ID)
	wantErr(t, "Session(rejected)", err, store.ErrNotFound)
	_, err = s.InviteByTokenHash(ctx, i.TokenHash)
	wantErr(t, "InviteByTokenHash(rejected)", err, store.ErrNotFound)
}

// testConcurrentWrites runs writers in parallel: each creates and joins
// its own participant, and all join and consent as one shared participant.
func testConcurrentWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Court")
	shared := f.participant.ID
	const n = 8
	var times []time.Time
	var ips []string
	for i := range n {
		times = append(times, at(time.Duration(i+10)*time.Hour))
		ips = append(ips, fmt.Sprintf("192.0.2.%d", i+1))
	}
	own := make([]*cases.Participant, n)
	var wg sync.WaitGroup
	for i := range n {
		own[i] = newParticipant(f.session, fmt.Sprintf("P%d", i), at(time.Duration(i)*time.Second))
		wg.Go(func() {
			if err := s.CreateParticipant(ctx, own[i]); err != nil {
				t.Errorf("CreateParticipant %d: %v", i, err)
			}
			if err := s.MarkJoined(ctx, own[i].ID, times[i], ips[i]); err != nil {
				t.Errorf("MarkJoined own %d: %v", i, err)
			}
			if err := s.MarkJoined(ctx, shared, times[i], ips[i]); err != nil {
				t.Errorf("MarkJoined shared %d: %v", i, err)
			}
			if err := s.MarkConsent(ctx, shared, times[i]); err != nil {
				t.Errorf("MarkConsent shared %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	checkConcurrentWrites(t, s, f.session.ID, shared, own, times, ips)
}

func checkConcurrentWrites(t *testing.T, s store.Store, sessionID, shared string,
	own []*cases.Participant, times []time.Time, ips []string) {
	t.Helper()
	for i, p := range own {
		got := participant(t, s, p.ID)
		eqNullTime(t, "own JoinedAt", got.JoinedAt, &times[i])
		eq(t, "own LastIP", got.LastIP, ips[i])
	}
	got := participant(t, s, shared)
	if got.JoinedAt == nil || got.ConsentAt == nil {
		t.Fatalf("shared participant JoinedAt %v, ConsentAt %v: want both set", got.JoinedAt, got.ConsentAt)
	}
	isOneOf := func(x time.Time) bool {
		return slices.ContainsFunc(times, func(y time.Time) bool { return x.Sub(y).Abs() < time.Microsecond })
	}
	if !isOneOf(*got.JoinedAt) || !isOneOf(*got.ConsentAt) || !slices.Contains(ips, got.LastIP) {
		t.Errorf("shared participant = joined %v, consent %v, ip %q: not one of the writes",
			got.JoinedAt, got.ConsentAt, got.LastIP)
	}
	all, err := s.ParticipantsOfSession(t.Context(), sessionID)
	must(t, "ParticipantsOfSession", err)
	eq(t, "len(ParticipantsOfSession)", len(all), len(own)+1)
}

// evil holds SQL and LIKE metacharacters, quotes, backslashes, a newline
// and non-ASCII text.
const evil = "Robert'); DROP TABLE cases;--" + ` "q" \ 100% _x_ ` + "\n张三 Mediazione — ☃"

func testSQLMetacharacters(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(evil)
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	gotOrg, err := s.OrgByName(ctx, evil)
	must(t, "OrgByName", err)
	checkOrg(t, gotOrg, o)

	a := newAccount(o, "o'brien+%_@example.org")
	a.Name = evil
	must(t, "CreateAccount", s.CreateAccount(ctx, a))
	gotAccount, err := s.AccountByEmail(ctx, a.Email)
	must(t, "AccountByEmail", err)
	checkAccount(t, gotAccount, a)

	c := newCase(o, a, evil)
	c.Title = evil
	must(t, "CreateCase", s.CreateCase(ctx, c))
	gotCase, err := s.CaseByNumber(ctx, o.ID, evil)
	must(t, "CaseByNumber", err)
	checkCase(t, gotCase, c)
	_, err = s.CaseByNumber(ctx, o.ID, "%")
	wantErr(t, "CaseByNumber(%)", err, store.ErrNotFound)

	sess := newSession(c, t0)
	sess.Title = evil
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	p := newParticipant(sess, evil, t0)
	must(t, "CreateParticipant", s.CreateParticipant(ctx, p))
	must(t, "MarkJoined", s.MarkJoined(ctx, p.ID, t0, evil))
	p.JoinedAt, p.LastIP = ptr(t0), evil
	checkParticipant(t, participant(t, s, p.ID), p)

	// The cases table is still there.
	must(t, "CreateCase after", s.CreateCase(ctx, newCase(o, nil, "after")))
}
