package identity

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"net/http"
	"testing"
	"time"
)

func TestKeyring(t *testing.T) {
	k, err := NewKeyring(DeriveKey(bytes.Repeat([]byte{1}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewKeyring(DeriveKey(bytes.Repeat([]byte{2}, 32)))
	img := []byte("\xff\xd8\xff a picture of a passport")
	sealed, wrapped, err := k.Seal(img, "cases/c/identity/k/0.enc")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, img[4:]) {
		t.Fatal("the sealed image holds the image in clear")
	}
	got, err := k.Open(sealed, wrapped, k.ID(), "cases/c/identity/k/0.enc")
	if err != nil || !bytes.Equal(got, img) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"another key":        func() ([]byte, error) { return other.Open(sealed, wrapped, other.ID(), "cases/c/identity/k/0.enc") },
		"another object key": func() ([]byte, error) { return k.Open(sealed, wrapped, k.ID(), "cases/c/identity/k/1.enc") },
		"altered":            func() ([]byte, error) { return k.Open(tampered, wrapped, k.ID(), "cases/c/identity/k/0.enc") },
		"deleted":            func() ([]byte, error) { return k.Open(sealed, nil, k.ID(), "cases/c/identity/k/0.enc") },
	} {
		if _, err := try(); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
	if _, err := ParseKey("abc"); err == nil {
		t.Error("ParseKey accepted a short key")
	}
}

func TestSniff(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 100, 80))); err != nil {
		t.Fatal(err)
	}
	if im, err := Sniff(b.Bytes()); err != nil || im.ContentType != "image/png" || im.Width != 100 || im.Height != 80 {
		t.Errorf("Sniff(png) = %+v, %v", im, err)
	}
	b.Reset()
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 10, 10)))
	for name, tc := range map[string]struct {
		in   []byte
		code string
	}{
		"tiny":       {b.Bytes(), CodeImageSize},
		"html":       {[]byte("<html></html>"), CodeNotAnImage},
		"jpeg magic": {[]byte("\xff\xd8\xff\xe0 then garbage"), CodeNotAnImage},
		"too large":  {make([]byte, MaxImageBytes+1), CodeImageTooLarge},
	} {
		var ie *ImageError
		if _, err := Sniff(tc.in); !errors.As(err, &ie) || ie.Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

func TestSignature(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"status":"match"}`)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1800000000")
	h.Set(HeaderSignature, Sign(secret, now.Unix(), body))
	if err := CheckSignature(secret, h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("valid signature: %v", err)
	}
	if err := CheckSignature(secret, h, body, now.Add(time.Hour), 5*time.Minute); !errors.Is(err, ErrStale) {
		t.Errorf("old signature: %v, want ErrStale", err)
	}
	if err := CheckSignature(secret, h, []byte(`{"status":"no_match"}`), now, 5*time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("altered body: %v, want ErrSignature", err)
	}
	if err := CheckSignature([]byte("other"), h, body, now, 5*time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("other secret: %v, want ErrSignature", err)
	}
}
