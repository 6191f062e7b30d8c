package evidence

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// Signer is the node's private key as a crypto.Signer (Ed25519), for the
// CMS signatures of the PDFs the node signs (a settlement agreement). The
// key never leaves the Key.
func (k *Key) Signer() crypto.Signer { return k.private }

// certificateYears is how long a node certificate is valid.
const certificateYears = 30

// Certificate is a self-signed X.509 certificate of the node's key, made
// at now, naming the organization (O) and the node (CN), for the CMS
// signatures of the PDFs the node signs: a reader shows who signed, and
// the key is the one whose fingerprint (Fingerprint) the organization
// publishes for its manifests. Valid from an hour before now for 30
// years; for digital signatures and non-repudiation only; the serial
// number is random.
func (k *Key) Certificate(org, node string, now time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("evidence: certificate serial: %w", err)
	}
	ski := sha256.Sum256(k.Public)
	name := pkix.Name{Organization: []string{org}, CommonName: node}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.AddDate(certificateYears, 0, 0).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski[:20],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public, k.private)
	if err != nil {
		return nil, fmt.Errorf("evidence: certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}
