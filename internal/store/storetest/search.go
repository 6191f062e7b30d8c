package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// searchFixture is an organization whose cases a search can tell apart,
// and another organization whose cases it must never return.
type searchFixture struct {
	org, other *cases.Org
	// Cases of org, newest first: the order of an unfiltered search.
	lease, sale, percent, thousand, under, lookalike, tieA, tieB *cases.Case
	foreign                                                      *cases.Case // of other
}

// all returns the cases of f.org in search order.
func (f *searchFixture) all() []*cases.Case {
	return []*cases.Case{f.thousand, f.percent, f.under, f.lookalike, f.tieA, f.tieB, f.sale, f.lease}
}

func seedSearch(t *testing.T, s store.Store) *searchFixture {
	t.Helper()
	ctx := t.Context()
	f := &searchFixture{org: newOrg("Wenzhou Court"), other: newOrg("Ningbo Court")}
	must(t, "CreateOrg", s.CreateOrg(ctx, f.org))
	must(t, "CreateOrg", s.CreateOrg(ctx, f.other))
	mk := func(o *cases.Org, number, title string, kind cases.Kind, created time.Duration) *cases.Case {
		c := newCase(o, nil, number)
		c.Title, c.Kind, c.CreatedAt = title, kind, at(created)
		return c
	}
	f.lease = mk(f.org, "(2026)浙0328民调123号", "Lease of a shop", cases.KindMediation, time.Hour)
	f.sale = mk(f.org, "(2026)浙0328民调124号", "Contract of SALE", cases.KindNotarization, 2*time.Hour)
	f.tieA = mk(f.org, "T-1", "Tie", cases.KindHearing, 3*time.Hour)
	f.tieB = mk(f.org, "T-2", "Tie", cases.KindHearing, 3*time.Hour)
	f.tieA.ID, f.tieB.ID = "a-"+f.tieA.ID, "b-"+f.tieB.ID
	f.lookalike = mk(f.org, "AxB-7", "Letters", cases.KindMediation, 4*time.Hour)
	f.under = mk(f.org, "A_B-7", "Underscore", cases.KindMediation, 5*time.Hour)
	f.percent = mk(f.org, "N-100%", "Percent", cases.KindMediation, 6*time.Hour)
	f.thousand = mk(f.org, "N-1000", "Thousand", cases.KindMediation, 7*time.Hour)
	f.foreign = mk(f.other, "(2026)浙0328民调999号", "Lease of a SHOP", cases.KindMediation, 8*time.Hour)
	for _, c := range append(f.all(), f.foreign) {
		must(t, "CreateCase", s.CreateCase(ctx, c))
	}
	// 陈伟 takes part in two sessions of the lease case, and in the
	// foreign case; Chen Wei in the sale.
	for _, c := range []*cases.Case{f.lease, f.lease, f.foreign} {
		addParticipant(t, s, c, "陈伟")
	}
	addParticipant(t, s, f.lease, "Zhang San")
	addParticipant(t, s, f.sale, "Chen Wei")
	return f
}

// addParticipant adds a session to c with a participant called name.
func addParticipant(t *testing.T, s store.Store, c *cases.Case, name string) {
	t.Helper()
	sess := newSession(c, at(0))
	must(t, "CreateSession", s.CreateSession(t.Context(), sess))
	must(t, "CreateParticipant", s.CreateParticipant(t.Context(), newParticipant(sess, name, at(0))))
}

// search runs q and checks the page and the total.
func search(t *testing.T, s store.Store, q cases.CaseQuery, total int, want ...*cases.Case) {
	t.Helper()
	got, n, err := s.SearchCases(t.Context(), q)
	if err != nil {
		t.Errorf("SearchCases(%+v): %v", q, err)
		return
	}
	if n != total || !slices.Equal(caseIDs(got), caseIDs(want)) {
		t.Errorf("SearchCases(%+v) = %v (total %d), want %v (total %d)",
			q, caseNumbers(got), n, caseNumbers(want), total)
		return
	}
	for i := range want {
		checkCase(t, got[i], want[i])
	}
}

func caseIDs(cs []*cases.Case) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func caseNumbers(cs []*cases.Case) []string {
	var ns []string
	for _, c := range cs {
		ns = append(ns, c.Number)
	}
	return ns
}

// testSearchCases runs the search checks on one store: Metacharacters
// last, as it adds a case.
func testSearchCases(t *testing.T, s store.Store) {
	f := seedSearch(t, s)
	t.Run("Match", func(t *testing.T) { testSearchMatch(t, s, f) })
	t.Run("Paging", func(t *testing.T) { testSearchPaging(t, s, f) })
	t.Run("Limits", func(t *testing.T) { testSearchLimits(t, s) })
	t.Run("Metacharacters", func(t *testing.T) { testSearchMetacharacters(t, s, f) })
	t.Run("Mine", func(t *testing.T) { testSearchMine(t, s) })
}

