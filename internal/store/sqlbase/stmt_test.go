package sqlbase

import (
	"slices"
	"testing"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
)

func TestCaseSearch(t *testing.T) {
	cq := cases.CaseQuery{OrgID: "o", Kind: "k", Text: "50%", Limit: 500, Offset: -3}
	count, page := CaseSearch(Dollar, cq, "id", "c.title LIKE %[1]s")
	where := ` WHERE c.org_id = $1 AND c.kind = $2 AND c.title LIKE $3`
	if want := `SELECT count(*) FROM cases c` + where; count.SQL != want {
		t.Errorf("count = %q, want %q", count.SQL, want)
	}
	if want := []any{"o", "k", `%50\%%`}; !slices.Equal(count.Args, want) {
		t.Errorf("count args = %v, want %v", count.Args, want)
	}
	want := `SELECT id FROM cases c` + where + ` ORDER BY c.created_at DESC, c.id LIMIT $4 OFFSET $5`
	if page.SQL != want {
		t.Errorf("page = %q, want %q", page.SQL, want)
	}
	if want := []any{"o", "k", `%50\%%`, 200, 0}; !slices.Equal(page.Args, want) {
		t.Errorf("page args = %v, want %v", page.Args, want)
	}

	count, page = CaseSearch(Question, cases.CaseQuery{OrgID: "o"}, "id", "unused")
	if want := `SELECT count(*) FROM cases c WHERE c.org_id = ?1`; count.SQL != want || len(count.Args) != 1 {
		t.Errorf("count = %q %v, want %q [o]", count.SQL, count.Args, want)
	}
	if !slices.Equal(page.Args, []any{"o", 50, 0}) {
		t.Errorf("page args = %v, want [o 50 0]", page.Args)
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

func TestAuditEntries(t *testing.T) {
	s := AuditEntries(Question, audit.Filter{AfterSeq: 4, CaseID: "c"}, "seq")
	want := `SELECT seq FROM audit_log WHERE seq > ?1 AND case_id = ?2 ORDER BY seq LIMIT ?3`
	if s.SQL != want || !slices.Equal(s.Args, []any{int64(4), "c", 1000}) {
		t.Errorf("AuditEntries = %q %v, want %q [4 c 1000]", s.SQL, s.Args, want)
	}
	for limit, want := range map[int]int{-1: 1000, 0: 1000, 1: 1, 10000: 10000, 10001: 10000} {
		if got := auditLimit(limit); got != want {
			t.Errorf("auditLimit(%d) = %d, want %d", limit, got, want)
		}
	}
}
