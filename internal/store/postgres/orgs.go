package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/cases"
)

const orgCols = `id, name, created_at, retention_days, retention_mode`

// CreateOrg inserts o. A duplicate id or name is store.ErrConflict. The
// retention settings are stored as given: 0 and "" stand for the defaults,
// which callers apply; a negative RetentionDays is refused.
func (db *DB) CreateOrg(ctx context.Context, o *cases.Org) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO orgs (`+orgCols+`) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Name, o.CreatedAt, o.RetentionDays, o.RetentionMode)
	if err != nil {
		return writeErr("create org", err)
	}
	return nil
}

// OrgByName returns the organization called name (exact match).
func (db *DB) OrgByName(ctx context.Context, name string) (*cases.Org, error) {
	o, err := scanOrg(db.pool.QueryRow(ctx,
		`SELECT `+orgCols+` FROM orgs WHERE name = $1`, name))
	if err != nil {
		return nil, readErr("org by name", err)
	}
	return o, nil
}

const accountCols = `id, org_id, email, name, role, password_hash, created_at, disabled_at`

func scanAccount(r pgx.Row) (*cases.Account, error) {
	var a cases.Account
	err := r.Scan(&a.ID, &a.OrgID, &a.Email, &a.Name, &a.Role, &a.PasswordHash,
		&a.CreatedAt, &a.DisabledAt)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAccount inserts a. A duplicate id or email is store.ErrConflict;
// emails are compared ignoring case, although callers store them
// lower-cased.
func (db *DB) CreateAccount(ctx context.Context, a *cases.Account) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO accounts (`+accountCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.OrgID, a.Email, a.Name, string(a.Role), a.PasswordHash,
		a.CreatedAt, a.DisabledAt)
	if err != nil {
		return writeErr("create account", err)
	}
	return nil
}

// AccountByEmail returns the account with email (case ignored).
func (db *DB) AccountByEmail(ctx context.Context, email string) (*cases.Account, error) {
	a, err := scanAccount(db.pool.QueryRow(ctx,
		`SELECT `+accountCols+` FROM accounts WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return nil, readErr("account by email", err)
	}
	return a, nil
}

// Account returns the account with id.
func (db *DB) Account(ctx context.Context, id string) (*cases.Account, error) {
	a, err := scanAccount(db.pool.QueryRow(ctx,
		`SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	if err != nil {
		return nil, readErr("account "+id, err)
	}
	return a, nil
}

// Org returns the organization with id.
func (db *DB) Org(ctx context.Context, id string) (*cases.Org, error) {
	o, err := scanOrg(db.pool.QueryRow(ctx,
		`SELECT `+orgCols+` FROM orgs WHERE id = $1`, id))
	if err != nil {
		return nil, readErr("org "+id, err)
	}
	return o, nil
}

// Orgs returns every organization, ordered by name in byte order (COLLATE
// "C", as SQLite), whatever the database's collation.
func (db *DB) Orgs(ctx context.Context) ([]*cases.Org, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+orgCols+` FROM orgs ORDER BY name COLLATE "C", id`)
	if err != nil {
		return nil, readErr("orgs", err)
	}
	return collect(rows, scanOrg, "orgs")
}

func scanOrg(r pgx.Row) (*cases.Org, error) {
	var o cases.Org
	if err := r.Scan(&o.ID, &o.Name, &o.CreatedAt, &o.RetentionDays, &o.RetentionMode); err != nil {
		return nil, err
	}
	return &o, nil
}

// Accounts returns the accounts of the organization, or of every
// organization when orgID is "", ordered by email in byte order.
func (db *DB) Accounts(ctx context.Context, orgID string) ([]*cases.Account, error) {
	q, args := `SELECT `+accountCols+` FROM accounts`, []any{}
	if orgID != "" {
		q, args = q+` WHERE org_id = $1`, append(args, orgID)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY email COLLATE "C", id`, args...)
	if err != nil {
		return nil, readErr("accounts", err)
	}
	return collect(rows, scanAccount, "accounts")
}
