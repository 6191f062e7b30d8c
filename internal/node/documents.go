package node

import (
	"context"
	"fmt"

	"github.com/kuayang/kuayang/internal/evidence"
)

// documentSource lists documents of a session for its sealed manifest.
type documentSource func(ctx context.Context, sessionID string) ([]evidence.Document, error)

// documentSources are where the documents of a session come from: the
// notary's desk (the document shown and the one presented for signing)
// and the settlement agreements. Another kind of document is one more
// line here.
func (n *Node) documentSources() []documentSource {
	return []documentSource{
		n.notary.ManifestDocuments,
		n.settlementDocuments,
	}
}

// sessionDocuments lists the documents of a session from every source,
// for archive.Config.Documents.
func (n *Node) sessionDocuments(ctx context.Context, sessionID string) ([]evidence.Document, error) {
	var out []evidence.Document
	for i, src := range n.documentSources() {
		docs, err := src(ctx, sessionID)
		if err != nil {
			return nil, fmt.Errorf("document source %d: %w", i, err)
		}
		out = append(out, docs...)
	}
	return out, nil
}
