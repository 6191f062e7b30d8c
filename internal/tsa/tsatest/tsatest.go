// Package tsatest runs a timestamp authority (RFC 3161) for tests, on
// 127.0.0.1, with its own CA and an ECDSA P-256 timestamping certificate
// made at start. It can be told to refuse, to be slow, to be down, to
// stamp another digest than asked or to answer with another nonce, so
// that tests see the client and the verifier fail as they must.
package tsatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cms"
	"github.com/kuayang/kuayang/internal/tsa"
)

// Policy is the policy the test authority stamps under.
var Policy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 3161, 1}

// TSA is a running test authority.
type TSA struct {
	URL     string
	CA      *x509.Certificate // the root
	Cert    *x509.Certificate // the timestamping certificate, issued by CA
	CAPEM   []byte
	CertPEM []byte
	KeyPEM  []byte         // the authority's private key (PKCS #8), for other tools to stamp with
	Roots   *x509.CertPool // holds CA

	key *ecdsa.PrivateKey
	srv *httptest.Server

	mu       sync.Mutex
	status   int // PKIStatus to answer; granted by default
	text     string
	failBit  int
	down     bool
	delay    time.Duration
	imprint  []byte // stamp this instead of the digest asked
	badNonce bool
	serial   int64
	requests int
	now      func() time.Time
}

// New starts an authority; it stops when the test ends.
func New(t testing.TB) *TSA {
	t.Helper()
	a, err := newTSA()
	if err != nil {
		t.Fatal(err)
	}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.URL = a.srv.URL
	t.Cleanup(a.srv.Close)
	return a
}

func newTSA() (*TSA, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Kuayang Test Timestamp Root", Organization: []string{"Kuayang Test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	// RFC 3161 2.3: the extended key usage is timeStamping alone, and
	// critical (x509 would write it non-critical).
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Kuayang Test TSA", Organization: []string{"Kuayang Test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &TSA{CA: ca, Cert: cert, key: key, Roots: roots, failBit: -1, now: time.Now,
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}, nil
}

// Client is a client of this authority.
func (a *TSA) Client() *tsa.Client { return &tsa.Client{URL: a.URL, Timeout: 5 * time.Second} }

// Refuse makes the authority answer every request with status (e.g.
// tsa.StatusRejection), text and failure bit (-1: none); Refuse(0, "",
// -1) grants again.
func (a *TSA) Refuse(status int, text string, failBit int) {
	a.mu.Lock()
	a.status, a.text, a.failBit = status, text, failBit
	a.mu.Unlock()
}

// SetDown makes the authority answer HTTP 503 (down) or work again.
func (a *TSA) SetDown(down bool) {
	a.mu.Lock()
	a.down = down
	a.mu.Unlock()
}

// SetDelay makes the authority wait before answering.
func (a *TSA) SetDelay(d time.Duration) {
	a.mu.Lock()
	a.delay = d
	a.mu.Unlock()
}

// StampInstead makes the authority stamp digest rather than what it is
// asked (nil: what it is asked).
func (a *TSA) StampInstead(digest []byte) {
	a.mu.Lock()
	a.imprint = digest
	a.mu.Unlock()
}

// WrongNonce makes the authority answer with another nonce than the
// request's.
func (a *TSA) WrongNonce(on bool) {
	a.mu.Lock()
	a.badNonce = on
	a.mu.Unlock()
}

// Requests is how many requests the authority received.
func (a *TSA) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// Token issues a token over digest directly, without HTTP.
func (a *TSA) Token(digest []byte, nonce *big.Int) ([]byte, error) {
	a.mu.Lock()
	a.serial++
	serial := a.serial
	a.mu.Unlock()
	info, err := tsa.EncodeTSTInfo(tsa.TSTInfo{Policy: Policy, Digest: digest, Serial: big.NewInt(serial), GenTime: a.now(),
		Accuracy: time.Second, Nonce: nonce, Name: a.Cert.RawSubject})
	if err != nil {
		return nil, err
	}
	return cms.SignEncapsulated(info, cms.OIDTSTInfo, a.key, a.Cert)
}

func (a *TSA) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests++
	status, text, failBit, down, delay, imprint, badNonce := a.status, a.text, a.failBit, a.down, a.delay, a.imprint, a.badNonce
	a.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "want POST application/timestamp-query", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return
	}
	var resp []byte
	req, err := tsa.ParseRequest(body)
	switch {
	case err != nil:
		resp, err = tsa.EncodeResponse(tsa.StatusRejection, err.Error(), 0, nil) // badAlg
	case status != tsa.StatusGranted:
		resp, err = tsa.EncodeResponse(status, text, failBit, nil)
	default:
		digest, nonce := req.Digest, req.Nonce
		if imprint != nil {
			digest = imprint
		}
		if badNonce && nonce != nil {
			nonce = new(big.Int).Add(nonce, big.NewInt(1))
		}
		var token []byte
		if token, err = a.Token(digest, nonce); err == nil {
			resp, err = tsa.EncodeResponse(tsa.StatusGranted, "", -1, token)
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