// testSearchMine: an account's cases are those it created and those in
// whose sessions it takes part.
func testSearchMine(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("Milan Service Center " + store.NewID())
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	me, other := newAccount(o, store.NewID()+"@example.org"), newAccount(o, store.NewID()+"@example.org")
	must(t, "CreateAccount", s.CreateAccount(ctx, me))
	must(t, "CreateAccount", s.CreateAccount(ctx, other))
	created, invited, neither := newCase(o, me, "M-1"), newCase(o, other, "M-2"), newCase(o, other, "M-3")
	invited.CreatedAt = at(2 * time.Minute)
	for _, c := range []*cases.Case{created, invited, neither} {
		must(t, "CreateCase", s.CreateCase(ctx, c))
	}
	for i, c := range []*cases.Case{invited, invited, neither} {
		sess := newSession(c, at(0))
		must(t, "CreateSession", s.CreateSession(ctx, sess))
		p := newParticipant(sess, "Zhou Min", at(0))
		if i < 2 {
			p.AccountID, p.Role = me.ID, cases.RoleMediator
		}
		must(t, "CreateParticipant", s.CreateParticipant(ctx, p))
	}
	search(t, s, cases.CaseQuery{OrgID: o.ID, Mine: me.ID}, 2, invited, created)
	search(t, s, cases.CaseQuery{OrgID: o.ID, Mine: other.ID}, 2, invited, neither)
	search(t, s, cases.CaseQuery{OrgID: o.ID, Mine: me.ID, Text: "M-1"}, 1, created)
}

func testSearchMatch(t *testing.T, s store.Store, f *searchFixture) {
	q := func(text string) cases.CaseQuery { return cases.CaseQuery{OrgID: f.org.ID, Text: text} }

	search(t, s, q(""), 8, f.all()...)
	search(t, s, q("浙0328"), 2, f.sale, f.lease)
	search(t, s, q("民调123"), 1, f.lease)
	search(t, s, q("sale"), 1, f.sale)
	search(t, s, q("LEASE OF"), 1, f.lease)
	search(t, s, q("陈伟"), 1, f.lease) // two sessions match: listed once
	search(t, s, q("chen WEI"), 1, f.sale)
	search(t, s, q("zhang"), 1, f.lease)
	search(t, s, q("nobody"), 0)
	search(t, s, cases.CaseQuery{OrgID: f.other.ID, Text: "陈伟"}, 1, f.foreign)
	search(t, s, cases.CaseQuery{OrgID: store.NewID()}, 0)

	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Kind: cases.KindNotarization}, 1, f.sale)
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Kind: cases.KindHearing}, 2, f.tieA, f.tieB)
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Kind: cases.KindMediation, Text: "浙"}, 1, f.lease)
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Kind: cases.KindEvidenceCollection}, 0)

	if _, _, err := s.SearchCases(t.Context(), cases.CaseQuery{Text: "lease"}); err == nil {
		t.Error("SearchCases without an organization succeeded")
	}
}

func testSearchPaging(t *testing.T, s store.Store, f *searchFixture) {
	all := f.all()
	page := func(limit, offset int, want ...*cases.Case) {
		t.Helper()
		search(t, s, cases.CaseQuery{OrgID: f.org.ID, Limit: limit, Offset: offset}, len(all), want...)
	}
	page(3, 0, all[0:3]...)
	page(3, 3, all[3:6]...)
	page(3, 6, all[6:]...)
	page(3, 8)
	page(3, 100)
	page(3, -1, all[0:3]...)
	page(-5, 2, all[2])
	page(1, 4, all[4]) // tieA
	page(1, 5, all[5]) // tieB
	search(t, s, cases.CaseQuery{OrgID: f.org.ID, Text: "N-", Limit: 1, Offset: 1}, 2, f.percent)
}

func testSearchLimits(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("Busy Court")
	must(t, "CreateOrg", s.CreateOrg(ctx, o))
	const n = 201
	for i := range n {
		c := newCase(o, nil, fmt.Sprintf("(2026) No. %03d", i))
		c.CreatedAt = at(time.Duration(i) * time.Second)
		must(t, "CreateCase", s.CreateCase(ctx, c))
	}
	for _, tc := range []struct{ limit, want int }{{0, 50}, {200, 200}, {201, 200}, {10000, 200}, {-1, 1}, {7, 7}} {
		got, total, err := s.SearchCases(ctx, cases.CaseQuery{OrgID: o.ID, Limit: tc.limit})
		must(t, "SearchCases", err)
		if len(got) != tc.want || total != n {
			t.Errorf("SearchCases(Limit %d) = %d cases (total %d), want %d (total %d)",
				tc.limit, len(got), total, tc.want, n)
		}
		if len(got) > 0 {
			eq(t, "newest case", got[0].Number, fmt.Sprintf("(2026) No. %03d", n-1))
		}
	}
}

// testSearchMetacharacters checks that LIKE metacharacters match
// themselves and that SQL in the text is only text.
func testSearchMetacharacters(t *testing.T, s store.Store, f *searchFixture) {
	ctx := t.Context()
	q := func(text string) cases.CaseQuery { return cases.CaseQuery{OrgID: f.org.ID, Text: text} }
	search(t, s, q("100%"), 1, f.percent)
	search(t, s, q("%"), 1, f.percent)
	search(t, s, q("A_B"), 1, f.under)
	search(t, s, q("_"), 1, f.under)
	search(t, s, q(`\`), 0)
	search(t, s, q(`N-100\%`), 0)

	backslash := newCase(f.org, nil, `C:\%_dir`)
	backslash.CreatedAt = at(9 * time.Hour)
	must(t, "CreateCase", s.CreateCase(ctx, backslash))
	search(t, s, q(`\`), 1, backslash)
	search(t, s, q(`:\%_d`), 1, backslash)

	for _, evil := range []string{
		"'; DROP TABLE cases; --",
		"' OR '1'='1",
		"%' OR 1=1 --",
		`") OR 1=1; --`,
	} {
		search(t, s, q(evil), 0)
	}
	search(t, s, q(""), 9, append([]*cases.Case{backslash}, f.all()...)...)
	got, err := s.Case(ctx, f.lease.ID)
	must(t, "Case after injection attempts", err)
	checkCase(t, got, f.lease)
}
