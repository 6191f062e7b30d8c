package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// clerkFixture is an organization whose cases a clerk searches by party
// name, date, presider and order.
type clerkFixture struct {
	org                      *cases.Org
	judge, mediator, clerk   *cases.Account
	rossi, wang, lin, nobody *cases.Case // by creation: rossi oldest
}

// seedClerk creates the fixture:
//
//	rossi   created t0+1h, number "B-2", title "eredità", party Niccolò Rossi,
//	        session scheduled t0+10d, presided by the judge
//	wang    created t0+2h, number "a-10", title "Lease", party 王小明,
//	        sessions scheduled t0+20d and t0+3d started t0+30d
//	lin     created t0+3h, number "C-3", title "Èlite", interpreter Lin Mei,
//	        session scheduled t0+5d, presided by the mediator (twice) and
//	        the judge; created by the clerk
//	nobody  created t0+3h (tie with lin, whose id sorts first), number "a-9",
//	        title "lease", no session
func seedClerk(t *testing.T, s store.Store) *clerkFixture {
	t.Helper()
	ctx := t.Context()
	f := &clerkFixture{org: newOrg("Hangzhou Court " + store.NewID())}
	must(t, "CreateOrg", s.CreateOrg(ctx, f.org))
	acct := func(name string, role cases.Role) *cases.Account {
		a := newAccount(f.org, store.NewID()+"@example.org")
		a.Name, a.Role = name, role
		must(t, "CreateAccount", s.CreateAccount(ctx, a))
		return a
	}
	f.judge, f.mediator, f.clerk = acct("Judge Zhao", cases.RoleJudge), acct("Mediator Qian", cases.RoleMediator), acct("Clerk Sun", cases.RoleClerk)
	mk := func(number, title string, created time.Duration, by *cases.Account, prefix string) *cases.Case {
		c := newCase(f.org, by, number)
		c.ID, c.Title, c.CreatedAt = prefix+c.ID, title, at(created)
		must(t, "CreateCase", s.CreateCase(ctx, c))
		return c
	}
	f.rossi = mk("B-2", "eredità", time.Hour, nil, "")
	f.wang = mk("a-10", "Lease", 2*time.Hour, nil, "")
	f.lin = mk("C-3", "Èlite", 3*time.Hour, f.clerk, "a-") // lin and nobody tie on time:
	f.nobody = mk("a-9", "lease", 3*time.Hour, nil, "b-")  // lin's id sorts first
	day := 24 * time.Hour
	session := func(c *cases.Case, scheduled time.Duration, started *time.Duration) *cases.Session {
		sess := newSession(c, at(0))
		sess.ScheduledStart = at(scheduled)
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		if started != nil {
			must(t, "MarkSessionLive", s.MarkSessionLive(ctx, sess.ID, at(*started)))
		}
		return sess
	}
	person := func(sess *cases.Session, name string, role cases.Role, account *cases.Account) {
		p := newParticipant(sess, name, at(0))
		p.Role = role
		if account != nil {
			p.AccountID = account.ID
		}
		must(t, "CreateParticipant", s.CreateParticipant(ctx, p))
	}
	r := session(f.rossi, 10*day, nil)
	person(r, "Niccolò Rossi", cases.RoleParty, nil)
	person(r, "Judge Zhao", cases.RoleJudge, f.judge)
	session(f.wang, 20*day, nil)
	started := 30 * day
	w := session(f.wang, 3*day, &started)
	person(w, "王小明", cases.RoleParty, nil)
	person(w, "Clerk Sun", cases.RoleObserver, f.clerk) // takes part, does not preside
	l := session(f.lin, 5*day, nil)
	person(l, "Lin Mei", cases.RoleInterpreter, nil)
	person(l, "Mediator Qian", cases.RoleMediator, f.mediator)
	l2 := session(f.lin, 6*day, nil)
	person(l2, "Mediator Qian", cases.RoleMediator, f.mediator)
	person(l2, "Judge Zhao", cases.RoleJudge, f.judge)
	return f
}

