package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// withDocuments reseals the fixture with a notarized document and a
// settlement with a timestamp token.
func withDocuments(t *testing.T, f *fixture) {
	t.Helper()
	doc := []byte("%PDF-1.7 power of attorney")
	pdf := []byte("%PDF-1.7 settlement, signed")
	sum := sha256.Sum256(pdf)
	tsr, err := tsatest.New(t).Token(sum[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	f.objects["cases/c1/documents/d1.pdf"] = doc
	f.objects["cases/c1/settlements/st1.pdf"] = pdf
	f.objects["cases/c1/settlements/st1.pdf.tsr"] = tsr
	f.m.Documents = []Document{
		{ID: "st1", Kind: DocumentSettlement, Name: "settlement-st1.pdf", Key: "cases/c1/settlements/st1.pdf", ContentType: "application/pdf",
			Bytes: int64(len(pdf)), SHA256: sha256Hex(pdf), At: At(t0.Add(8 * time.Minute)), By: "p1", Timestamp: "cases/c1/settlements/st1.pdf.tsr"},
		{ID: "d1", Kind: DocumentNotarized, Name: "power-of-attorney.pdf", Key: "cases/c1/documents/d1.pdf", ContentType: "application/pdf",
			Bytes: int64(len(doc)), SHA256: sha256Hex(doc), At: At(t0.Add(3 * time.Minute)), By: "p1"},
	}
	if f.manifest, f.sig, err = Seal(f.m, f.key); err != nil {
		t.Fatal(err)
	}
}

func TestBundleDocuments(t *testing.T) {
	f := newFixture(t)
	withDocuments(t, f)
	if f.m.Documents[0].ID != "d1" {
		t.Fatalf("documents not sorted by time: %+v", f.m.Documents)
	}
	data := f.bundle(t)
	files := unzipBytes(t, data)
	if !bytes.Equal(files[DocumentsDir+"power-of-attorney.pdf"], f.objects["cases/c1/documents/d1.pdf"]) ||
		!bytes.Equal(files[DocumentsDir+"settlement-st1.pdf.tsr"], f.objects["cases/c1/settlements/st1.pdf.tsr"]) {
		t.Fatalf("bundle files: %v", keysOf(files))
	}
	size, err := BundleSize(context.Background(), f.source())
	if err != nil || size != int64(len(data)) {
		t.Fatalf("BundleSize = %d, %v; the bundle has %d bytes", size, err, len(data))
	}
	dir := t.TempDir()
	r, err := verifyPath(t, writeZip(t, dir, files), VerifyOptions{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(r.Documents) != 2 || r.Documents[0].Timestamp != nil || r.Documents[1].Timestamp == nil || r.Documents[1].Timestamp.Time.IsZero() {
		t.Fatalf("report documents %+v", r.Documents)
	}

	for _, tc := range []struct {
		name   string
		change func(map[string][]byte)
		kind   ProblemKind
	}{
		{"document altered", func(m map[string][]byte) {
			b := bytes.Clone(m[DocumentsDir+"power-of-attorney.pdf"])
			b[len(b)-1] ^= 1
			m[DocumentsDir+"power-of-attorney.pdf"] = b
		}, HashMismatch},
		{"document missing", func(m map[string][]byte) { delete(m, DocumentsDir+"settlement-st1.pdf") }, MissingFile},
		{"timestamp missing", func(m map[string][]byte) { delete(m, DocumentsDir+"settlement-st1.pdf.tsr") }, MissingFile},
		{"timestamp of another document", func(m map[string][]byte) {
			sum := sha256.Sum256([]byte("another document"))
			tok, err := tsatest.New(t).Token(sum[:], nil)
			if err != nil {
				t.Fatal(err)
			}
			m[DocumentsDir+"settlement-st1.pdf.tsr"] = tok
		}, BadTimestamp},
		{"document cut", func(m map[string][]byte) {
			m[DocumentsDir+"power-of-attorney.pdf"] = m[DocumentsDir+"power-of-attorney.pdf"][:3]
		}, SizeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := map[string][]byte{}
			for k, v := range files {
				changed[k] = v
			}
			tc.change(changed)
			_, err := verifyPath(t, writeZip(t, t.TempDir(), changed), VerifyOptions{})
			var p *Problem
			if !errors.As(err, &p) || p.Kind != tc.kind {
				t.Fatalf("verify = %v, want %s", err, tc.kind)
			}
		})
	}
}

func TestManifestRefusesBadDocuments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Document)
	}{
		{"path in name", func(d *Document) { d.Name = "../x.pdf" }},
		{"name like a token", func(d *Document) { d.Name = "x.tsr" }},
		{"no time", func(d *Document) { d.At = Time{} }},
		{"bad hash", func(d *Document) { d.SHA256 = "nope" }},
		{"no kind", func(d *Document) { d.Kind = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			withDocuments(t, f)
			tc.change(&f.m.Documents[0])
			if _, _, err := Seal(f.m, f.key); err == nil {
				t.Fatal("sealed a manifest with a bad document")
			}
		})
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
