package sqlbase

import (
	"slices"
	"testing"

	"github.com/kuayang/kuayang/internal/audit"
)

func TestAuditEntries(t *testing.T) {
	s := AuditEntries(Question, audit.Filter{AfterSeq: 4, CaseID: "c"}, "seq")
	want := `SELECT seq FROM audit_log WHERE seq > ?1 AND case_id = ?2 ORDER BY seq LIMIT ?3`
	if s.SQL != want || !slices.Equal(s.Args, []any{int64(4), "c", 1000}) {
		t.Errorf("AuditEntries = %q %v, want %q [4 c 1000]", s.SQL, s.Args, want)
	}
	s = AuditEntries(Dollar, audit.Filter{OrgID: "o", Actions: []string{"case.view", "audit.view"}}, "seq")
	want = `SELECT seq FROM audit_log WHERE seq > $1 AND org_id = $2 AND action IN ($3, $4) ORDER BY seq LIMIT $5`
	if s.SQL != want || !slices.Equal(s.Args, []any{int64(0), "o", "case.view", "audit.view", 1000}) {
		t.Errorf("AuditEntries(actions) = %q %v, want %q", s.SQL, s.Args, want)
	}
	for limit, want := range map[int]int{-1: 1000, 0: 1000, 1: 1, 10000: 10000, 10001: 10000} {
		if got := auditLimit(limit); got != want {
			t.Errorf("auditLimit(%d) = %d, want %d", limit, got, want)
		}
	}
}
