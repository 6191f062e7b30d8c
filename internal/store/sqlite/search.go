package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// caseMatch is the condition of a case search's text: %[1]s is the
// placeholder of the LIKE pattern. Case is ignored by lower() on both
// sides, which SQLite applies to ASCII letters only (Chinese has no case).
// EXISTS, not a join, so that a case with several matching participants
// is listed once.
const caseMatch = `(lower(c.number) LIKE lower(%[1]s) ESCAPE '\'
	OR lower(c.title) LIKE lower(%[1]s) ESCAPE '\'
	OR EXISTS (SELECT 1 FROM sessions s JOIN participants p ON p.session_id = s.id
		WHERE s.case_id = c.id AND lower(p.display_name) LIKE lower(%[1]s) ESCAPE '\'))`

// SearchCases returns a page of the cases of q.OrgID matching q, newest
// first (CreatedAt descending, then ID), and the number of all matches.
// Text matches, ignoring ASCII case, a substring of the case number, the
// title or the display name of a participant of any session of the case;
// LIKE metacharacters in it match themselves. A Limit of 0 means 50, others
// are clamped to 1..200; a negative Offset counts as 0. Both results are
// read in one transaction, so they agree.
func (db *DB) SearchCases(ctx context.Context, cq cases.CaseQuery) ([]*cases.Case, int, error) {
	if cq.OrgID == "" {
		return nil, 0, errors.New("sqlite: search cases: no organization given")
	}
	count, page := sqlbase.CaseSearch(sqlbase.Question, cq, caseCols, caseMatch)
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, readErr("search cases", err)
	}
	defer func() { _ = tx.Rollback() }()
	var total int
	if err := tx.QueryRowContext(ctx, count.SQL, count.Args...).Scan(&total); err != nil {
		return nil, 0, readErr("search cases: count", err)
	}
	rows, err := tx.QueryContext(ctx, page.SQL, page.Args...)
	if err != nil {
		return nil, 0, readErr("search cases", err)
	}
	list, err := collect(rows, scanCase, "search cases")
	if err != nil {
		return nil, 0, err
	}
	return list, total, nil
}
