package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// pki is a CA and a leaf certificate issued by it.
type pki struct {
	ca, leaf *x509.Certificate
	key      crypto.Signer
}

func newPKI(t testing.TB, key crypto.Signer) *pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "Test Signer", Organization: []string{"Kuayang"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return &pki{ca: ca, leaf: leaf, key: key}
}

func keys(t testing.TB) map[string]crypto.Signer {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"ed25519": ed, "ecdsa": ec, "rsa": rk}
}

func TestSignDetachedVerifies(t *testing.T) {
	content := []byte("%PDF-1.7 the bytes a signature covers")
	for name, key := range keys(t) {
		t.Run(name, func(t *testing.T) {
			p := newPKI(t, key)
			der, err := SignDetached(content, key, p.leaf, WithCertificates(p.ca))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Verify(der, content)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Signer.Equal(p.leaf) || !s.ContentType.Equal(OIDData) || !bytes.Equal(s.Content, content) || len(s.Certificates) != 2 {
				t.Fatalf("signed: %+v", s)
			}
			if !s.SigningTime.IsZero() {
				t.Fatal("signing-time present without WithSigningTime")
			}
			roots := x509.NewCertPool()
			roots.AddCert(p.ca)
			if err := VerifyChain(s.Signer, s.Certificates, roots, time.Now()); err != nil {
				t.Fatal(err)
			}
			other := x509.NewCertPool()
			other.AddCert(newPKI(t, key).ca)
			if err := VerifyChain(s.Signer, nil, other, time.Now()); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("chain to a foreign root: %v", err)
			}
			if err := VerifyChain(s.Signer, s.Certificates, roots, time.Now().Add(48*time.Hour)); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("chain after expiry: %v", err)
			}
			// Other content, or none.
			if _, err := Verify(der, []byte("%PDF-1.7 other bytes")); !errors.Is(err, ErrSignature) {
				t.Fatalf("other content: %v", err)
			}
			if _, err := Verify(der, nil); !errors.Is(err, ErrMalformed) {
				t.Fatalf("no content: %v", err)
			}
			// A flipped byte of the signature (the last bytes of the DER
			// are the signature's).
			bad := bytes.Clone(der)
			bad[len(bad)-3] ^= 1
			if _, err := Verify(bad, content); !errors.Is(err, ErrSignature) {
				t.Fatalf("flipped signature: %v", err)
			}
			openssl(t, der, content, p)
		})
	}
}

func TestSigningTimeAndEncapsulated(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newPKI(t, key)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	der, err := SignEncapsulated([]byte("inside"), OIDTSTInfo, key, p.leaf, WithSigningTime(at))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(der, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.SigningTime.Equal(at) || string(s.Content) != "inside" || !s.ContentType.Equal(OIDTSTInfo) {
		t.Fatalf("signed: %+v", s)
	}
	if _, err := Verify(der, []byte("inside")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("detached content given with encapsulated: %v", err)
	}
}

func TestSignRefusesForeignCertificate(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newPKI(t, k1)
	if _, err := SignDetached([]byte("x"), k2, p.leaf); err == nil {
		t.Fatal("signed with a key that is not the certificate's")
	}
}

// openssl checks der with the openssl command: the signature alone, then
// with the chain to the CA.
func openssl(t *testing.T, der, content []byte, p *pki) {
	t.Helper()
	bin := opensslPath(t)
	dir := t.TempDir()
	sig, data, ca := filepath.Join(dir, "sig.p7s"), filepath.Join(dir, "data"), filepath.Join(dir, "ca.pem")
	os.WriteFile(sig, der, 0o600)
	os.WriteFile(data, content, 0o600)
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw}), 0o600)
	for _, args := range [][]string{
		{"cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-noverify", "-out", os.DevNull},
		{"cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil && p.leaf.PublicKeyAlgorithm == x509.Ed25519 && bytes.Contains(out, []byte("invalid digest")) {
			t.Skipf("this OpenSSL cannot verify Ed25519 in CMS (OpenSSL 3.0 and 3.1 lack it): %s", bytes.TrimSpace(out))
		}
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	// And openssl must refuse other content.
	os.WriteFile(data, append(bytes.Clone(content), '!'), 0o600)
	if out, err := exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-noverify", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Fatalf("openssl verified other content:\n%s", out)
	}
}

// opensslPath is the openssl command; without it the test skips, unless
// under CI, where it must be there.
func opensslPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is not installed; CI must have it to cross-check CMS signatures")
		}
		t.Skip("openssl is not installed: the cross-check with OpenSSL is skipped")
	}
	return bin
}

func FuzzVerify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newPKI(f, key)
	der, err := SignEncapsulated([]byte("seed"), OIDTSTInfo, key, p.leaf)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add(der[:len(der)/2])
	f.Add([]byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Verify(b, nil)
		if err == nil && s.Signer == nil {
			t.Fatal("verified without a signer")
		}
	})
}
