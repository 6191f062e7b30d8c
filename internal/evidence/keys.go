package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Key is a node's signing key.
type Key struct {
	ID        string // KeyID(Public)
	Public    ed25519.PublicKey
	private   ed25519.PrivateKey
	publicPEM []byte // MarshalPublicPEM(Public)
}

// keyOf makes the Key of priv.
func keyOf(priv ed25519.PrivateKey) (*Key, error) {
	pub := priv.Public().(ed25519.PublicKey)
	publicPEM, err := MarshalPublicPEM(pub)
	if err != nil {
		return nil, err
	}
	return &Key{ID: KeyID(pub), Public: pub, private: priv, publicPEM: publicPEM}, nil
}

// KeyID names a public key: "ed25519:" and the first 16 hex digits of the
// SHA-256 of the 32-byte key.
func KeyID(pub ed25519.PublicKey) string {
	return "ed25519:" + Fingerprint(pub)[:16]
}

// Fingerprint is the SHA-256 of the 32-byte public key in hex: what to
// compare, by eye or by program, with a key published by the organization.
func Fingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:])
}

// GenerateKey makes a new key that lives only in memory.
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return keyOf(priv)
}

// LoadOrCreateKey reads the private key at path (PEM "PRIVATE KEY",
// PKCS#8), or, if there is no file, creates one with a new key, readable
// by its owner only (0600; the directory is created 0700). It refuses a
// key file that others may read.
func LoadOrCreateKey(path string) (*Key, error) {
	k, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if k, err = GenerateKey(); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence: signing key: %w", err)
	}
	// Write a temporary file completely, then link it into place: the key
	// file appears whole or not at all, and a key another process created
	// meanwhile is never overwritten.
	tmp, err := os.CreateTemp(dir, ".signing-key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("evidence: signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: signing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return loadKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("evidence: signing key: %w", err)
	}
	return k, nil
}

func loadKey(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("evidence: signing key %s may be read by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("evidence: signing key %s is not one PEM PRIVATE KEY block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("evidence: signing key %s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("evidence: signing key %s is a %T, not Ed25519", path, key)
	}
	return keyOf(priv)
}

// Sign signs msg, the exact bytes of manifest.json.
func (k *Key) Sign(msg []byte) []byte {
	return ed25519.Sign(k.private, msg)
}

// PublicPEM is MarshalPublicPEM(k.Public), encoded when the key was made
// or loaded. The caller may modify the returned slice.
func (k *Key) PublicPEM() []byte { return bytes.Clone(k.publicPEM) }

// VerifySignature checks an Ed25519 signature of msg by pub.
func VerifySignature(pub ed25519.PublicKey, msg, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return errors.New("evidence: not an Ed25519 public key")
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		return errors.New("evidence: bad signature")
	}
	return nil
}

// MarshalPublicPEM encodes pub as PEM "PUBLIC KEY" (PKIX), the form of
// public-key.pem and of the keys an organization publishes. It fails only
// for a key of the wrong size.
func MarshalPublicPEM(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("evidence: not an Ed25519 public key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("evidence: public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicPEM decodes one PEM "PUBLIC KEY" block holding an Ed25519 key.
func ParsePublicPEM(b []byte) (ed25519.PublicKey, error) {
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("evidence: not one PEM PUBLIC KEY block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("evidence: public key: %w", err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("evidence: public key is a %T, not Ed25519", key)
	}
	return pub, nil
}

// EncodeSignature is the content of manifest.sig: the signature in
// standard base64 and a newline.
func EncodeSignature(sig []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(sig) + "\n")
}

// DecodeSignature reads manifest.sig. Surrounding white space is ignored.
func DecodeSignature(b []byte) ([]byte, error) {
	sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errors.New("evidence: manifest.sig is not a base64 Ed25519 signature")
	}
	return sig, nil
}

// Seal sets m.KeyID to k's, encodes m (Manifest.Encode) and signs the
// result: the contents of manifest.json and manifest.sig.
func Seal(m *Manifest, k *Key) (manifest, sig []byte, err error) {
	m.KeyID = k.ID
	manifest, err = m.Encode()
	if err != nil {
		return nil, nil, err
	}
	return manifest, EncodeSignature(k.Sign(manifest)), nil
}
