package evidence

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// certificateYears is how long a document-signing certificate is valid.
const certificateYears = 30

// LoadOrCreateDocumentKey reads the node's document-signing key at path
// (PEM "PRIVATE KEY", PKCS #8, ECDSA P-256), creating it (mode 0600) on
// first use. The node signs the PDFs it makes (a settlement agreement)
// with it, not with its Ed25519 manifest key: PDF readers and the common
// CMS tools verify ECDSA P-256 signatures, few verify Ed25519 ones.
func LoadOrCreateDocumentKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("evidence: document key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("evidence: document key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("evidence: document key: %w", err)
		}
		out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		// O_EXCL: two nodes starting on one data directory do not
		// overwrite each other's key; the loser reads the winner's.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateDocumentKey(path)
		} else if err != nil {
			return nil, fmt.Errorf("evidence: document key: %w", err)
		}
		if _, err := f.Write(out); err != nil {
			f.Close()
			return nil, fmt.Errorf("evidence: document key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("evidence: document key: %w", err)
		}
		return key, nil
	} else if err != nil {
		return nil, fmt.Errorf("evidence: document key: %w", err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("evidence: document key %s: not one PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("evidence: document key %s: %w", path, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("evidence: document key %s: not an ECDSA P-256 key", path)
	}
	return key, nil
}

// DocumentCertificate is a self-signed X.509 certificate of a
// document-signing key, made at now, naming the organization (O) and the
// node (CN), carried in the CMS signature of each PDF the node signs so
// that a reader shows who signed. Valid from an hour before now for 30
// years; for digital signatures and non-repudiation only; the serial
// number is random, the subject key id the SHA-256 of the public key's
// DER (first 20 bytes).
func DocumentCertificate(signer crypto.Signer, org, node string, now time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("evidence: certificate serial: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("evidence: certificate: %w", err)
	}
	ski := sha256.Sum256(pub)
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("evidence: certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}
