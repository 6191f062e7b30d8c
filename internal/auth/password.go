package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MaxPasswordLen is the longest password HashPassword accepts, in bytes.
const MaxPasswordLen = 1024

// Errors of HashPassword and CheckPassword, for errors.Is.
var (
	// ErrPasswordPolicy: the password is empty or longer than MaxPasswordLen.
	// Other rules (minimum length, strength) are the caller's.
	ErrPasswordPolicy = errors.New("auth: password is empty or longer than 1024 bytes")
	// ErrMalformedHash: the stored hash is not an argon2id PHC string this
	// package can check.
	ErrMalformedHash = errors.New("auth: malformed password hash")
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are used by HashPassword: 64 MiB, 2 passes, 2 lanes, above
// the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane).
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds on the parameters CheckPassword accepts from a stored hash, so that
// a corrupt or hostile hash cannot make a check exhaust memory or time.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	minSaltLen = 8
	minKeyLen  = 16
	maxKeyLen  = 128
)

// HashPassword hashes pw with argon2id and DefaultParams, and returns the
// hash in PHC string format:
//
//	$argon2id$v=19$m=65536,t=2,p=2$<salt>$<key>
//
// where salt and key are unpadded standard base64.
func HashPassword(pw string) (string, error) {
	return DefaultParams.Hash(pw)
}

// Hash hashes pw with argon2id and p and a random salt, in PHC string
// format (see HashPassword).
func (p Params) Hash(pw string) (string, error) {
	if pw == "" || len(pw) > MaxPasswordLen {
		return "", ErrPasswordPolicy
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		phcB64.EncodeToString(salt), phcB64.EncodeToString(key)), nil
}

// phcB64 is the base64 of PHC strings: standard alphabet, no padding.
var phcB64 = base64.RawStdEncoding

// validate checks that p is within the bounds CheckPassword accepts.
func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("auth: argon2id t=%d out of range", p.Time)
	case p.Threads < 1:
		return fmt.Errorf("auth: argon2id p=%d out of range", p.Threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("auth: argon2id m=%d out of range", p.Memory)
	case p.SaltLen < minSaltLen:
		return fmt.Errorf("auth: argon2id salt of %d bytes is too short", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("auth: argon2id key of %d bytes out of range", p.KeyLen)
	}
	return nil
}

// CheckPassword reports whether pw matches hash, a PHC string from
// HashPassword (with any parameters within sane bounds). The comparison is
// constant-time. It returns ErrMalformedHash for a hash it cannot parse. An
// empty or over-long pw does not match any hash.
func CheckPassword(hash, pw string) (bool, error) {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if pw == "" || len(pw) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// parseHash splits a PHC argon2id string into its parameters, salt and key.
func parseHash(hash string) (Params, []byte, []byte, error) {
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: not $argon2id$v=..$m=..,t=..,p=..$salt$key", ErrMalformedHash)
	}
	if f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("%w: version %q", ErrMalformedHash, f[2])
	}
	var p Params
	_, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads)
	if err != nil || f[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, f[3])
	}
	salt, err1 := phcB64.Strict().DecodeString(f[4])
	key, err2 := phcB64.Strict().DecodeString(f[5])
	if err := errors.Join(err1, err2); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}
