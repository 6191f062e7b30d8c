package sqlbase

import (
	"strings"

	"github.com/kuayang/kuayang/internal/audit"
)

// Stmt is a statement and its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// Audit listing sizes.
const (
	defaultAuditLimit = 1000
	maxAuditLimit     = 10000
)

// AuditEntries returns the statement selecting cols of the audit_log
// entries matching f, in seq order: those of f.OrgID, f.CaseID and
// f.SessionID where not empty, of f.Actions if any, after f.AfterSeq, at
// most f.Limit of them (0 or less means 1000; at most 10000).
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
	if len(f.Actions) > 0 {
		marks := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			marks[i] = q.Arg(a)
		}
		q.And(`action IN (` + strings.Join(marks, ", ") + `)`)
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
