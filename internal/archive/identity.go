package archive

import (
	"context"
	"encoding/hex"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/identity"
	"github.com/kuayang/kuayang/internal/store"
)

// identities fills the Identity of each participant whose identity was
// decided in the session: from their latest decided check, the presider's
// decision with the provider's advice and the hashes of the images.
func identities(ctx context.Context, st store.Store, sessionID string, parts []evidence.Participant) error {
	checks, err := st.IdentityChecksOfSession(ctx, sessionID)
	if err != nil {
		return err
	}
	decided := map[string]*cases.IdentityCheck{}
	for _, c := range checks { // oldest first: the latest decision wins
		if c.Decision != "" && c.DecidedAt != nil {
			decided[c.ParticipantID] = c
		}
	}
	for i := range parts {
		c := decided[parts[i].ID]
		if c == nil {
			continue
		}
		id := &evidence.Identity{Method: identity.MethodManual, Result: c.Decision, VerifiedBy: c.DecidedByName,
			VerifiedAt: evidence.At(*c.DecidedAt), Reason: c.Reason, DocumentType: c.DocumentType,
			DocumentNumber: c.DocumentNumber, Nationality: c.Nationality}
		if c.Provider != "" {
			id.Method = c.Provider
			id.ProviderResult, id.ProviderScore, id.ProviderReference = c.ProviderState, c.ProviderScore, c.ProviderRef
		}
		imgs, err := st.IdentityImages(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, im := range imgs {
			id.Images = append(id.Images, evidence.IdentityImage{Kind: im.Kind, Prompt: im.Prompt, SHA256: hex.EncodeToString(im.SHA256)})
		}
		parts[i].Identity = id
	}
	return nil
}
