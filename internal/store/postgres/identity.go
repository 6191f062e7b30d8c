package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

const identityCheckCols = `id, session_id, case_id, org_id, participant_id, state, requested_by,
	consent_at, refused_at, document_type, mrz, mrz_raw, document_number, nationality,
	challenge, provider, provider_state, provider_score, provider_ref, decision, reason,
	decided_by, decided_by_name, decided_at, submitted_at, created_at`

func scanIdentityCheck(r pgx.Row) (*cases.IdentityCheck, error) {
	var c cases.IdentityCheck
	err := r.Scan(&c.ID, &c.SessionID, &c.CaseID, &c.OrgID, &c.ParticipantID, &c.State, &c.RequestedBy,
		&c.ConsentAt, &c.RefusedAt, &c.DocumentType, &c.MRZ, &c.MRZRaw,
		&c.DocumentNumber, &c.Nationality, &c.Challenge, &c.Provider, &c.ProviderState,
		&c.ProviderScore, &c.ProviderRef, &c.Decision, &c.Reason, &c.DecidedBy, &c.DecidedByName,
		&c.DecidedAt, &c.SubmittedAt, &c.CreatedAt)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateIdentityCheck inserts c.
func (db *DB) CreateIdentityCheck(ctx context.Context, c *cases.IdentityCheck) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO identity_checks (`+identityCheckCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`,
		c.ID, c.SessionID, c.CaseID, c.OrgID, c.ParticipantID, c.State, c.RequestedBy,
		c.ConsentAt, c.RefusedAt, c.DocumentType, c.MRZ, c.MRZRaw,
		c.DocumentNumber, c.Nationality, c.Challenge, c.Provider, c.ProviderState,
		c.ProviderScore, c.ProviderRef, c.Decision, c.Reason, c.DecidedBy, c.DecidedByName,
		c.DecidedAt, c.SubmittedAt, c.CreatedAt)
	if err != nil {
		return writeErr("create identity check", err)
	}
	return nil
}

// IdentityCheck returns the check with id.
func (db *DB) IdentityCheck(ctx context.Context, id string) (*cases.IdentityCheck, error) {
	c, err := scanIdentityCheck(db.pool.QueryRow(ctx,
		`SELECT `+identityCheckCols+` FROM identity_checks WHERE id = $1`, id))
	if err != nil {
		return nil, readErr("identity check "+id, err)
	}
	return c, nil
}

// IdentityChecksOfSession lists the session's checks, oldest first.
func (db *DB) IdentityChecksOfSession(ctx context.Context, sessionID string) ([]*cases.IdentityCheck, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+identityCheckCols+` FROM identity_checks WHERE session_id = $1 ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, readErr("identity checks of session", err)
	}
	return collect(rows, scanIdentityCheck, "identity checks of session")
}

// UpdateIdentityCheck replaces the mutable fields of c.
func (db *DB) UpdateIdentityCheck(ctx context.Context, c *cases.IdentityCheck) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE identity_checks SET state = $1, requested_by = $2, consent_at = $3, refused_at = $4,
			document_type = $5, mrz = $6, mrz_raw = $7, document_number = $8, nationality = $9,
			challenge = $10, provider = $11, provider_state = $12, provider_score = $13, provider_ref = $14,
			decision = $15, reason = $16, decided_by = $17, decided_by_name = $18, decided_at = $19,
			submitted_at = $20
		WHERE id = $21`,
		c.State, c.RequestedBy, c.ConsentAt, c.RefusedAt,
		c.DocumentType, c.MRZ, c.MRZRaw, c.DocumentNumber, c.Nationality,
		c.Challenge, c.Provider, c.ProviderState, c.ProviderScore, c.ProviderRef,
		c.Decision, c.Reason, c.DecidedBy, c.DecidedByName, c.DecidedAt,
		c.SubmittedAt, c.ID)
	return updated("update identity check "+c.ID, tag, err)
}

// IdentityCheckByProviderRef finds the check with that provider reference.
func (db *DB) IdentityCheckByProviderRef(ctx context.Context, provider, ref string) (*cases.IdentityCheck, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty provider reference", store.ErrNotFound)
	}
	c, err := scanIdentityCheck(db.pool.QueryRow(ctx,
		`SELECT `+identityCheckCols+` FROM identity_checks WHERE provider = $1 AND provider_ref = $2
		ORDER BY created_at, id LIMIT 1`, provider, ref))
	if err != nil {
		return nil, readErr("identity check by provider reference", err)
	}
	return c, nil
}

// IdentityChecksWithImages lists the checks with an image not deleted.
func (db *DB) IdentityChecksWithImages(ctx context.Context) ([]*cases.IdentityCheck, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+identityCheckCols+` FROM identity_checks c WHERE EXISTS (
			SELECT 1 FROM identity_images i WHERE i.check_id = c.id AND i.deleted_at IS NULL)
		ORDER BY created_at, id`)
	if err != nil {
		return nil, readErr("identity checks with images", err)
	}
	return collect(rows, scanIdentityCheck, "identity checks with images")
}

