package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// resign replaces manifest.json with b signed by k, and public-key.pem
// with k's key.
func resign(files map[string][]byte, b []byte, k *Key) {
	files[ManifestFile] = b
	files[SignatureFile] = EncodeSignature(k.Sign(b))
	files[PublicKeyFile] = k.PublicPEM()
}

func newKey(t *testing.T) *Key {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// swapped is the fixture's manifest with segment entries 1 and 2 swapped,
// chain values untouched, key id set to keyID.
func swapped(t *testing.T, f *fixture, keyID string) []byte {
	m, err := DecodeManifest(f.manifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Segments[1], m.Segments[2] = m.Segments[2], m.Segments[1]
	m.KeyID = keyID
	b, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	good := unzipBytes(t, f.bundle(t))
	seg := f.m.Segments // in chain order
	media := func(i int) string { return MediaDir + seg[i].Key }
	// Two segments of the same size (see newFixture), and two of different sizes.
	same1, same2, diff := -1, -1, -1
	for i, s := range seg {
		switch {
		case s.Bytes == 4321 && same1 < 0:
			same1 = i
		case s.Bytes == 4321:
			same2 = i
		case diff < 0:
			diff = i
		}
	}

	tests := []struct {
		name     string
		tamper   func(t *testing.T, files map[string][]byte)
		opts     VerifyOptions
		kind     ProblemKind // "" for intact
		contains string
	}{
		{"intact", nil, VerifyOptions{}, "", ""},
		{"intact with the right key", nil, VerifyOptions{PublicKey: f.key.Public}, "", ""},
		{"intact with an altered README", func(t *testing.T, files map[string][]byte) {
			files[ReadmeFile] = []byte("nothing to see")
		}, VerifyOptions{}, "", ""},
		{"intact without README", func(t *testing.T, files map[string][]byte) {
			delete(files, ReadmeFile)
		}, VerifyOptions{}, "", ""},
		{"wrong key required", nil, VerifyOptions{PublicKey: newKey(t).Public}, WrongKey, f.key.ID},
		{"media byte flipped", func(t *testing.T, files map[string][]byte) {
			files[media(5)][100] ^= 1
		}, VerifyOptions{}, HashMismatch, media(5)},
		{"last media byte flipped", func(t *testing.T, files map[string][]byte) {
			b := files[media(11)]
			b[len(b)-1] ^= 0x80
		}, VerifyOptions{}, HashMismatch, media(11)},
		{"media deleted", func(t *testing.T, files map[string][]byte) {
			delete(files, media(3))
		}, VerifyOptions{}, MissingFile, media(3) + " (segment entry 3, participant " + seg[3].ParticipantID},
		{"media added", func(t *testing.T, files map[string][]byte) {
			files["media/sessions/s1/p1/000099.webm"] = []byte("more")
		}, VerifyOptions{}, ExtraFile, "media/sessions/s1/p1/000099.webm"},
		{"other file added", func(t *testing.T, files map[string][]byte) {
			files["notes.txt"] = []byte("hello")
		}, VerifyOptions{}, ExtraFile, "notes.txt"},
		{"media of the same size swapped", func(t *testing.T, files map[string][]byte) {
			files[media(same1)], files[media(same2)] = files[media(same2)], files[media(same1)]
		}, VerifyOptions{}, HashMismatch, media(same1)},
		{"media of different sizes swapped", func(t *testing.T, files map[string][]byte) {
			files[media(same1)], files[media(diff)] = files[media(diff)], files[media(same1)]
		}, VerifyOptions{}, SizeMismatch, media(min(same1, diff))},
		{"media truncated", func(t *testing.T, files map[string][]byte) {
			files[media(7)] = files[media(7)][:10]
		}, VerifyOptions{}, SizeMismatch, media(7)},
		{"manifest.sig missing", func(t *testing.T, files map[string][]byte) {
			delete(files, SignatureFile)
		}, VerifyOptions{}, MissingFile, SignatureFile},
		{"audit.jsonl missing", func(t *testing.T, files map[string][]byte) {
			delete(files, AuditFile)
		}, VerifyOptions{}, MissingFile, AuditFile},
		{"manifest.sig garbage", func(t *testing.T, files map[string][]byte) {
			files[SignatureFile] = []byte("not a signature\n")
		}, VerifyOptions{}, BadSignature, SignatureFile},
		{"public-key.pem garbage", func(t *testing.T, files map[string][]byte) {
			files[PublicKeyFile] = []byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")
		}, VerifyOptions{}, BadSignature, PublicKeyFile},
		{"segment entries swapped, old signature", func(t *testing.T, files map[string][]byte) {
			files[ManifestFile] = swapped(t, f, f.key.ID)
		}, VerifyOptions{}, BadSignature, "altered after it was signed"},
		{"segment entries swapped, signed by another key, bundled key kept", func(t *testing.T, files map[string][]byte) {
			b := swapped(t, f, f.key.ID)
			files[ManifestFile] = b
			files[SignatureFile] = EncodeSignature(newKey(t).Sign(b))
		}, VerifyOptions{}, BadSignature, f.key.ID},
		{"segment entries swapped, signed by another key bundled, key id kept", func(t *testing.T, files map[string][]byte) {
			resign(files, swapped(t, f, f.key.ID), newKey(t))
		}, VerifyOptions{}, BadSignature, "names signing key " + f.key.ID},
		{"segment entries swapped, everything re-signed", func(t *testing.T, files map[string][]byte) {
			k := newKey(t)
			resign(files, swapped(t, f, k.ID), k)
		}, VerifyOptions{}, ChainBroken, "entry 1 (participant " + seg[2].ParticipantID},
		{"segment entries swapped and chained again, everything re-signed", func(t *testing.T, files map[string][]byte) {
			k := newKey(t)
			m, _ := DecodeManifest(f.manifest)
			m.Segments[1], m.Segments[2] = m.Segments[2], m.Segments[1]
			m.KeyID = k.ID
			m.ChainHead, _ = Chain(m.Segments)
			b, _ := m.marshal()
			resign(files, b, k)
		}, VerifyOptions{}, BadManifest, "entry 2 (" + seg[1].Key + ") is out of order"},
		{"segment entry removed, everything re-signed", func(t *testing.T, files map[string][]byte) {
			k := newKey(t)
			m, _ := DecodeManifest(f.manifest)
			m.Segments = append(m.Segments[:4], m.Segments[5:]...)
			m.KeyID = k.ID
			b, _ := m.marshal()
			resign(files, b, k)
		}, VerifyOptions{}, ChainBroken, "entry 4"},
		{"last segment entry removed, everything re-signed", func(t *testing.T, files map[string][]byte) {
			k := newKey(t)
			m, _ := DecodeManifest(f.manifest)
			m.Segments = m.Segments[:len(m.Segments)-1]
			m.KeyID = k.ID
			b, _ := m.marshal()
			resign(files, b, k)
		}, VerifyOptions{}, ChainBroken, "chain_head"},
		{"manifest re-encoded by another program, signed by the same key", func(t *testing.T, files map[string][]byte) {
			b := bytes.Replace(f.manifest, []byte(`"format": `), []byte(`"format":`), 1)
			resign(files, b, f.key)
		}, VerifyOptions{}, BadManifest, "canonical"},
		{"manifest with an unknown field, signed by the same key", func(t *testing.T, files map[string][]byte) {
			b := bytes.Replace(f.manifest, []byte(`"format": `), []byte(`"extra": 1, "format": `), 1)
			resign(files, b, f.key)
		}, VerifyOptions{}, BadManifest, "extra"},
		{"participants out of order, signed by the same key", func(t *testing.T, files map[string][]byte) {
			m, _ := DecodeManifest(f.manifest)
			m.Participants[0], m.Participants[1] = m.Participants[1], m.Participants[0]
			b, _ := m.marshal()
			resign(files, b, f.key)
		}, VerifyOptions{}, BadManifest, "participants, presence, gaps or events are not in order"},
		{"key replaced, everything re-signed", func(t *testing.T, files map[string][]byte) {
			k := newKey(t)
			m, _ := DecodeManifest(f.manifest)
			m.Node = "impostor"
			b, _, err := Seal(m, k)
			if err != nil {
				t.Fatal(err)
			}
			resign(files, b, k)
		}, VerifyOptions{}, "", ""},
		{"key replaced, everything re-signed, the right key required", func(t *testing.T, files map[string][]byte) {
			k := newKey(t)
			m, _ := DecodeManifest(f.manifest)
			b, _, _ := Seal(m, k)
			resign(files, b, k)
		}, VerifyOptions{PublicKey: f.key.Public}, WrongKey, "not with the key you require, " + f.key.ID},
		{"audit line altered", func(t *testing.T, files map[string][]byte) {
			files[AuditFile] = bytes.Replace(files[AuditFile], []byte(`"ip":"198.51.100.1","detail":"{\"n\":\"<&>\"}","prev_hash":"`+hex.EncodeToString(f.extract[2].PrevHash)),
				[]byte(`"ip":"10.0.0.1","detail":"{\"n\":\"<&>\"}","prev_hash":"`+hex.EncodeToString(f.extract[2].PrevHash)), 1)
		}, VerifyOptions{}, AuditBroken, "line 3 (audit entry 4, session.join at 2026-11-27T08:02:00Z) has been altered"},
		{"audit line altered and rehashed", func(t *testing.T, files map[string][]byte) {
			ext := cloneEntries(f.extract)
			ext[len(ext)-1].IP = "10.0.0.1" // the last: no later entry follows it
			ext[len(ext)-1].Hash = ext[len(ext)-1].Sum()
			files[AuditFile], _ = EncodeAudit(ext)
		}, VerifyOptions{}, AuditBroken, "not the last entry of the log at sealing"},
		{"audit line altered and rehashed, no follower", func(t *testing.T, files map[string][]byte) {
			ext := cloneEntries(f.extract) // entries 1 3 4 6 7 9 10 12
			ext[2].IP = "10.0.0.1"         // entry 4: entry 5 is not in the extract
			ext[2].Hash = ext[2].Sum()
			files[AuditFile], _ = EncodeAudit(ext)
		}, VerifyOptions{}, AuditBroken, "SHA-256 differs"},
		{"audit line altered and rehashed, with a follower", func(t *testing.T, files map[string][]byte) {
			ext := cloneEntries(f.extract)
			ext[1].IP = "10.0.0.1" // entry 3: entry 4 follows
			ext[1].Hash = ext[1].Sum()
			files[AuditFile], _ = EncodeAudit(ext)
		}, VerifyOptions{}, AuditBroken, "line 3 (audit entry 4, session.join at 2026-11-27T08:02:00Z) does not follow audit entry 3"},
		{"audit line removed", func(t *testing.T, files map[string][]byte) {
			files[AuditFile], _ = EncodeAudit(append(cloneEntries(f.extract[:2]), f.extract[3:]...))
		}, VerifyOptions{}, AuditBroken, "holds 7 entries, the manifest says 8"},
		{"audit lines swapped", func(t *testing.T, files map[string][]byte) {
			ext := cloneEntries(f.extract)
			ext[2], ext[3] = ext[3], ext[2]
			files[AuditFile], _ = EncodeAudit(ext)
		}, VerifyOptions{}, AuditBroken, "out of order"},
		{"audit truncated", func(t *testing.T, files map[string][]byte) {
			files[AuditFile] = files[AuditFile][:len(files[AuditFile])-5]
		}, VerifyOptions{}, AuditBroken, "newline"},
	}
	// Any single byte of manifest.json changed breaks the signature.
	for _, at := range []int{0, 1, len(f.manifest) / 3, len(f.manifest) / 2, len(f.manifest) - 2, len(f.manifest) - 1} {
		tests = append(tests, struct {
			name     string
			tamper   func(t *testing.T, files map[string][]byte)
			opts     VerifyOptions
			kind     ProblemKind
			contains string
		}{fmt.Sprintf("manifest byte %d changed", at), func(t *testing.T, files map[string][]byte) {
			files[ManifestFile][at] ^= 0x20
		}, VerifyOptions{}, BadSignature, "manifest.json was altered"})
	}

	// Unzipped and zipped again with its folder.
	tests = append(tests, struct {
		name     string
		tamper   func(t *testing.T, files map[string][]byte)
		opts     VerifyOptions
		kind     ProblemKind
		contains string
	}{"in a folder", func(t *testing.T, files map[string][]byte) {
		inFolder(files)
	}, VerifyOptions{}, "", ""}, struct {
		name     string
		tamper   func(t *testing.T, files map[string][]byte)
		opts     VerifyOptions
		kind     ProblemKind
		contains string
	}{"in a folder, media altered", func(t *testing.T, files map[string][]byte) {
		files[media(0)][0] ^= 1
		inFolder(files)
	}, VerifyOptions{}, HashMismatch, media(0)})

	for _, tt := range tests {
		for _, form := range []string{"zip", "dir"} {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				files := map[string][]byte{}
				for name, b := range good {
					files[name] = bytes.Clone(b)
				}
				if tt.tamper != nil {
					tt.tamper(t, files)
				}
				var path string
				if form == "zip" {
					path = writeZip(t, t.TempDir(), files)
				} else {
					path = writeDir(t, t.TempDir(), files)
				}
				rep, err := verifyPath(t, path, tt.opts)
				checkResult(t, rep, err, tt.kind, tt.contains)
				if tt.kind == "" && tt.tamper == nil {
					checkReport(t, f, rep)
				}
			})
		}
	}
}

