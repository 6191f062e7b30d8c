package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kuayang/kuayang/internal/store"
)

// timeLayout is how times are stored: UTC, fixed width, so that text order
// is time order (for years 0000 to 9999).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// encTime is the stored form of t.
func encTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// encNullTime is the stored form of an optional time: NULL if t is nil.
func encNullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return encTime(*t)
}

// encZeroTime is the stored form of a time whose zero value means unset:
// NULL if t is zero.
func encZeroTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return encTime(t)
}

// encNullString stores the empty string as NULL (optional references).
func encNullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// encNullBytes stores an empty byte slice as NULL (values not known yet).
func encNullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// decTime parses a stored time into a UTC time.Time.
func decTime(v any) (time.Time, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return time.Time{}, fmt.Errorf("sqlite: time column holds %T, want text", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: time column: %w", err)
	}
	return t.UTC(), nil
}

// timeCol scans a time column into *dst; NULL gives the zero time.
type timeCol struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	if v == nil {
		*c.dst = time.Time{}
		return nil
	}
	t, err := decTime(v)
	*c.dst = t
	return err
}

// nullTimeCol scans a nullable time column into *dst; NULL gives nil.
type nullTimeCol struct{ dst **time.Time }

// Scan implements sql.Scanner.
func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.dst = nil
		return nil
	}
	t, err := decTime(v)
	if err != nil {
		return err
	}
	*c.dst = &t
	return nil
}

// nullStringCol scans a nullable text column into *dst; NULL gives "".
type nullStringCol struct{ dst *string }

// Scan implements sql.Scanner.
func (c nullStringCol) Scan(v any) error {
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return err
	}
	*c.dst = ns.String
	return nil
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// writeErr wraps the error of a write to what: unique and primary-key
// violations become store.ErrConflict.
func writeErr(what string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s: %w", store.ErrConflict, what, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// readErr wraps the error of a read of what: no rows becomes
// store.ErrNotFound.
func readErr(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// updated checks that an UPDATE of what changed one row, else
// store.ErrNotFound.
func updated(what string, res sql.Result, err error) error {
	if err != nil {
		return writeErr(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}

// collect scans every row of rows with scan and closes rows. It returns an
// empty, non-nil slice when there are no rows.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error), what string) ([]T, error) {
	defer func() { _ = rows.Close() }()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}
