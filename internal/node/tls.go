package node

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// setupTLS prepares the node's TLS configuration when it serves TLS
// itself: from certificate files (read now, so that a bad file stops the
// start, and read again when they change) or from ACME.
func (n *Node) setupTLS() error {
	switch {
	case n.cfg.TLSCert != "":
		files, err := loadCertFiles(n.cfg.TLSCert, n.cfg.TLSKey, n.log)
		if err != nil {
			return err
		}
		n.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: files.get}
	case n.cfg.ACMEHost != "":
		n.acme = &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(filepath.Join(n.cfg.DataDir, "acme")),
			HostPolicy: autocert.HostWhitelist(n.cfg.ACMEHost),
			Email:      n.cfg.ACMEEmail,
		}
		n.tlsConf = n.acme.TLSConfig() // answers the TLS-ALPN-01 challenge too
		n.tlsConf.MinVersion = tls.VersionTLS12
	}
	return nil
}

// turnTLS is the TLS configuration of TURN over TLS: the node's
// certificate, without the HTTP protocols.
func (n *Node) turnTLS() *tls.Config {
	if n.tlsConf == nil {
		return nil
	}
	c := n.tlsConf.Clone()
	c.NextProtos = nil
	return c
}

// serveACMEHTTP serves the ACME HTTP-01 challenge on --acme-http-addr and
// redirects every other request to HTTPS.
func (n *Node) serveACMEHTTP() error {
	if n.acme == nil || n.cfg.ACMEHTTPAddr == "" {
		return nil
	}
	n.acmeSrv = &http.Server{Addr: n.cfg.ACMEHTTPAddr, Handler: n.acme.HTTPHandler(nil),
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", n.cfg.ACMEHTTPAddr)
	if err != nil {
		return fmt.Errorf("node: acme-http-addr: %w", err)
	}
	go func() {
		if err := n.acmeSrv.Serve(ln); err != nil && err != http.ErrServerClosed {
			n.log.Error("acme http listener stopped", "err", err)
		}
	}()
	n.log.Info("acme http-01 listening", "addr", ln.Addr().String())
	return nil
}

// hsts tells browsers to come back over HTTPS only, when the node serves
// TLS itself.
func hsts(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		h.ServeHTTP(w, r)
	})
}

// certFiles is a certificate read from files and read again when either
// file changes (a renewal by certbot or cert-manager needs no restart).
type certFiles struct {
	certPath, keyPath string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	mod     time.Time // latest modification time of the two files
	checked time.Time
}

// certCheckInterval is how often the files are looked at again.
const certCheckInterval = 30 * time.Second

func loadCertFiles(certPath, keyPath string, log *slog.Logger) (*certFiles, error) {
	f := &certFiles{certPath: certPath, keyPath: keyPath, log: log}
	mod, err := f.modTime()
	if err != nil {
		return nil, fmt.Errorf("node: tls: %w", err)
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("node: tls: %s and %s: %w", certPath, keyPath, err)
	}
	f.cert, f.mod, f.checked = &c, mod, time.Now()
	return f, nil
}

func (f *certFiles) modTime() (time.Time, error) {
	var latest time.Time
	for _, p := range []string{f.certPath, f.keyPath} {
		st, err := os.Stat(p)
		if err != nil {
			return time.Time{}, err
		}
		if st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest, nil
}

// get implements tls.Config.GetCertificate. A file that cannot be read
// or parsed keeps the certificate in use, with a warning.
func (f *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.checked) < certCheckInterval {
		return f.cert, nil
	}
	f.checked = time.Now()
	mod, err := f.modTime()
	if err != nil || mod.Equal(f.mod) {
		return f.cert, nil
	}
	c, err := tls.LoadX509KeyPair(f.certPath, f.keyPath)
	if err != nil {
		f.log.Warn("tls certificate changed but cannot be loaded; keeping the previous one", "cert", f.certPath, "err", err)
		return f.cert, nil
	}
	f.cert, f.mod = &c, mod
	f.log.Info("tls certificate reloaded", "cert", f.certPath)
	return f.cert, nil
}