func testClerkSearch(t *testing.T, s store.Store) {
	f := seedClerk(t, s)
	q := func(mod func(*cases.CaseQuery)) cases.CaseQuery {
		cq := cases.CaseQuery{OrgID: f.org.ID}
		mod(&cq)
		return cq
	}
	text := func(s string) cases.CaseQuery { return q(func(cq *cases.CaseQuery) { cq.Text = s }) }
	t.Run("Names", func(t *testing.T) {
		for _, s2 := range []string{"Niccolò", "NICCOLÒ", "niccolo", "ROSSI", "Niccolo\u0300"} {
			search(t, s, text(s2), 1, f.rossi)
		}
		search(t, s, text("王"), 1, f.wang)
		search(t, s, text("小明"), 1, f.wang)
		search(t, s, text("ERED"), 1, f.rossi)  // title, accent-free
		search(t, s, text("ÉLITE"), 1, f.lin)   // title with an accent
		search(t, s, text("ｌｉｎ　ｍｅｉ"), 1, f.lin) // full-width letters and space
		search(t, s, text("王大"), 0)
	})
	t.Run("Dates", func(t *testing.T) {
		day := 24 * time.Hour
		rng := func(from, to time.Duration) cases.CaseQuery {
			return q(func(cq *cases.CaseQuery) { cq.From, cq.To = at(from), at(to) })
		}
		search(t, s, rng(10*day, 10*day), 1, f.rossi)         // a scheduled start, both bounds inclusive
		search(t, s, rng(4*day, 7*day), 1, f.lin)             // two sessions in range: listed once
		search(t, s, rng(29*day, 31*day), 1, f.wang)          // started, not scheduled, in range
		search(t, s, rng(2*day, 4*day), 1, f.wang)            // scheduled in range, started after it
		search(t, s, rng(0, 2*time.Hour), 2, f.wang, f.rossi) // created in range
		open := func(from, to time.Time) cases.CaseQuery {
			return q(func(cq *cases.CaseQuery) { cq.From, cq.To = from, to })
		}
		search(t, s, open(at(11*day), time.Time{}), 1, f.wang)
		search(t, s, open(time.Time{}, at(2*time.Hour)), 2, f.wang, f.rossi)
		search(t, s, open(at(40*day), time.Time{}), 0)
	})
	t.Run("Presider", func(t *testing.T) {
		pr := func(a *cases.Account) cases.CaseQuery { return q(func(cq *cases.CaseQuery) { cq.Presider = a.ID }) }
		search(t, s, pr(f.judge), 2, f.lin, f.rossi)
		search(t, s, pr(f.mediator), 1, f.lin)
		search(t, s, pr(f.clerk), 1, f.lin) // created it; an observer elsewhere does not preside
		search(t, s, q(func(cq *cases.CaseQuery) { cq.Presider = f.judge.ID; cq.Text = "rossi" }), 1, f.rossi)
	})
	t.Run("Sort", func(t *testing.T) {
		srt := func(by cases.CaseSort, asc bool, limit, offset int) cases.CaseQuery {
			return q(func(cq *cases.CaseQuery) { cq.Sort, cq.Ascending, cq.Limit, cq.Offset = by, asc, limit, offset })
		}
		search(t, s, srt("", false, 0, 0), 4, f.lin, f.nobody, f.wang, f.rossi)
		search(t, s, srt(cases.SortCreated, true, 0, 0), 4, f.rossi, f.wang, f.lin, f.nobody)
		search(t, s, srt(cases.SortNumber, true, 0, 0), 4, f.wang, f.nobody, f.rossi, f.lin) // a-10 < a-9 < b-2 < c-3
		search(t, s, srt(cases.SortNumber, false, 0, 0), 4, f.lin, f.rossi, f.nobody, f.wang)
		// Titles lease and Lease fold alike: the tie goes by id both ways.
		search(t, s, srt(cases.SortTitle, true, 0, 0), 4, f.lin, f.rossi, tieFirst(f.wang, f.nobody), tieLast(f.wang, f.nobody))
		search(t, s, srt(cases.SortTitle, false, 0, 0), 4, tieFirst(f.wang, f.nobody), tieLast(f.wang, f.nobody), f.rossi, f.lin)
		// Last session: wang started at 30 days, rossi 10, lin 6; nobody has none and comes last.
		search(t, s, srt(cases.SortLastSession, false, 0, 0), 4, f.wang, f.rossi, f.lin, f.nobody)
		search(t, s, srt(cases.SortLastSession, true, 0, 0), 4, f.lin, f.rossi, f.wang, f.nobody)
		// Pages of one never overlap nor skip.
		var paged []*cases.Case
		for off := range 4 {
			got, _, err := s.SearchCases(t.Context(), srt(cases.SortTitle, false, 1, off))
			must(t, "SearchCases", err)
			paged = append(paged, got...)
		}
		all, _, err := s.SearchCases(t.Context(), srt(cases.SortTitle, false, 0, 0))
		must(t, "SearchCases", err)
		if !slices.Equal(caseIDs(paged), caseIDs(all)) {
			t.Errorf("pages of one %v, want %v", caseNumbers(paged), caseNumbers(all))
		}
	})
}

