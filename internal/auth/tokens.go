package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// InviteToken returns a new invite token: 128 random bits, base64url.
func InviteToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is what the store keeps of a token: its SHA-256.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// LoadKey reads the node's 32-byte secret from path, creating it (mode 0600)
// on first use. The key signs join tokens and derives demo invites.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("auth: key %s: want 32 bytes, have %d", path, len(b))
		}
		return b, nil
	}
	if !os.IsNotExist(err) {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: %w", err)
	}
	return key, f.Close()
}

// DeriveToken returns a stable invite token for label under key. The demo
// uses it so that re-running it prints the same links while the store keeps
// only hashes.
func DeriveToken(key []byte, label string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kuayang derived token\x00" + label))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// JoinClaims is what a join token grants: one participant of one session
// until Expires.
type JoinClaims struct {
	SessionID     string `json:"s"`
	ParticipantID string `json:"p"`
	Expires       int64  `json:"e"` // unix seconds
	Nonce         string `json:"n"`
}

// JoinTokens mints and checks the short-lived, single-use join tokens the
// websocket accepts. Tokens are HMAC-SHA256 signed; use is tracked in memory
// until expiry, which is enough while a session lives on one node.
type JoinTokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex           // guards used
	used map[string]time.Time // nonce -> expiry
}

// NewJoinTokens returns a JoinTokens signing with key; tokens live ttl.
func NewJoinTokens(key []byte, ttl time.Duration) *JoinTokens {
	return &JoinTokens{key: key, ttl: ttl, now: time.Now, used: make(map[string]time.Time)}
}

const joinPrefix = "kj1."

// Mint returns a token for participant pid of session sid and its expiry.
func (j *JoinTokens) Mint(sid, pid string) (string, time.Time) {
	exp := j.now().Add(j.ttl).Truncate(time.Second)
	var n [12]byte
	_, _ = rand.Read(n[:])
	c := JoinClaims{SessionID: sid, ParticipantID: pid, Expires: exp.Unix(), Nonce: base64.RawURLEncoding.EncodeToString(n[:])}
	return sealClaims(j.key, joinPrefix, c), exp
}

// sealClaims makes a token of claims (a struct of strings and ints):
// prefix, the claims' JSON in base64url, ".", and the HMAC-SHA256 under
// key of everything before the dot. The prefix names the kind of token,
// so that one kind is never taken for another.
func sealClaims(key []byte, prefix string, claims any) string {
	body, _ := json.Marshal(claims) // strings and ints: cannot fail
	payload := base64.RawURLEncoding.EncodeToString(body)
	return prefix + payload + "." + tokenMAC(key, prefix, payload)
}

func tokenMAC(key []byte, prefix, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(prefix + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// openClaims checks a token made by sealClaims with key and prefix and
// decodes its claims into claims; false for anything else.
func openClaims(key []byte, prefix, tok string, claims any) bool {
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok || len(tok) > 1024 {
		return false
	}
	payload, mac, ok := strings.Cut(rest, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(tokenMAC(key, prefix, payload))) {
		return false
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	return err == nil && json.Unmarshal(body, claims) == nil
}

// Check verifies a token without using it up.
func (j *JoinTokens) Check(tok string) (JoinClaims, error) {
	var c JoinClaims
	if !openClaims(j.key, joinPrefix, tok, &c) || c.SessionID == "" || c.ParticipantID == "" || c.Nonce == "" {
		return JoinClaims{}, ErrTokenInvalid
	}
	if !j.now().Before(time.Unix(c.Expires, 0)) {
		return c, ErrTokenExpired
	}
	return c, nil
}

// Use verifies a token and marks it used: a second Use of the same token
// fails with ErrTokenUsed.
func (j *JoinTokens) Use(tok string) (JoinClaims, error) {
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for n, exp := range j.used {
		if now.After(exp) {
			delete(j.used, n)
		}
	}
	c, err := j.Check(tok)
	if err != nil {
		return c, err
	}
	if _, seen := j.used[c.Nonce]; seen {
		return c, ErrTokenUsed
	}
	j.used[c.Nonce] = time.Unix(c.Expires, 0)
	return c, nil
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

// LoginToken returns a new login token: 256 random bits, base64url.
func LoginToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
