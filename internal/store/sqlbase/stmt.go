package sqlbase

import (
	"slices"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
)

// Stmt is a statement and its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// Page sizes of case searches.
const (
	defaultCaseLimit = 50
	maxCaseLimit     = 200
)

// CaseSearch returns the statements of a search for the cases matching cq:
// count counts all the matches, page selects cols (of table cases, alias
// c) of one page of them, newest first (created_at descending, then id).
// match is the dialect's condition on cq.Text, in which %[1]s stands for
// the placeholder of the LIKE pattern (see ContainsPattern). A Limit of 0
// means 50, others are clamped to 1..200; a negative Offset counts as 0.
func CaseSearch(ph Placeholder, cq cases.CaseQuery, cols, match string) (count, page Stmt) {
	q := NewQuery(ph)
	q.Where(`c.org_id = %[1]s`, cq.OrgID)
	if cq.Kind != "" {
		q.Where(`c.kind = %[1]s`, string(cq.Kind))
	}
	if cq.Text != "" {
		q.Where(match, ContainsPattern(cq.Text))
	}
	if cq.Mine != "" {
		q.Where(`(c.created_by = %[1]s OR EXISTS (SELECT 1 FROM sessions s JOIN participants p ON p.session_id = s.id
		WHERE s.case_id = c.id AND p.account_id = %[1]s))`, cq.Mine)
	}
	count = Stmt{`SELECT count(*) FROM cases c` + q.Clause(), slices.Clip(q.Args())}
	limit, offset := casePage(cq)
	page.SQL = `SELECT ` + cols + ` FROM cases c` + q.Clause() +
		` ORDER BY c.created_at DESC, c.id LIMIT ` + q.Arg(limit) + ` OFFSET ` + q.Arg(offset)
	page.Args = q.Args()
	return count, page
}

// casePage is the LIMIT and OFFSET of a case search.
func casePage(cq cases.CaseQuery) (limit, offset int) {
	switch limit = cq.Limit; {
	case limit == 0:
		limit = defaultCaseLimit
	case limit < 1:
		limit = 1
	case limit > maxCaseLimit:
		limit = maxCaseLimit
	}
	return limit, max(cq.Offset, 0)
}

// Audit listing sizes.
const (
	defaultAuditLimit = 1000
	maxAuditLimit     = 10000
)

// AuditEntries returns the statement selecting cols of the audit_log
// entries matching f, in seq order: those of f.OrgID, f.CaseID and
// f.SessionID where not empty, after f.AfterSeq, at most f.Limit of them
// (0 or less means 1000; at most 10000).
func AuditEntries(ph Placeholder, f audit.Filter, cols string) Stmt {
	q := NewQuery(ph)
	q.Where(`seq > %[1]s`, f.AfterSeq)
	for _, c := range []struct{ col, v string }{
		{"org_id", f.OrgID}, {"case_id", f.CaseID}, {"session_id", f.SessionID},
	} {
		if c.v != "" {
			q.Where(c.col+` = %[1]s`, c.v)
		}
	}
	stmt := `SELECT ` + cols + ` FROM audit_log` + q.Clause() +
		` ORDER BY seq LIMIT ` + q.Arg(auditLimit(f.Limit))
	return Stmt{stmt, q.Args()}
}

// auditLimit is the number of entries a listing asking for limit returns
// at most.
func auditLimit(limit int) int {
	if limit <= 0 {
		return defaultAuditLimit
	}
	return min(limit, maxAuditLimit)
}