// tieFirst and tieLast order two cases by id.
func tieFirst(a, b *cases.Case) *cases.Case {
	if a.ID < b.ID {
		return a
	}
	return b
}

func tieLast(a, b *cases.Case) *cases.Case {
	if a.ID < b.ID {
		return b
	}
	return a
}

func testCaseSummaries(t *testing.T, s store.Store) {
	f := seedClerk(t, s)
	unknown := store.NewID()
	sums, err := s.CaseSummaries(t.Context(), []string{f.rossi.ID, f.wang.ID, f.lin.ID, f.nobody.ID, unknown})
	must(t, "CaseSummaries", err)
	if len(sums) != 5 {
		t.Fatalf("CaseSummaries returned %d summaries, want 5", len(sums))
	}
	day := 24 * time.Hour
	for _, tc := range []struct {
		c         string
		id        string
		sessions  int
		last      *time.Time
		presiders []cases.Presider
	}{
		{"rossi", f.rossi.ID, 1, ptr(at(10 * day)), []cases.Presider{{AccountID: f.judge.ID, Name: "Judge Zhao", Role: cases.RoleJudge}}},
		{"wang", f.wang.ID, 2, ptr(at(30 * day)), nil},
		{"lin", f.lin.ID, 2, ptr(at(6 * day)), []cases.Presider{
			{AccountID: f.judge.ID, Name: "Judge Zhao", Role: cases.RoleJudge},
			{AccountID: f.mediator.ID, Name: "Mediator Qian", Role: cases.RoleMediator},
		}},
		{"nobody", f.nobody.ID, 0, nil, nil},
		{"unknown", unknown, 0, nil, nil},
	} {
		got := sums[tc.id]
		if got == nil {
			t.Errorf("%s: no summary", tc.c)
			continue
		}
		eq(t, tc.c+" CaseID", got.CaseID, tc.id)
		eq(t, tc.c+" Sessions", got.Sessions, tc.sessions)
		eqNullTime(t, tc.c+" LastSessionAt", got.LastSessionAt, tc.last)
		if got.Presiders == nil || !slices.Equal(got.Presiders, nonNilPresiders(tc.presiders)) {
			t.Errorf("%s Presiders = %#v, want %v (never nil)", tc.c, got.Presiders, tc.presiders)
		}
	}
	none, err := s.CaseSummaries(t.Context(), nil)
	if err != nil || len(none) != 0 {
		t.Errorf("CaseSummaries(nil) = %v, %v; want none", none, err)
	}
}

func nonNilPresiders(p []cases.Presider) []cases.Presider {
	if p == nil {
		return []cases.Presider{}
	}
	return p
}

func testAuditActions(t *testing.T, s store.Store) {
	ctx := t.Context()
	var log []*audit.Entry
	for i, action := range []string{"case.view", "case.create", "recording.play", "recording.start", "audit.export", "case.view"} {
		e := newEntry(i)
		e.Action, e.OrgID = action, "org"
		must(t, "AppendAudit", s.AppendAudit(ctx, e))
		log = append(log, e)
	}
	entries(t, s, log, audit.Filter{Actions: audit.AccessActions}, []int{0, 2, 4, 5})
	entries(t, s, log, audit.Filter{Actions: []string{"case.view"}, AfterSeq: 1}, []int{5})
	entries(t, s, log, audit.Filter{Actions: []string{"nothing"}}, nil)
	entries(t, s, log, audit.Filter{Actions: []string{"case.view", "case.create"}, Limit: 2}, []int{0, 1})
}

// Refold checks that the search forms of rows written before they
// existed are computed when the store migrates again: clear runs a
// statement on the store's database, migrate migrates it.
func Refold(t *testing.T, open func(t *testing.T) store.Store, clear func(t *testing.T, s store.Store, stmt string),
	migrate func(t *testing.T, s store.Store)) {
	s := open(t)
	f := seedClerk(t, s)
	clear(t, s, `UPDATE cases SET number_fold = NULL, title_fold = NULL`)
	clear(t, s, `UPDATE participants SET name_fold = NULL`)
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Text: "rossi"}, 0)
	migrate(t, s)
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Text: "NICCOLO"}, 1, f.rossi)
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Text: "ÉLITE"}, 1, f.lin)
}
