package auth

import (
	"errors"
	"strings"
	"testing"
)

// fast are cheap parameters so that tests run quickly, above all under -race.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPasswordDefault(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=65536,t=2,p=2$"
	if !strings.HasPrefix(h, prefix) {
		t.Errorf("hash %q does not start with %q", h, prefix)
	}
	// 16-byte salt and 32-byte key in unpadded base64: 22 and 43 characters.
	f := strings.Split(strings.TrimPrefix(h, prefix), "$")
	if len(f) != 2 || len(f[0]) != 22 || len(f[1]) != 43 || strings.ContainsAny(f[0]+f[1], "=-_") {
		t.Errorf("hash %q: want <22-char salt>$<43-char key>, unpadded standard base64", h)
	}
	ok, err := CheckPassword(h, "correct horse battery staple")
	if err != nil || !ok {
		t.Errorf("CheckPassword(right) = %v, %v; want true", ok, err)
	}
}

func TestCheckPassword(t *testing.T) {
	h, err := fast.Hash("s3cret pässwörd")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"s3cret pässwörd", true},
		{"s3cret passwort", false},
		{"s3cret pässwörd ", false},
		{"S3cret pässwörd", false},
		{"", false},
		{strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		got, err := CheckPassword(h, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("CheckPassword(%.20q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
}

func TestHashesDiffer(t *testing.T) {
	a, err1 := fast.Hash("same password")
	b, err2 := fast.Hash("same password")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal: %q", a)
	}
	for _, h := range []string{a, b} {
		if ok, err := CheckPassword(h, "same password"); !ok || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v", h, ok, err)
		}
	}
}

func TestHashPasswordPolicy(t *testing.T) {
	for _, pw := range []string{"", strings.Repeat("x", MaxPasswordLen+1)} {
		if _, err := HashPassword(pw); !errors.Is(err, ErrPasswordPolicy) {
			t.Errorf("HashPassword(%d bytes) error = %v, want ErrPasswordPolicy", len(pw), err)
		}
	}
	if _, err := fast.Hash(strings.Repeat("x", MaxPasswordLen)); err != nil {
		t.Errorf("Hash(%d bytes): %v", MaxPasswordLen, err)
	}
	bad := fast
	bad.Time = 0
	if _, err := bad.Hash("password"); err == nil {
		t.Error("Hash with t=0 succeeded")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, err := fast.Hash("password")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := f[4], f[5]
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":        "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"version":        "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":     "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"params order":   "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"params junk":    "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"leading zero":   "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"zero time":      "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":   "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"threads > 255":  "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,
		"huge memory":    "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"huge time":      "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"padded salt":    "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"bad base64":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "!" + key[11:],
		"short salt":     "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key,
		"short key":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA",
		"missing key":    "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"extra field":    good + "$x",
		"no leading $":   strings.TrimPrefix(good, "$"),
		"trailing space": good + " ",
	} {
		ok, err := CheckPassword(h, "password")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: CheckPassword(%q) = %v, %v; want false, ErrMalformedHash", name, h, ok, err)
		}
	}
}
