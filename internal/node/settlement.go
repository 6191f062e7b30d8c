package node

import (
	"context"
	"crypto"
	"path/filepath"
	"time"

	"github.com/kuayang/kuayang/internal/cms"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/settlement"
	"github.com/kuayang/kuayang/internal/tsa"
)

// openSettlements makes the service that keeps the settlement agreements
// of mediation sessions: their PDFs are signed with the node's
// document-signing key (data-dir/document-signing-key.pem, ECDSA P-256)
// and timestamped when an authority is configured, and stored in the
// object store with the recordings.
func (n *Node) openSettlements(stamper tsa.Stamper) error {
	key, err := evidence.LoadOrCreateDocumentKey(filepath.Join(n.cfg.DataDir, "document-signing-key.pem"))
	if err != nil {
		return err
	}
	n.settlements = &settlement.Service{Records: n.store, Blob: n.blob, Signer: n.cfg.NodeID, Log: n.log,
		SignPDF: func(org string, content []byte) ([]byte, error) {
			return signPDF(key, org, n.cfg.NodeID, content, time.Now())
		}}
	if stamper != nil {
		n.settlements.Stamper = stamper
	}
	return nil
}

// signPDF makes the CMS signature (PAdES baseline B-B: no signing time
// among the signed attributes; the PDF's /M says when) of the byte range
// of a PDF, with a certificate naming the organization and the node.
func signPDF(key crypto.Signer, org, node string, content []byte, now time.Time) ([]byte, error) {
	cert, err := evidence.DocumentCertificate(key, org, node, now)
	if err != nil {
		return nil, err
	}
	return cms.SignDetached(content, key, cert)
}

// settlementDocuments lists the finalized settlements of a session for
// its sealed manifest (archive Config.Documents).
func (n *Node) settlementDocuments(ctx context.Context, sessionID string) ([]evidence.Document, error) {
	return n.settlements.Documents(ctx, sessionID)
}
