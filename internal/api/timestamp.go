package api

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
)

// timestampToken is a sealed session's stored timestamp token
// (manifest.tsr), nil when it has none (yet).
func (s *Server) timestampToken(ctx context.Context, sessionID string) ([]byte, error) {
	if s.Recordings.TimestampKey == nil {
		return nil, nil
	}
	return s.optionalObject(ctx, s.Recordings.TimestampKey(sessionID))
}

// timestampView is the verified timestamp of a sealed manifest in the
// answer of verify.
type timestampView struct {
	Time      time.Time `json:"time"`
	Authority string    `json:"authority"`
	Serial    string    `json:"serial"`
	Policy    string    `json:"policy"`
	// Trusted: the authority's certificate chains to the roots the node
	// is configured with (--tsa-ca); false when none are configured.
	Trusted bool `json:"trusted"`
}

func newTimestampView(t *evidence.Timestamp) *timestampView {
	if t == nil {
		return nil
	}
	return &timestampView{Time: t.Time, Authority: t.Authority, Serial: t.Serial, Policy: t.Policy, Trusted: t.Trusted}
}
