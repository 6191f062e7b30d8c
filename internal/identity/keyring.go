package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Keyring encrypts identity images at rest: each image under its own
// random 256-bit data key with AES-256-GCM, the data key wrapped (also
// AES-256-GCM) by the identity key. The object store keeps the encrypted
// image; the record keeps the wrapped data key, so that erasing it erases
// the image even where the object store is write-once.
//
// Stored object:  nonce (12 bytes) | AES-256-GCM(data key, image, aad)
// Wrapped key:    nonce (12 bytes) | AES-256-GCM(identity key, data key, aad)
//
// The additional data (aad) is the object key, so that an encrypted image
// and its wrapped key cannot be swapped with another image's.
type Keyring struct {
	kek cipher.AEAD
	id  string
}

// ErrKey means an image cannot be decrypted: it was wrapped by another
// identity key, it was deleted, or it was altered.
var ErrKey = errors.New("identity: cannot decrypt the image (wrong identity key, deleted, or altered)")

// DeriveKey derives the identity key from the node's secret key, for a
// deployment that configures none: HMAC-SHA256(node key, label).
func DeriveKey(nodeKey []byte) []byte {
	m := hmac.New(sha256.New, nodeKey)
	m.Write([]byte("kuayang identity image key v1"))
	return m.Sum(nil)
}

// ParseKey reads a configured identity key: 64 hexadecimal digits.
func ParseKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, errors.New("identity: the identity key must be 64 hexadecimal digits (32 bytes)")
	}
	return b, nil
}

// NewKeyring returns a keyring with the 32-byte identity key.
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("identity: key of %d bytes, want 32", len(key))
	}
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	// The id names the key without revealing it, so that a record wrapped
	// by another key is told apart from a damaged one.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kuayang identity key id"))
	return &Keyring{kek: a, id: hex.EncodeToString(m.Sum(nil)[:8])}, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return cipher.NewGCM(b)
}

// ID names the identity key.
func (k *Keyring) ID() string { return k.id }

// Seal encrypts an image stored under objectKey; it returns the object's
// content and the wrapped data key.
func (k *Keyring) Seal(image []byte, objectKey string) (sealed, wrapped []byte, err error) {
	dk := make([]byte, 32)
	_, _ = rand.Read(dk)
	a, err := gcm(dk)
	if err != nil {
		return nil, nil, err
	}
	return seal(a, image, objectKey), seal(k.kek, dk, objectKey), nil
}

// Open decrypts an image sealed under objectKey with its wrapped data key.
func (k *Keyring) Open(sealed, wrapped []byte, keyID, objectKey string) ([]byte, error) {
	if keyID != k.id || len(wrapped) == 0 {
		return nil, ErrKey
	}
	dk, err := open(k.kek, wrapped, objectKey)
	if err != nil {
		return nil, err
	}
	a, err := gcm(dk)
	if err != nil {
		return nil, err
	}
	return open(a, sealed, objectKey)
}

func seal(a cipher.AEAD, plain []byte, aad string) []byte {
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	_, _ = rand.Read(out)
	return a.Seal(out, out, plain, []byte(aad))
}

func open(a cipher.AEAD, sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, ErrKey
	}
	n := a.NonceSize()
	p, err := a.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, ErrKey
	}
	return p, nil
}
