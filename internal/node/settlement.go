package node

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/settlement"
)

// openSettlements makes the service that keeps the settlement agreements
// of mediation sessions: their PDFs are signed with the node's key and
// stored in the object store with the recordings.
func (n *Node) openSettlements(key *evidence.Key) {
	n.settlements = &settlement.Service{Records: n.store, Blob: n.blob, Signer: n.cfg.NodeID, Log: n.log,
		SignPDF: func(org string, content []byte) ([]byte, error) {
			now := time.Now()
			cert, err := key.Certificate(org, n.cfg.NodeID, now)
			if err != nil {
				return nil, err
			}
			return signDetached(content, key.Signer(), cert, now)
		}}
}

// settlementDocuments lists the finalized settlements of a session for
// its sealed manifest (archive Config.Documents).
func (n *Node) settlementDocuments(ctx context.Context, sessionID string) ([]evidence.Document, error) {
	return n.settlements.Documents(ctx, sessionID)
}
