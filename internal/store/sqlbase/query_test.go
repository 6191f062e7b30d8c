package sqlbase

import (
	"slices"
	"testing"
)

func TestQuery(t *testing.T) {
	for _, ph := range []Placeholder{Question, Dollar} {
		q := NewQuery(ph)
		if c := q.Clause(); c != "" {
			t.Errorf("%s: empty Clause = %q", ph, c)
		}
		q.Where(`a = %[1]s`, 1)
		q.Where(`(b = %[1]s OR c = %[1]s OR d < %[2]s)`, "x", 2)
		limit := q.Arg(3)
		p := string(ph)
		want := " WHERE a = " + p + "1 AND (b = " + p + "2 OR c = " + p + "2 OR d < " + p + "3)"
		if c := q.Clause(); c != want {
			t.Errorf("Clause = %q, want %q", c, want)
		}
		if limit != p+"4" || !slices.Equal(q.Args(), []any{1, "x", 2, 3}) {
			t.Errorf("Arg = %q, Args = %v; want %s4, [1 x 2 3]", limit, q.Args(), p)
		}
	}
}

func TestContainsPattern(t *testing.T) {
	for s, want := range map[string]string{
		"":        "%%",
		"N-1":     "%N-1%",
		`50%_a\b`: `%50\%\_a\\b%`,
	} {
		if got := ContainsPattern(s); got != want {
			t.Errorf("ContainsPattern(%q) = %q, want %q", s, got, want)
		}
	}
}
