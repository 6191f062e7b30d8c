package node

import (
	"bytes"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cms"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/pdf"
)

// The node signs a settlement's PDF with its document-signing key, kept
// across restarts, and a certificate naming the organization and the
// node; the signature verifies in Go, with openssl over the PDF's byte
// range, and with poppler's pdfsig over the PDF itself.
func TestSettlementPDFSignature(t *testing.T) {
	path := filepath.Join(t.TempDir(), "document-signing-key.pem")
	key, err := evidence.LoadOrCreateDocumentKey(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := evidence.LoadOrCreateDocumentKey(path)
	if err != nil || !again.Equal(key) {
		t.Fatalf("the key read back differs (%v)", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v)", fi.Mode(), err)
	}

	now := time.Now()
	d := &pdf.Document{Title: "调解协议", Footer: "s1"}
	d.Paragraph("双方同意 / Le parti concordano.")
	doc, err := d.Sign(pdf.SignOptions{Name: "Milano Mediation Centre (node-1)", Time: now}, func(content []byte) ([]byte, error) {
		return signPDF(key, "Milano Mediation Centre", "node-1", content, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	content, sig, err := pdf.Signed(doc)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := cms.Verify(sig, content)
	if err != nil {
		t.Fatalf("cms.Verify: %v", err)
	}
	signer := signed.Signer
	if signer.Subject.Organization[0] != "Milano Mediation Centre" || signer.Subject.CommonName != "node-1" ||
		!signer.NotAfter.After(now.AddDate(29, 0, 0)) || signer.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		t.Fatalf("certificate names %v until %v", signer.Subject, signer.NotAfter)
	}
	changed := bytes.Clone(content)
	changed[10] ^= 1
	if _, err := cms.Verify(sig, changed); err == nil {
		t.Fatal("a changed byte range verified")
	}

	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is not installed")
		}
		t.Skip("SKIP openssl cross-check: openssl is not installed")
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"content.bin": content, "sig.der": sig, "doc.pdf": doc} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-content", "content.bin", "-noverify", "-out", os.DevNull)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	_ = os.WriteFile(filepath.Join(dir, "content.bin"), changed, 0o600)
	cmd = exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-content", "content.bin", "-noverify", "-out", os.DevNull)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("openssl verified a changed document:\n%s", out)
	}
	if _, err := exec.LookPath("pdfsig"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdfsig (poppler-utils) is not installed")
		}
		t.Skip("SKIP pdfsig check: poppler-utils is not installed")
	}
	out, _ := exec.Command("pdfsig", "-nocert", filepath.Join(dir, "doc.pdf")).CombinedOutput()
	if !bytes.Contains(out, []byte("Signature is Valid")) {
		t.Errorf("pdfsig:\n%s", out)
	}
}
