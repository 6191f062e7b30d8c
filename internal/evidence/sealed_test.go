package evidence

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// withSealed marks p2's segments 1 and 2 as recorded in the private room
// private-1 and seals the fixture's manifest again.
func withSealed(t *testing.T, f *fixture) {
	t.Helper()
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Segments {
		if s := &m.Segments[i]; s.ParticipantID == "p2" && (s.Index == 1 || s.Index == 2) {
			s.Room = "private-1"
		}
	}
	f.m = m
	if f.manifest, f.sig, err = Seal(m, f.key); err != nil {
		t.Fatal(err)
	}
}

// sealedKeys are the object keys of the fixture's sealed segments.
func sealedKeys(f *fixture) []string {
	var out []string
	for _, s := range f.m.Segments {
		if s.Room != "" {
			out = append(out, s.Key)
		}
	}
	return out
}

func TestSealedSegmentsWithheld(t *testing.T) {
	f := newFixture(t)
	if strings.Contains(string(f.manifest), `"room"`) {
		t.Fatal("a manifest without private rooms names a room")
	}
	withSealed(t, f)
	if n := strings.Count(string(f.manifest), `"room": "private-1"`); n != 2 {
		t.Fatalf("%d entries with the room, want 2:\n%s", n, f.manifest)
	}
	sealed := sealedKeys(f)

	// Written for anyone but the mediator: the sealed media is left out,
	// the rest verifies, and the two are reported withheld.
	files := unzipBytes(t, f.bundle(t))
	for _, k := range sealed {
		if _, ok := files[MediaDir+k]; ok {
			t.Fatalf("%s is in a bundle not for the mediator", k)
		}
	}
	if !strings.Contains(string(files[ReadmeFile]), "sealed to the session's mediator") {
		t.Errorf("the README does not explain the files left out")
	}
	for _, form := range []string{"zip", "dir"} {
		path := writeZip(t, t.TempDir(), files)
		if form == "dir" {
			path = writeDir(t, t.TempDir(), files)
		}
		r, err := verifyPath(t, path, VerifyOptions{})
		checkResult(t, r, err, "", "")
		if len(r.Withheld) != 2 || r.Withheld[0].Room != "private-1" || r.Withheld[1].Room != "private-1" {
			t.Fatalf("%s: withheld %+v", form, r.Withheld)
		}
	}

	// Written for the mediator: everything is there, nothing withheld.
	src := f.source()
	src.WithSealed = true
	var b bytes.Buffer
	if err := WriteBundle(context.Background(), &b, src); err != nil {
		t.Fatal(err)
	}
	if n, err := BundleSize(context.Background(), src); err != nil || n != int64(b.Len()) {
		t.Fatalf("BundleSize %d (%v), wrote %d", n, err, b.Len())
	}
	full := unzipBytes(t, b.Bytes())
	r, err := verifyPath(t, writeZip(t, t.TempDir(), full), VerifyOptions{})
	checkResult(t, r, err, "", "")
	if len(r.Withheld) != 0 {
		t.Fatalf("withheld from the mediator's bundle: %+v", r.Withheld)
	}

	// A sealed segment whose file is there must still match.
	altered := cloneFiles(full)
	altered[MediaDir+sealed[0]] = append([]byte{}, altered[MediaDir+sealed[0]]...)
	altered[MediaDir+sealed[0]][10] ^= 1
	r, err = verifyPath(t, writeZip(t, t.TempDir(), altered), VerifyOptions{})
	checkResult(t, r, err, HashMismatch, sealed[0])

	// An ordinary segment left out is missing, sealed ones beside it or
	// not.
	for _, base := range []map[string][]byte{files, full} {
		cut := cloneFiles(base)
		delete(cut, MediaDir+"sessions/s1/p1/000002.webm")
		r, err = verifyPath(t, writeZip(t, t.TempDir(), cut), VerifyOptions{})
		checkResult(t, r, err, MissingFile, "sessions/s1/p1/000002.webm")
	}

	// The room is signed and chained: taking it off a segment (so that
	// its missing file would read as withheld, or the other way round)
	// breaks the signature, or the chain under a fresh signature.
	m, _ := DecodeManifest(f.manifest)
	for i := range m.Segments {
		if m.Segments[i].Room != "" {
			m.Segments[i].Room = ""
			break
		}
	}
	mb, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	relabelled := cloneFiles(files)
	relabelled[ManifestFile] = mb
	r, err = verifyPath(t, writeZip(t, t.TempDir(), relabelled), VerifyOptions{})
	checkResult(t, r, err, BadSignature, "")
	relabelled[SignatureFile] = EncodeSignature(f.key.Sign(mb))
	r, err = verifyPath(t, writeZip(t, t.TempDir(), relabelled), VerifyOptions{})
	checkResult(t, r, err, ChainBroken, "")
}

func TestEncodeRejectsBadRoom(t *testing.T) {
	f := newFixture(t)
	withSealed(t, f)
	for _, room := range []string{"-private", "private 1", "private/1", strings.Repeat("r", 65), "房间"} {
		m, err := DecodeManifest(f.manifest)
		if err != nil {
			t.Fatal(err)
		}
		m.Segments[0].Room = room
		_, err = m.Encode()
		if err == nil || !strings.Contains(err.Error(), "invalid manifest") || !strings.Contains(err.Error(), "room") {
			t.Errorf("room %q: encoded (%v)", room, err)
		}
	}
	// A well-formed room encodes.
	m, _ := DecodeManifest(f.manifest)
	m.Segments[0].Room = "private-12"
	if _, err := m.Encode(); err != nil {
		t.Errorf("room private-12: %v", err)
	}
}
