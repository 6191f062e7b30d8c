package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

const loginCols = `token_hash, account_id, csrf, ip, user_agent, created_at, expires_at`

func scanLogin(r rowScanner) (*cases.Login, error) {
	var l cases.Login
	err := r.Scan(&l.TokenHash, &l.AccountID, &l.CSRF, &l.IP, &l.UserAgent,
		timeCol{&l.CreatedAt}, timeCol{&l.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// CreateLogin inserts l. A token hash already stored is store.ErrConflict;
// the account must exist. Deleting the account deletes its logins.
func (db *DB) CreateLogin(ctx context.Context, l *cases.Login) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO logins (`+loginCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.TokenHash, l.AccountID, l.CSRF, l.IP, l.UserAgent,
		encTime(l.CreatedAt), encTime(l.ExpiresAt))
	if err != nil {
		return writeErr("create login", err)
	}
	return nil
}

// LoginByTokenHash returns the login whose token hashes to hash, expired
// or not: the caller checks ExpiresAt.
func (db *DB) LoginByTokenHash(ctx context.Context, hash []byte) (*cases.Login, error) {
	l, err := scanLogin(db.r.QueryRowContext(ctx,
		`SELECT `+loginCols+` FROM logins WHERE token_hash = ?`, hash))
	if err != nil {
		return nil, readErr("login by token hash", err)
	}
	return l, nil
}

// DeleteLogin deletes the login whose token hashes to hash. There being
// none is not an error: logging out twice is logging out.
func (db *DB) DeleteLogin(ctx context.Context, hash []byte) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM logins WHERE token_hash = ?`, hash); err != nil {
		return writeErr("delete login", err)
	}
	return nil
}

// DeleteExpiredLogins deletes the logins that expired before now and
// returns how many.
func (db *DB) DeleteExpiredLogins(ctx context.Context, now time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM logins WHERE expires_at < ?`, encTime(now))
	if err != nil {
		return 0, writeErr("delete expired logins", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired logins: %w", err)
	}
	return int(n), nil
}
