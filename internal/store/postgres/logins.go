package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/cases"
)

const loginCols = `token_hash, account_id, csrf, ip, user_agent, created_at, expires_at`

func scanLogin(r pgx.Row) (*cases.Login, error) {
	var l cases.Login
	err := r.Scan(&l.TokenHash, &l.AccountID, &l.CSRF, &l.IP, &l.UserAgent,
		&l.CreatedAt, &l.ExpiresAt)
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// CreateLogin inserts l. A token hash already stored is store.ErrConflict;
// the account must exist. Deleting the account deletes its logins.
func (db *DB) CreateLogin(ctx context.Context, l *cases.Login) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO logins (`+loginCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		l.TokenHash, l.AccountID, l.CSRF, l.IP, l.UserAgent, l.CreatedAt, l.ExpiresAt)
	if err != nil {
		return writeErr("create login", err)
	}
	return nil
}

// LoginByTokenHash returns the login whose token hashes to hash, expired
// or not: the caller checks ExpiresAt.
func (db *DB) LoginByTokenHash(ctx context.Context, hash []byte) (*cases.Login, error) {
	l, err := scanLogin(db.pool.QueryRow(ctx,
		`SELECT `+loginCols+` FROM logins WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, readErr("login by token hash", err)
	}
	return l, nil
}

// DeleteLogin deletes the login whose token hashes to hash. There being
// none is not an error: logging out twice is logging out.
func (db *DB) DeleteLogin(ctx context.Context, hash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM logins WHERE token_hash = $1`, hash); err != nil {
		return writeErr("delete login", err)
	}
	return nil
}

// DeleteExpiredLogins deletes the logins that expired before now and
// returns how many.
func (db *DB) DeleteExpiredLogins(ctx context.Context, now time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM logins WHERE expires_at < $1`, now)
	if err != nil {
		return 0, writeErr("delete expired logins", err)
	}
	return int(tag.RowsAffected()), nil
}
