package auth

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJoinTokens(t *testing.T) {
	key := make([]byte, 32)
	j := NewJoinTokens(key, time.Minute)
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	j.now = func() time.Time { return now }
	tok, exp := j.Mint("s1", "p1")
	if !exp.Equal(now.Add(time.Minute)) {
		t.Fatalf("expiry %v", exp)
	}
	c, err := j.Check(tok)
	if err != nil || c.SessionID != "s1" || c.ParticipantID != "p1" {
		t.Fatalf("Check: %+v %v", c, err)
	}
	if _, err := j.Use(tok); err != nil {
		t.Fatalf("first Use: %v", err)
	}
	if _, err := j.Use(tok); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("second Use: %v, want ErrTokenUsed", err)
	}
	other := NewJoinTokens([]byte(strings.Repeat("k", 32)), time.Minute)
	payload, _, _ := strings.Cut(strings.TrimPrefix(tok, joinPrefix), ".")
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"empty", "", ErrTokenInvalid},
		{"garbage", "kj1.abc", ErrTokenInvalid},
		{"other key", func() string { s, _ := other.Mint("s1", "p1"); return s }(), ErrTokenInvalid},
		{"tampered mac", tok[:len(tok)-2] + "AA", ErrTokenInvalid},
		{"tampered payload", joinPrefix + "e30." + tokenMAC(j.key, joinPrefix, "e30"), ErrTokenInvalid},
		{"signed garbage payload", joinPrefix + payload + "x." + tokenMAC(j.key, joinPrefix, payload+"x"), ErrTokenInvalid},
		{"huge", strings.Repeat("a", 5000), ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := j.Check(tt.tok); !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
	now = now.Add(time.Minute)
	tok2, _ := j.Mint("s1", "p1")
	now = now.Add(2 * time.Minute)
	if _, err := j.Use(tok2); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired Use = %v", err)
	}
	if len(j.used) != 0 {
		t.Fatalf("expired nonces kept: %d", len(j.used))
	}
}

func TestKeyAndDerivedTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "node.key")
	k1, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(path)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("key not stable: %v", err)
	}
	a, b := DeriveToken(k1, "x"), DeriveToken(k1, "x")
	if a != b || a == DeriveToken(k1, "y") || len(a) != 22 {
		t.Fatalf("derived %q %q", a, b)
	}
	if a, b := InviteToken(), InviteToken(); a == b || len(a) != 22 || len(HashToken("x")) != 32 {
		t.Fatal("invite tokens")
	}
}
