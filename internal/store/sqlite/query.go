package sqlite

import (
	"fmt"
	"strconv"
	"strings"
)

// query collects the conditions of a WHERE clause and the arguments of a
// statement, whose placeholders are numbered (?1, ?2, …) so that one
// argument can be used several times.
type query struct {
	conds []string
	args  []any
}

// where adds the condition cond, a format in which %[1]s, %[2]s, … stand
// for the placeholders of args.
func (q *query) where(cond string, args ...any) {
	ph := make([]any, len(args))
	for i, a := range args {
		ph[i] = q.arg(a)
	}
	q.conds = append(q.conds, fmt.Sprintf(cond, ph...))
}

// arg adds an argument and returns its placeholder.
func (q *query) arg(a any) string {
	q.args = append(q.args, a)
	return "?" + strconv.Itoa(len(q.args))
}

// clause is the WHERE clause, with a leading space, or "" if there are no
// conditions.
func (q *query) clause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// likeEscaper escapes the metacharacters of a LIKE pattern, for ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern is the LIKE pattern, with ESCAPE '\', that matches text
// containing s literally.
func containsPattern(s string) string {
	return "%" + likeEscaper.Replace(s) + "%"
}
