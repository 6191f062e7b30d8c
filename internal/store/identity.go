package store

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// IdentityStore keeps identity checks, their encrypted images, the
// organizations' identity policies and the sessions' identity requirement.
type IdentityStore interface {
	// CreateIdentityCheck inserts c; ErrConflict if c.ID exists.
	CreateIdentityCheck(ctx context.Context, c *cases.IdentityCheck) error
	IdentityCheck(ctx context.Context, id string) (*cases.IdentityCheck, error)
	// IdentityChecksOfSession lists a session's checks by CreatedAt, ID.
	IdentityChecksOfSession(ctx context.Context, sessionID string) ([]*cases.IdentityCheck, error)
	// UpdateIdentityCheck replaces every field of c but its identity
	// (ID, session, case, organization, participant, CreatedAt).
	UpdateIdentityCheck(ctx context.Context, c *cases.IdentityCheck) error
	// IdentityCheckByProviderRef finds the check a provider's reference
	// names.
	IdentityCheckByProviderRef(ctx context.Context, provider, ref string) (*cases.IdentityCheck, error)
	// IdentityChecksWithImages lists the checks that still have an image
	// not deleted, by CreatedAt, ID (the retention sweeper's work).
	IdentityChecksWithImages(ctx context.Context) ([]*cases.IdentityCheck, error)

	// AddIdentityImage records an uploaded image; ErrConflict if
	// (CheckID, Index) exists.
	AddIdentityImage(ctx context.Context, img *cases.IdentityImage) error
	// IdentityImages lists a check's images by Index, deleted ones too.
	IdentityImages(ctx context.Context, checkID string) ([]*cases.IdentityImage, error)
	// DeleteIdentityImage erases an image's wrapped key and sets
	// DeletedAt (first time only).
	DeleteIdentityImage(ctx context.Context, checkID string, index int, at time.Time) error

	// PutIdentityPolicy creates or replaces an organization's policy.
	PutIdentityPolicy(ctx context.Context, p *cases.IdentityPolicy) error
	// IdentityPolicy returns an organization's policy; ErrNotFound when
	// it has none (the defaults apply).
	IdentityPolicy(ctx context.Context, orgID string) (*cases.IdentityPolicy, error)

	// SetIdentityRequired records whether a session requires parties and
	// interpreters to verify their identity.
	SetIdentityRequired(ctx context.Context, sessionID string, required bool, at time.Time) error
	// IdentityRequired reports the session's setting; set is false when
	// none was recorded (the case kind decides).
	IdentityRequired(ctx context.Context, sessionID string) (required, set bool, err error)

	// UseIdentityNonce records a provider callback's nonce; ErrConflict
	// if it was seen before (a replay).
	UseIdentityNonce(ctx context.Context, nonce string, at time.Time) error
}
