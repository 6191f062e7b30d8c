package node

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/api"
	"github.com/kuayang/kuayang/internal/identity"
)

// identityAPI builds what the identity verification routes need: the
// keyring (the configured identity key, else one derived from the node
// key) and the face-verification provider when one is configured.
func (n *Node) identityAPI() (*api.Identity, error) {
	key := identity.DeriveKey(n.key)
	if n.cfg.IdentityKey != "" {
		k, err := identity.ParseKey(n.cfg.IdentityKey)
		if err != nil {
			return nil, err
		}
		key = k
	}
	keys, err := identity.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	id := &api.Identity{Blob: n.blob, Keys: keys,
		Changed: func(sessionID, participantID, checkID, state string) {
			n.sig.IdentityChanged(sessionID, participantID, checkID, state)
		}}
	if n.cfg.FaceVerifyURL != "" {
		id.Provider = &identity.HTTPVerifier{Name: n.cfg.FaceVerifyName, URL: n.cfg.FaceVerifyURL,
			Secret: []byte(n.cfg.FaceVerifySecret), Timeout: n.cfg.FaceVerifyTimeout,
			Callback: n.URL() + "/api/v1/identity/callback"}
	}
	return id, nil
}

// sweepIdentity deletes identity images past their retention every hour
// until the node stops.
func (n *Node) sweepIdentity() {
	defer n.loops.Done()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if k, err := identity.Sweep(ctx, n.store, time.Now()); err != nil {
			n.log.Warn("deleting expired identity images", "err", err)
		} else if k > 0 {
			n.log.Info("expired identity images deleted", "count", k)
		}
		cancel()
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}
