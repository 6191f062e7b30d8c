package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCallTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	ct := NewCallTokens(key, time.Hour)
	ct.now = func() time.Time { return now }

	tok, exp := ct.Mint("s1", "p1")
	if !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("expires %v, want %v", exp, now.Add(time.Hour))
	}
	for range 2 { // not single-use
		c, err := ct.Check(tok)
		if err != nil || c.SessionID != "s1" || c.ParticipantID != "p1" {
			t.Fatalf("Check = %+v, %v", c, err)
		}
	}

	// A join token signed with the same key is not a call token, nor the
	// other way round.
	jt := NewJoinTokens(key, time.Hour)
	join, _ := jt.Mint("s1", "p1")
	if _, err := ct.Check(join); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a join token checked as a call token: %v", err)
	}
	if _, err := jt.Check(tok); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a call token checked as a join token: %v", err)
	}

	// Another participant's claims under the same signature.
	payload, mac, _ := strings.Cut(strings.TrimPrefix(tok, callPrefix), ".")
	other, _ := ct.Mint("s1", "p2")
	otherPayload, _, _ := strings.Cut(strings.TrimPrefix(other, callPrefix), ".")
	if _, err := ct.Check(callPrefix + otherPayload + "." + mac); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a swapped payload passed: %v", err)
	}
	if _, err := NewCallTokens([]byte("another key, another node......."), time.Hour).Check(callPrefix + payload + "." + mac); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("another key's check passed: %v", err)
	}
	for _, bad := range []string{"", "kc1.", "kc1.x.y", "kc1." + payload, strings.Repeat("a", 2000)} {
		if _, err := ct.Check(bad); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("Check(%.20q) = %v, want invalid", bad, err)
		}
	}

	now = now.Add(time.Hour)
	if _, err := ct.Check(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("at expiry: %v, want expired", err)
	}
}
