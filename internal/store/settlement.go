package store

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// Settlements keeps settlement agreements (cases.Settlement) with their
// versions and signatures. The methods returning a settlement fill its
// Versions, Signatures and Final.
type Settlements interface {
	// CreateSettlement inserts s (its versions and signatures are added
	// apart); ErrConflict if the id exists.
	CreateSettlement(ctx context.Context, s *cases.Settlement) error
	Settlement(ctx context.Context, id string) (*cases.Settlement, error)
	// SettlementsOfSession lists a session's settlements, oldest first.
	SettlementsOfSession(ctx context.Context, sessionID string) ([]*cases.Settlement, error)
	// SettlementsOfCase lists a case's settlements, oldest first.
	SettlementsOfCase(ctx context.Context, caseID string) ([]*cases.Settlement, error)
	// AddSettlementVersion appends a version; ErrConflict if that version
	// number exists.
	AddSettlementVersion(ctx context.Context, v *cases.SettlementVersion) error
	// ShareSettlementVersion makes version the shared one (SharedAt set,
	// first time only); ErrNotFound if there is no such version.
	ShareSettlementVersion(ctx context.Context, id string, version int, at time.Time) error
	// PutSettlementSignature creates or replaces the signature of
	// (settlement, version, participant).
	PutSettlementSignature(ctx context.Context, g *cases.SettlementSignature) error
	// FinalizeSettlement records the signed PDF, once: ErrConflict if the
	// settlement is already final.
	FinalizeSettlement(ctx context.Context, id string, f *cases.SettlementFinal) error
}
