package node

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/pdf"
)

// signedPDF makes a small PDF signed by signer with cert.
func signedPDF(t *testing.T, signer crypto.Signer, cert *x509.Certificate) (doc, content, cms []byte) {
	t.Helper()
	d := &pdf.Document{Title: "调解协议", Footer: "s1"}
	d.Paragraph("双方同意 / Le parti concordano.")
	now := time.Now()
	b, err := d.Sign(pdf.SignOptions{Name: "Milano Mediation Centre (node-1)", Time: now}, func(content []byte) ([]byte, error) {
		return signDetached(content, signer, cert, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	content, cms, err = pdf.Signed(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, content, cms
}

// The CMS the node makes is one openssl and poppler verify over the PDF's
// byte range (with an ECDSA key: the OpenSSL and NSS here verify no
// Ed25519 CMS at all).
func TestSettlementCMSVerifiesWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not installed")
		}
		t.Skip("openssl is not installed")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{Organization: []string{"Milano Mediation Centre"}, CommonName: "node-1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	doc, content, cms := signedPDF(t, key, cert)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"content.bin": content, "sig.der": cms, "doc.pdf": doc} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-content", "content.bin", "-noverify", "-out", os.DevNull)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	content[10] ^= 1
	_ = os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o600)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("openssl verified a changed document:\n%s", out)
	}
	if _, err := exec.LookPath("pdfsig"); err == nil {
		out, _ := exec.Command("pdfsig", "-nocert", filepath.Join(dir, "doc.pdf")).CombinedOutput()
		if !bytes.Contains(out, []byte("Signature is Valid")) {
			t.Errorf("pdfsig:\n%s", out)
		}
	}
}

// With the node's Ed25519 key, the certificate names the organization
// and the node, and the CMS's signature over its signed attributes (with
// the SHA-512 of the byte range) verifies with the node's public key.
func TestSettlementCMSWithNodeKey(t *testing.T) {
	key, err := evidence.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert, err := key.Certificate("Milano Mediation Centre", "node-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.Organization[0] != "Milano Mediation Centre" || cert.Subject.CommonName != "node-1" || !cert.NotAfter.After(now.AddDate(29, 0, 0)) ||
		!bytes.Equal(cert.PublicKey.(ed25519.PublicKey), key.Public) || cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) != nil {
		t.Fatalf("certificate names %v until %v", cert.Subject, cert.NotAfter)
	}
	_, content, cms := signedPDF(t, key.Signer(), cert)
	var ci struct {
		OID     asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	var sd struct {
		Version     int
		DigestAlgs  asn1.RawValue
		Encap       asn1.RawValue
		Certs       asn1.RawValue `asn1:"optional,tag:0"`
		SignerInfos []struct {
			Version   int
			SID       asn1.RawValue
			DigestAlg asn1.RawValue
			Attrs     asn1.RawValue `asn1:"optional,tag:0"`
			SigAlg    asn1.RawValue
			Sig       []byte
		} `asn1:"set"`
	}
	if _, err := asn1.Unmarshal(cms, &ci); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	if len(sd.SignerInfos) != 1 || !bytes.Contains(sd.Certs.Bytes, cert.Raw) {
		t.Fatalf("signed data: %d signers, certificate included: %v", len(sd.SignerInfos), bytes.Contains(sd.Certs.Bytes, cert.Raw))
	}
	si := sd.SignerInfos[0]
	digest := sha512.Sum512(content)
	if !bytes.Contains(si.Attrs.Bytes, digest[:]) {
		t.Fatal("the signed attributes do not hold the SHA-512 of the byte range")
	}
	signed := append([]byte{0x31}, si.Attrs.FullBytes[1:]...) // signed as a SET
	if !ed25519.Verify(key.Public, signed, si.Sig) {
		t.Fatal("the signature does not verify with the node's key")
	}
}