// inFolder moves every file into a folder.
func inFolder(files map[string][]byte) {
	moved := map[string][]byte{}
	for name, b := range files {
		moved["bundle-s1/"+name] = b
		delete(files, name)
	}
	for name, b := range moved {
		files[name] = b
	}
}

func cloneEntries[T any](es []*T) []*T {
	out := make([]*T, len(es))
	for i, e := range es {
		c := *e
		out[i] = &c
	}
	return out
}

func checkResult(t *testing.T, rep *Report, err error, kind ProblemKind, contains string) {
	t.Helper()
	if kind == "" {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if rep == nil {
			t.Fatal("no report")
		}
		return
	}
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("Verify = %v, want a problem %s", err, kind)
	}
	if p.Kind != kind || !strings.Contains(p.Detail, contains) {
		t.Fatalf("Verify = %s: %s\nwant %s containing %q", p.Kind, p.Detail, kind, contains)
	}
	if rep != nil {
		t.Fatal("a report with a problem")
	}
}

func checkReport(t *testing.T, f *fixture, r *Report) {
	t.Helper()
	if r.KeyID != f.key.ID || !strings.HasPrefix(r.KeyID, "ed25519:") || r.Fingerprint[:16] != r.KeyID[8:] ||
		!r.PublicKey.Equal(f.key.Public) || r.Node != "node-1" || r.Software != "kuayang test" ||
		!r.SealedAt.Equal(t0.Add(10*time.Minute)) || r.CaseNumber != "(2026)浙温证字第12号" ||
		r.SessionID != "s1" || r.OrgName != "Wencheng Notary Office" || r.Segments != 12 || r.Gaps != 1 ||
		r.AuditEntries != 8 || r.ChainHead != f.m.ChainHead || r.Manifest == nil {
		t.Fatalf("report %+v", r)
	}
	var total int64
	for _, b := range f.objects {
		total += int64(len(b))
	}
	if r.Bytes != total {
		t.Fatalf("bytes %d, want %d", r.Bytes, total)
	}
	if len(r.Participants) != 3 {
		t.Fatalf("participants %+v", r.Participants)
	}
	for i, p := range r.Participants {
		want := 4*29980*time.Millisecond + 0
		if p.ID != []string{"p1", "p2", "p3"}[i] || p.Segments != 4 || p.Duration.Round(time.Millisecond) != want || p.Bytes == 0 {
			t.Fatalf("participant %+v", p)
		}
		if (p.ID == "p2") != (p.Gaps == 1) {
			t.Fatalf("participant gaps %+v", p)
		}
	}
}

