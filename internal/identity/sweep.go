package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Sweep deletes the identity images whose retention has passed: those of
// sessions that ended more than the organization's ImageRetentionDays ago,
// unless the session's recording is under legal hold. Deleting erases the
// image's wrapped data key (the encrypted object cannot be read any more)
// and is audited (identity.image_deleted). It returns how many images it
// deleted.
func Sweep(ctx context.Context, st store.Store, now time.Time) (int, error) {
	checks, err := st.IdentityChecksWithImages(ctx)
	if err != nil {
		return 0, fmt.Errorf("identity: sweep: %w", err)
	}
	deleted := 0
	policies := map[string]*cases.IdentityPolicy{}
	for _, c := range checks {
		sess, err := st.Session(ctx, c.SessionID)
		if err != nil {
			return deleted, fmt.Errorf("identity: sweep: %w", err)
		}
		if sess.EndedAt == nil {
			continue
		}
		pol, ok := policies[c.OrgID]
		if !ok {
			pol, err = st.IdentityPolicy(ctx, c.OrgID)
			if errors.Is(err, store.ErrNotFound) {
				pol, err = &cases.IdentityPolicy{OrgID: c.OrgID}, nil
			}
			if err != nil {
				return deleted, fmt.Errorf("identity: sweep: %w", err)
			}
			policies[c.OrgID] = pol
		}
		if now.Before(sess.EndedAt.AddDate(0, 0, pol.RetentionDays())) {
			continue
		}
		rec, err := st.Recording(ctx, c.SessionID)
		if err == nil && rec.LegalHold {
			continue
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return deleted, fmt.Errorf("identity: sweep: %w", err)
		}
		imgs, err := st.IdentityImages(ctx, c.ID)
		if err != nil {
			return deleted, fmt.Errorf("identity: sweep: %w", err)
		}
		n := 0
		for _, i := range imgs {
			if i.DeletedAt != nil {
				continue
			}
			if err := st.DeleteIdentityImage(ctx, c.ID, i.Index, now); err != nil {
				return deleted, fmt.Errorf("identity: sweep: %w", err)
			}
			n++
		}
		deleted += n
		e := &audit.Entry{Time: now, ActorKind: audit.ActorSystem, ActorID: "retention", Action: "identity.image_deleted",
			OrgID: c.OrgID, CaseID: c.CaseID, SessionID: c.SessionID,
			Detail: fmt.Sprintf(`{"check":%q,"images":%d,"retention_days":%d}`, c.ID, n, pol.RetentionDays())}
		if err := st.AppendAudit(ctx, e); err != nil {
			return deleted, fmt.Errorf("identity: sweep: audit: %w", err)
		}
	}
	return deleted, nil
}
