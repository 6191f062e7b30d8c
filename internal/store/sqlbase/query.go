package sqlbase

import (
	"fmt"
	"strconv"
	"strings"
)

// Placeholder is the prefix of a driver's numbered placeholders.
type Placeholder string

// The placeholder styles of the backends.
const (
	Question Placeholder = "?" // ?1, ?2, …: SQLite
	Dollar   Placeholder = "$" // $1, $2, …: PostgreSQL
)

// Query collects the conditions of a WHERE clause and the arguments of a
// statement, whose placeholders are numbered so that one argument can be
// used several times.
type Query struct {
	ph    Placeholder
	conds []string
	args  []any
}

// NewQuery returns an empty query whose placeholders are of style ph.
func NewQuery(ph Placeholder) *Query {
	return &Query{ph: ph}
}

// Where adds the condition cond, a format in which %[1]s, %[2]s, … stand
// for the placeholders of args.
func (q *Query) Where(cond string, args ...any) {
	ph := make([]any, len(args))
	for i, a := range args {
		ph[i] = q.Arg(a)
	}
	q.conds = append(q.conds, fmt.Sprintf(cond, ph...))
}

// And adds the condition cond as it is: its placeholders, if any, come
// from Arg.
func (q *Query) And(cond string) {
	q.conds = append(q.conds, cond)
}

// Arg adds an argument and returns its placeholder.
func (q *Query) Arg(a any) string {
	q.args = append(q.args, a)
	return string(q.ph) + strconv.Itoa(len(q.args))
}

// Args returns the arguments added so far, in placeholder order.
func (q *Query) Args() []any {
	return q.args
}

// Clause is the WHERE clause, with a leading space, or "" if there are no
// conditions.
func (q *Query) Clause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// likeEscaper escapes the metacharacters of a LIKE pattern, for an escape
// character of one backslash.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ContainsPattern is the LIKE pattern, with a backslash as escape
// character, that matches text containing s literally.
func ContainsPattern(s string) string {
	return "%" + likeEscaper.Replace(s) + "%"
}
