package sqlbase

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// Dialect is what the shared statements need to know of a backend beyond
// its placeholders.
type Dialect struct {
	Ph Placeholder
	// Time is the stored form of a time, to compare with stored times.
	Time func(time.Time) any
	// Escape is the clause that makes a backslash the escape character of
	// a LIKE pattern (see ContainsPattern).
	Escape string
	// Bytewise, appended to a text expression, compares it by code point
	// (the byte order of UTF-8) whatever the database's collation, so
	// that both backends sort alike: "" where that is the default.
	Bytewise string
}

// Page sizes of case searches.
const (
	defaultCaseLimit = 50
	maxCaseLimit     = 200
)

// presiding is the SQL list of the roles that preside over a session.
const presiding = `('mediator', 'notary', 'judge')`

// lastSession is the latest start (started_at, else scheduled_start) of
// the sessions of case c, NULL if it has none.
const lastSession = `(SELECT max(coalesce(s.started_at, s.scheduled_start)) FROM sessions s WHERE s.case_id = c.id)`

// CaseSearch returns the statements of a search for the cases matching cq:
// count counts all the matches, page selects cols (of table cases, alias
// c) of one page of them in the order cq asks for (see caseOrder). Text
// is matched in its search form (Fold) against the search forms of the
// case number, the title and the names of the participants of the case's
// sessions. A Limit of 0 means 50, others are clamped to 1..200; a
// negative Offset counts as 0.
func CaseSearch(d Dialect, cq cases.CaseQuery, cols string) (count, page Stmt) {
	q := NewQuery(d.Ph)
	q.Where(`c.org_id = %[1]s`, cq.OrgID)
	if cq.Kind != "" {
		q.Where(`c.kind = %[1]s`, string(cq.Kind))
	}
	if cq.Text != "" {
		q.Where(textMatch(d), ContainsPattern(Fold(cq.Text)))
	}
	if cq.Mine != "" {
		q.Where(`(c.created_by = %[1]s OR EXISTS (SELECT 1 FROM sessions s JOIN participants p ON p.session_id = s.id
		WHERE s.case_id = c.id AND p.account_id = %[1]s))`, cq.Mine)
	}
	if cq.Presider != "" {
		q.Where(`(c.created_by = %[1]s OR EXISTS (SELECT 1 FROM sessions s JOIN participants p ON p.session_id = s.id
		WHERE s.case_id = c.id AND p.account_id = %[1]s AND p.role IN `+presiding+`))`, cq.Presider)
	}
	if !cq.From.IsZero() || !cq.To.IsZero() {
		q.And(dateRange(q, d, cq.From, cq.To))
	}
	count = Stmt{`SELECT count(*) FROM cases c` + q.Clause(), slices.Clip(q.Args())}
	limit, offset := casePage(cq)
	page.SQL = `SELECT ` + cols + ` FROM cases c` + q.Clause() + ` ORDER BY ` + caseOrder(d, cq) +
		` LIMIT ` + q.Arg(limit) + ` OFFSET ` + q.Arg(offset)
	page.Args = q.Args()
	return count, page
}

// textMatch is the condition of a search's text, %[1]s standing for the
// LIKE pattern. EXISTS, not a join, so that a case with several matching
// participants is listed once.
func textMatch(d Dialect) string {
	like := ` LIKE %[1]s ` + d.Escape
	return `(c.number_fold` + like + ` OR c.title_fold` + like + `
	OR EXISTS (SELECT 1 FROM sessions s JOIN participants p ON p.session_id = s.id
		WHERE s.case_id = c.id AND p.name_fold` + like + `))`
}

// dateRange is the condition that case c was created, or has a session
// scheduled or started, between from and to (inclusive; a zero bound is
// open). Its arguments are added to q.
func dateRange(q *Query, d Dialect, from, to time.Time) string {
	var lo, hi string
	if !from.IsZero() {
		lo = q.Arg(d.Time(from))
	}
	if !to.IsZero() {
		hi = q.Arg(d.Time(to))
	}
	within := func(col string) string {
		var c []string
		if lo != "" {
			c = append(c, col+` >= `+lo)
		}
		if hi != "" {
			c = append(c, col+` <= `+hi)
		}
		return `(` + strings.Join(c, ` AND `) + `)`
	}
	return `(` + within(`c.created_at`) + ` OR EXISTS (SELECT 1 FROM sessions s WHERE s.case_id = c.id
		AND (` + within(`s.scheduled_start`) + ` OR ` + within(`s.started_at`) + `)))`
}

// caseOrder is the ORDER BY of a search: by cq.Sort, descending unless
// cq.Ascending, ties broken by id ascending, so that pages never overlap
// or skip a case. Numbers and titles sort by their search forms, code
// point by code point; cases without sessions come last by last session,
// in either direction.
func caseOrder(d Dialect, cq cases.CaseQuery) string {
	dir := ` DESC`
	if cq.Ascending {
		dir = ` ASC`
	}
	switch cq.Sort {
	case cases.SortNumber:
		return `c.number_fold` + d.Bytewise + dir + `, c.id`
	case cases.SortTitle:
		return `c.title_fold` + d.Bytewise + dir + `, c.id`
	case cases.SortLastSession:
		return lastSession + ` IS NULL, ` + lastSession + dir + `, c.id`
	}
	return `c.created_at` + dir + `, c.id`
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

// CaseSummaries returns the statements that summarize the cases ids:
// sessions selects case_id, the number of sessions and the latest start
// (see cases.CaseSummary) of each case with sessions; presiders selects
// case_id, account id, account name and role of each account presiding
// over a session of each case, once per role.
func CaseSummaries(ph Placeholder, ids []string) (sessions, presiders Stmt) {
	q := NewQuery(ph)
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = q.Arg(id)
	}
	in := `(` + strings.Join(marks, ", ") + `)`
	sessions = Stmt{`SELECT s.case_id, count(*), max(coalesce(s.started_at, s.scheduled_start))
		FROM sessions s WHERE s.case_id IN ` + in + ` GROUP BY s.case_id`, q.Args()}
	presiders = Stmt{`SELECT DISTINCT s.case_id, a.id, a.name, p.role
		FROM sessions s JOIN participants p ON p.session_id = s.id JOIN accounts a ON a.id = p.account_id
		WHERE s.case_id IN ` + in + ` AND p.role IN ` + presiding, q.Args()}
	return sessions, presiders
}

// NewSummaries returns a zero summary for each of ids, to be filled from
// the rows of the CaseSummaries statements.
func NewSummaries(ids []string) map[string]*cases.CaseSummary {
	out := make(map[string]*cases.CaseSummary, len(ids))
	for _, id := range ids {
		out[id] = &cases.CaseSummary{CaseID: id, Presiders: []cases.Presider{}}
	}
	return out
}

// SortPresiders puts the presiders of each summary in their order: by
// name, then account id, then role, code point by code point.
func SortPresiders(sums map[string]*cases.CaseSummary) {
	for _, s := range sums {
		slices.SortFunc(s.Presiders, func(a, b cases.Presider) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.AccountID, b.AccountID),
				strings.Compare(string(a.Role), string(b.Role)))
		})
	}
}