func TestVerifyZipSpecific(t *testing.T) {
	f := newFixture(t)
	raw := f.bundle(t)
	dir := t.TempDir()
	write := func(b []byte) string {
		path := filepath.Join(dir, "b.zip")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("byte flipped inside the zip file", func(t *testing.T) {
		s := f.m.Segments[6]
		obj := f.objects[s.Key]
		at := bytes.Index(raw, obj)
		if at < 0 {
			t.Fatal("media not stored as is")
		}
		b := bytes.Clone(raw)
		b[at+len(obj)/2] ^= 1
		_, err := verifyPath(t, write(b), VerifyOptions{})
		checkResult(t, nil, err, HashMismatch, MediaDir+s.Key+" (segment entry 6")
	})
	t.Run("not a zip file", func(t *testing.T) {
		_, err := verifyPath(t, write([]byte("hello")), VerifyOptions{})
		checkResult(t, nil, err, BadBundle, "not a readable zip")
	})
	t.Run("truncated zip file", func(t *testing.T) {
		_, err := verifyPath(t, write(raw[:len(raw)/2]), VerifyOptions{})
		checkResult(t, nil, err, BadBundle, "not a readable zip")
	})
	t.Run("duplicate name", func(t *testing.T) {
		files := unzipBytes(t, raw)
		path := writeZip(t, t.TempDir(), files)
		b, _ := os.ReadFile(path)
		// Rename one media file to the name of another of the same length.
		a, c := MediaDir+f.m.Segments[0].Key, MediaDir+f.m.Segments[1].Key
		b = bytes.ReplaceAll(b, []byte(a), []byte(c))
		_, err := verifyPath(t, write(b), VerifyOptions{})
		checkResult(t, nil, err, BadBundle, "two files named "+c)
	})
	t.Run("progress", func(t *testing.T) {
		var last, total, calls int64
		_, err := verifyPath(t, write(raw), VerifyOptions{Progress: func(d, tot int64) {
			if d < last {
				t.Errorf("progress went back: %d < %d", d, last)
			}
			last, total = d, tot
			calls++
		}})
		if err != nil || calls == 0 || last != total || total != f.m.Segments[0].Bytes*0+totalBytes(f.m.Segments) {
			t.Fatalf("%v: %d calls, %d of %d", err, calls, last, total)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		src, err := OpenZip(write(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		_, err = Verify(ctx, src, VerifyOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Verify = %v", err)
		}
	})
}

func TestVerifyDirSpecific(t *testing.T) {
	f := newFixture(t)
	files := unzipBytes(t, f.bundle(t))
	t.Run("hidden files ignored", func(t *testing.T) {
		files := cloneFiles(files)
		files[".DS_Store"] = []byte("x")
		files["media/.DS_Store"] = []byte("x")
		files[".git/config"] = []byte("x")
		if _, err := verifyPath(t, writeDir(t, t.TempDir(), files), VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("symbolic link", func(t *testing.T) {
		dir := writeDir(t, t.TempDir(), files)
		key := f.m.Segments[2].Key
		path := filepath.Join(dir, "media", filepath.FromSlash(key))
		elsewhere := filepath.Join(t.TempDir(), "x.webm")
		os.WriteFile(elsewhere, f.objects[key], 0o644)
		os.Remove(path)
		if err := os.Symlink(elsewhere, path); err != nil {
			t.Skip(err)
		}
		_, err := verifyPath(t, dir, VerifyOptions{})
		checkResult(t, nil, err, BadBundle, "media/"+key+" in the bundle is not a regular file")
	})
	t.Run("no such directory", func(t *testing.T) {
		if _, err := OpenDir(filepath.Join(t.TempDir(), "nope")); err == nil || errors.As(err, new(*Problem)) {
			t.Fatalf("OpenDir = %v", err)
		}
	})
}

func cloneFiles(m map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestVerifyNoSegments(t *testing.T) {
	k := newKey(t)
	m := &Manifest{Software: "kuayang test", Node: "n", SealedAt: At(t0), Session: Session{ID: "s"}}
	var err error
	if m.Audit, err = NewAuditRef(nil, nil); err != nil {
		t.Fatal(err)
	}
	b, sig, err := Seal(m, k)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = WriteBundle(context.Background(), &buf, BundleSource{Manifest: b, Signature: sig, PublicKeyPEM: k.PublicPEM(),
		Open: func(context.Context, string) (io.ReadCloser, error) { panic("no media") }})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verifyPath(t, writeZip(t, t.TempDir(), unzipBytes(t, buf.Bytes())), VerifyOptions{PublicKey: k.Public})
	if err != nil || rep.Segments != 0 || rep.Bytes != 0 || rep.AuditEntries != 0 {
		t.Fatalf("%v %+v", err, rep)
	}
}