const identityImageCols = `check_id, idx, kind, step, prompt, key, sha256, bytes, content_type,
	width, height, wrapped_key, key_id, created_at, deleted_at`

func scanIdentityImage(r pgx.Row) (*cases.IdentityImage, error) {
	var i cases.IdentityImage
	err := r.Scan(&i.CheckID, &i.Index, &i.Kind, &i.Step, &i.Prompt, &i.Key, &i.SHA256, &i.Bytes,
		&i.ContentType, &i.Width, &i.Height, &i.WrappedKey, &i.KeyID, &i.CreatedAt,
		&i.DeletedAt)
	if err != nil {
		return nil, err
	}
	return &i, nil
}

// AddIdentityImage inserts img.
func (db *DB) AddIdentityImage(ctx context.Context, img *cases.IdentityImage) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO identity_images (`+identityImageCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		img.CheckID, img.Index, img.Kind, img.Step, img.Prompt, img.Key, img.SHA256, img.Bytes,
		img.ContentType, img.Width, img.Height, nullBytes(img.WrappedKey), img.KeyID,
		img.CreatedAt, img.DeletedAt)
	if err != nil {
		return writeErr("add identity image", err)
	}
	return nil
}

// IdentityImages lists the check's images by index.
func (db *DB) IdentityImages(ctx context.Context, checkID string) ([]*cases.IdentityImage, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+identityImageCols+` FROM identity_images WHERE check_id = $1 ORDER BY idx`, checkID)
	if err != nil {
		return nil, readErr("identity images", err)
	}
	return collect(rows, scanIdentityImage, "identity images")
}

// DeleteIdentityImage erases the wrapped key of an image.
func (db *DB) DeleteIdentityImage(ctx context.Context, checkID string, index int, at time.Time) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE identity_images SET wrapped_key = NULL, deleted_at = coalesce(deleted_at, $1)
		WHERE check_id = $2 AND idx = $3`, at, checkID, index)
	return updated(fmt.Sprintf("delete identity image %s/%d", checkID, index), tag, err)
}

// PutIdentityPolicy creates or replaces the organization's policy.
func (db *DB) PutIdentityPolicy(ctx context.Context, p *cases.IdentityPolicy) error {
	if p.ImageRetentionDays < 0 {
		return fmt.Errorf("postgres: put identity policy: negative retention %d", p.ImageRetentionDays)
	}
	_, err := db.pool.Exec(ctx,
		`INSERT INTO identity_policies (org_id, store_raw_numbers, image_retention_days, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id) DO UPDATE SET store_raw_numbers = excluded.store_raw_numbers,
			image_retention_days = excluded.image_retention_days, updated_at = excluded.updated_at`,
		p.OrgID, p.StoreRawNumbers, p.ImageRetentionDays, p.UpdatedAt)
	if err != nil {
		return writeErr("put identity policy", err)
	}
	return nil
}

// IdentityPolicy returns the organization's policy.
func (db *DB) IdentityPolicy(ctx context.Context, orgID string) (*cases.IdentityPolicy, error) {
	var p cases.IdentityPolicy
	err := db.pool.QueryRow(ctx,
		`SELECT org_id, store_raw_numbers, image_retention_days, updated_at FROM identity_policies WHERE org_id = $1`,
		orgID).Scan(&p.OrgID, &p.StoreRawNumbers, &p.ImageRetentionDays, &p.UpdatedAt)
	if err != nil {
		return nil, readErr("identity policy "+orgID, err)
	}
	return &p, nil
}

// SetIdentityRequired records the session's identity requirement.
func (db *DB) SetIdentityRequired(ctx context.Context, sessionID string, required bool, at time.Time) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO identity_sessions (session_id, required, set_at) VALUES ($1, $2, $3)
		ON CONFLICT (session_id) DO UPDATE SET required = excluded.required, set_at = excluded.set_at`,
		sessionID, required, at)
	if err != nil {
		return writeErr("set identity required", err)
	}
	return nil
}

// IdentityRequired reports the session's identity requirement.
func (db *DB) IdentityRequired(ctx context.Context, sessionID string) (required, set bool, err error) {
	err = db.pool.QueryRow(ctx,
		`SELECT required FROM identity_sessions WHERE session_id = $1`, sessionID).Scan(&required)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	} else if err != nil {
		return false, false, readErr("identity required "+sessionID, err)
	}
	return required, true, nil
}

// UseIdentityNonce records a callback nonce; a second use is ErrConflict.
func (db *DB) UseIdentityNonce(ctx context.Context, nonce string, at time.Time) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO identity_nonces (nonce, seen_at) VALUES ($1, $2)`, nonce, at)
	if err != nil {
		return writeErr("use identity nonce", err)
	}
	return nil
}
