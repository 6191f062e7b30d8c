package node

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/kuayang/kuayang/internal/tsa"
)

// timestamping is the node's timestamp authority (--tsa-url) as a
// Stamper, nil when none is configured, and the roots of --tsa-ca that
// verification checks tokens against, nil when not given.
func (n *Node) timestamping() (tsa.Stamper, *x509.CertPool, error) {
	var roots *x509.CertPool
	if n.cfg.TSACA != "" {
		var err error
		if roots, err = tsa.LoadRoots(n.cfg.TSACA); err != nil {
			return nil, nil, fmt.Errorf("node: --tsa-ca: %w", err)
		}
	}
	if n.cfg.TSAURL == "" {
		return nil, roots, nil
	}
	return &tsa.Client{URL: n.cfg.TSAURL, HTTP: &http.Client{Timeout: 30 * time.Second}, Timeout: 15 * time.Second}, roots, nil
}
