package sqlbase

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// testDialect stores times as text, as SQLite does.
var testDialect = Dialect{Ph: Dollar, Time: func(t time.Time) any { return t.UTC().Format(time.RFC3339) },
	Escape: `ESCAPE '\'`, Bytewise: ` COLLATE "C"`}

func TestCaseSearch(t *testing.T) {
	cq := cases.CaseQuery{OrgID: "o", Kind: "k", Text: "NICCOLÒ 50%", Limit: 500, Offset: -3}
	count, page := CaseSearch(testDialect, cq, "id")
	if !strings.HasPrefix(count.SQL, `SELECT count(*) FROM cases c WHERE c.org_id = $1 AND c.kind = $2 AND (c.number_fold LIKE $3 ESCAPE '\'`) {
		t.Errorf("count = %q", count.SQL)
	}
	if want := []any{"o", "k", `%niccolo 50\%%`}; !slices.Equal(count.Args, want) {
		t.Errorf("count args = %v, want %v", count.Args, want)
	}
	if !strings.HasSuffix(page.SQL, ` ORDER BY c.created_at DESC, c.id LIMIT $4 OFFSET $5`) {
		t.Errorf("page = %q", page.SQL)
	}
	if want := []any{"o", "k", `%niccolo 50\%%`, 200, 0}; !slices.Equal(page.Args, want) {
		t.Errorf("page args = %v, want %v", page.Args, want)
	}
	count, page = CaseSearch(Dialect{Ph: Question}, cases.CaseQuery{OrgID: "o"}, "id")
	if want := `SELECT count(*) FROM cases c WHERE c.org_id = ?1`; count.SQL != want || len(count.Args) != 1 {
		t.Errorf("count = %q %v, want %q [o]", count.SQL, count.Args, want)
	}
	if !slices.Equal(page.Args, []any{"o", 50, 0}) {
		t.Errorf("page args = %v, want [o 50 0]", page.Args)
	}
}

// TestCaseSearchRange: every bound given is an argument, and only those
// (PostgreSQL refuses a parameter it cannot type).
func TestCaseSearchRange(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	for _, tc := range []struct {
		from, to time.Time
		args     []any
		has      []string
	}{
		{from, to, []any{"o", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 50, 0},
			[]string{"c.created_at >= $2 AND c.created_at <= $3", "s.started_at >= $2 AND s.started_at <= $3"}},
		{from, time.Time{}, []any{"o", "2026-03-01T00:00:00Z", 50, 0}, []string{"(s.scheduled_start >= $2)"}},
		{time.Time{}, to, []any{"o", "2026-03-02T00:00:00Z", 50, 0}, []string{"(s.scheduled_start <= $2)"}},
	} {
		_, page := CaseSearch(testDialect, cases.CaseQuery{OrgID: "o", From: tc.from, To: tc.to}, "id")
		if !slices.Equal(page.Args, tc.args) {
			t.Errorf("range %v..%v: args %v, want %v", tc.from, tc.to, page.Args, tc.args)
		}
		for _, h := range tc.has {
			if !strings.Contains(page.SQL, h) {
				t.Errorf("range %v..%v: %q lacks %q", tc.from, tc.to, page.SQL, h)
			}
		}
	}
}

func TestCaseOrder(t *testing.T) {
	for _, tc := range []struct {
		sort cases.CaseSort
		asc  bool
		want string
	}{
		{"", false, `c.created_at DESC, c.id`},
		{cases.SortCreated, true, `c.created_at ASC, c.id`},
		{cases.SortNumber, false, `c.number_fold COLLATE "C" DESC, c.id`},
		{cases.SortTitle, true, `c.title_fold COLLATE "C" ASC, c.id`},
		{cases.SortLastSession, true, lastSession + ` IS NULL, ` + lastSession + ` ASC, c.id`},
	} {
		if got := caseOrder(testDialect, cases.CaseQuery{Sort: tc.sort, Ascending: tc.asc}); got != tc.want {
			t.Errorf("caseOrder(%q, asc %v) = %q, want %q", tc.sort, tc.asc, got, tc.want)
		}
	}
}

func TestCaseSummaries(t *testing.T) {
	sessions, presiders := CaseSummaries(Question, []string{"a", "b"})
	for _, s := range []Stmt{sessions, presiders} {
		if !strings.Contains(s.SQL, "s.case_id IN (?1, ?2)") || !slices.Equal(s.Args, []any{"a", "b"}) {
			t.Errorf("%q %v: want the ids as ?1, ?2", s.SQL, s.Args)
		}
	}
	sums := NewSummaries([]string{"a"})
	sums["a"].Presiders = []cases.Presider{
		{AccountID: "2", Name: "Wang", Role: cases.RoleJudge},
		{AccountID: "1", Name: "Wang", Role: cases.RoleMediator},
		{AccountID: "1", Name: "Li", Role: cases.RoleNotary},
	}
	SortPresiders(sums)
	got := sums["a"].Presiders
	if got[0].Name != "Li" || got[1].AccountID != "1" || got[2].AccountID != "2" {
		t.Errorf("sorted presiders %v", got)
	}
}

func TestCasePage(t *testing.T) {
	for _, tc := range []struct{ limit, offset, wantLimit, wantOffset int }{
		{0, 0, 50, 0}, {-1, -1, 1, 0}, {1, 7, 1, 7}, {200, 0, 200, 0}, {201, 0, 200, 0},
	} {
		l, o := casePage(cases.CaseQuery{Limit: tc.limit, Offset: tc.offset})
		if l != tc.wantLimit || o != tc.wantOffset {
			t.Errorf("casePage(%d, %d) = %d, %d; want %d, %d",
				tc.limit, tc.offset, l, o, tc.wantLimit, tc.wantOffset)
		}
	}
}
