package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kuayang/kuayang/internal/store"
)

// uniqueViolation is the SQLSTATE of a unique or primary-key violation.
const uniqueViolation = "23505"

// nullString stores the empty string as NULL (optional references).
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// zeroTimeNull stores a time whose zero value means unset: NULL if t is
// zero.
func zeroTimeNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nullBytes stores an empty byte slice as NULL (values not known yet).
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// valueOr returns *p, or the zero value if p is nil (a NULL column).
func valueOr[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// writeErr wraps the error of a write to what: unique and primary-key
// violations become store.ErrConflict; others, such as foreign key
// violations, are wrapped as they are.
func writeErr(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		return fmt.Errorf("%w: %s: %w", store.ErrConflict, what, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// readErr wraps the error of a read of what: no rows becomes
// store.ErrNotFound.
func readErr(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// updated checks that an UPDATE of what changed a row, else
// store.ErrNotFound.
func updated(what string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return writeErr(what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}

// collect scans every row of rows with scan and closes rows. It returns an
// empty, non-nil slice when there are no rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}
