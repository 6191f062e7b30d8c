package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ProblemKind classifies what is wrong with a bundle.
type ProblemKind string

// The problem kinds.
const (
	MissingFile  ProblemKind = "missing_file"  // a required file or a segment's media is absent
	ExtraFile    ProblemKind = "extra_file"    // a file the manifest does not list
	BadBundle    ProblemKind = "bad_bundle"    // not a readable bundle: corrupt zip, duplicate or unsafe names, links
	BadSignature ProblemKind = "bad_signature" // manifest.json, manifest.sig and public-key.pem do not agree
	WrongKey     ProblemKind = "wrong_key"     // validly signed, but not by the key the caller requires
	BadManifest  ProblemKind = "bad_manifest"  // the manifest is signed but malformed or inconsistent
	ChainBroken  ProblemKind = "chain_broken"  // the segment chain does not recompute
	AuditBroken  ProblemKind = "audit_broken"  // audit.jsonl is altered or not the sealed extract
	SizeMismatch ProblemKind = "size_mismatch" // a media file's size differs from the manifest
	HashMismatch ProblemKind = "hash_mismatch" // a media file's SHA-256 differs from the manifest
	// BadTimestamp: manifest.tsr is not a well-signed timestamp token of
	// manifest.json (another document's, altered, or unreadable).
	BadTimestamp ProblemKind = "bad_timestamp"
	// UntrustedTimestamp: manifest.tsr is well signed, but not by an
	// authority the roots the caller gave vouch for.
	UntrustedTimestamp ProblemKind = "untrusted_timestamp"
)

// Problem is why a bundle is not intact. Detail is a sentence for a
// person, naming the file or entry concerned.
type Problem struct {
	Kind   ProblemKind
	Detail string
}

func (p *Problem) Error() string { return p.Detail }

// Source is a bundle to verify: a zip file (OpenZip) or the directory it
// was extracted to (OpenDir).
type Source interface {
	// Files lists the bundle's files, slash-separated paths relative to
	// its root, with their sizes.
	Files() map[string]int64
	// Open opens one of the listed files.
	Open(name string) (io.ReadCloser, error)
	Close() error
}

// OpenZip opens a bundle zip file. A file that is not a well-formed zip,
// or holds a name twice, an unsafe name or a link, gives a *Problem. A
// bundle whose files are all in one folder (unzipped and zipped again) is
// read from that folder.
func OpenZip(path string) (Source, error) {
	zr, err := zip.OpenReader(path)
	if errors.Is(err, zip.ErrInsecurePath) {
		if zr != nil {
			zr.Close()
		}
		return nil, &Problem{BadBundle, fmt.Sprintf("%s holds a file with an unsafe name (absolute or with ..)", path)}
	}
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) || errors.Is(err, zip.ErrChecksum) {
		return nil, &Problem{BadBundle, fmt.Sprintf("%s is not a readable zip file: %v", path, err)}
	}
	if err != nil {
		return nil, err
	}
	s := &zipSource{zr: zr, files: map[string]int64{}, entries: map[string]*zip.File{}}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") && f.Mode().IsDir() {
			continue
		}
		var p *Problem
		switch {
		case !fs.ValidPath(f.Name) || strings.Contains(f.Name, `\`):
			p = &Problem{BadBundle, fmt.Sprintf("the bundle holds a file with an unsafe name: %q", f.Name)}
		case !f.Mode().IsRegular():
			p = &Problem{BadBundle, fmt.Sprintf("%s in the bundle is not a regular file (%v)", f.Name, f.Mode().Type())}
		case s.entries[f.Name] != nil:
			p = &Problem{BadBundle, fmt.Sprintf("the bundle holds two files named %s", f.Name)}
		}
		if p != nil {
			zr.Close()
			return nil, p
		}
		s.entries[f.Name] = f
		s.files[f.Name] = int64(f.UncompressedSize64)
	}
	if prefix := commonDir(s.files); prefix != "" {
		entries := map[string]*zip.File{}
		s.files = map[string]int64{}
		for name, f := range s.entries {
			name = strings.TrimPrefix(name, prefix)
			entries[name] = f
			s.files[name] = int64(f.UncompressedSize64)
		}
		s.entries = entries
	}
	return s, nil
}

// commonDir is "D/" when there is no manifest.json but every file is
// under one directory D that has one: a bundle unzipped and zipped again
// with its folder. Otherwise it is "".
func commonDir(files map[string]int64) string {
	if _, ok := files[ManifestFile]; ok {
		return ""
	}
	prefix := ""
	for name := range files {
		dir, _, ok := strings.Cut(name, "/")
		if !ok || (prefix != "" && prefix != dir+"/") {
			return ""
		}
		prefix = dir + "/"
	}
	if _, ok := files[prefix+ManifestFile]; !ok {
		return ""
	}
	return prefix
}

type zipSource struct {
	zr      *zip.ReadCloser
	files   map[string]int64
	entries map[string]*zip.File
}

func (s *zipSource) Files() map[string]int64 { return s.files }
func (s *zipSource) Close() error            { return s.zr.Close() }

func (s *zipSource) Open(name string) (io.ReadCloser, error) {
	f := s.entries[name]
	if f == nil {
		return nil, fs.ErrNotExist
	}
	return f.Open()
}

// OpenDir opens an extracted bundle: the directory holding manifest.json,
// or holding only a folder that holds it. Files and directories whose names start with a dot (.DS_Store, …) are
// ignored; object keys never contain such names. A link or other
// non-regular file gives a *Problem.
func OpenDir(path string) (Source, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	s := &dirSource{root: root, files: map[string]int64{}}
	err = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return &Problem{BadBundle, fmt.Sprintf("%s in the bundle is not a regular file (%v)", name, d.Type())}
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		s.files[name] = fi.Size()
		return nil
	})
	if err != nil {
		root.Close()
		return nil, err
	}
	if prefix := commonDir(s.files); prefix != "" {
		s.prefix = prefix
		files := map[string]int64{}
		for name, size := range s.files {
			files[strings.TrimPrefix(name, prefix)] = size
		}
		s.files = files
	}
	return s, nil
}

type dirSource struct {
	root   *os.Root
	prefix string // see commonDir
	files  map[string]int64
}

func (s *dirSource) Files() map[string]int64 { return s.files }
func (s *dirSource) Close() error            { return s.root.Close() }

func (s *dirSource) Open(name string) (io.ReadCloser, error) {
	if _, ok := s.files[name]; !ok {
		return nil, fs.ErrNotExist
	}
	return s.root.Open(filepath.FromSlash(s.prefix + name))
}

// VerifyOptions adjust Verify.
type VerifyOptions struct {
	// PublicKey, if set, is the key the bundle must be signed with (e.g.
	// the one the organization publishes); otherwise any key will do and
	// the report says which.
	PublicKey ed25519.PublicKey
	// Progress, if set, is called as media is read with the bytes done
	// and the total of the manifest's segments.
	Progress func(done, total int64)
	// TSARoots, if set, are the certificates of the timestamp authorities
	// trusted: a bundle's timestamp (manifest.tsr) must chain to them.
	// Without them its signature and digest are checked, not who made it.
	TSARoots *x509.CertPool
}

// Report describes an intact bundle.
type Report struct {
	KeyID        string
	Fingerprint  string // of the public key, hex (Fingerprint)
	PublicKey    ed25519.PublicKey
	Node         string
	Software     string
	SealedAt     time.Time
	OrgName      string
	CaseNumber   string
	CaseTitle    string
	SessionID    string
	SessionTitle string
	Participants []ParticipantReport // by ID
	Segments     int
	Bytes        int64 // of all media
	Gaps         int
	AuditEntries int
	ChainHead    string
	Manifest     *Manifest
	// Withheld are the segments sealed to the mediator (Segment.Room set)
	// whose media the bundle leaves out, in manifest order: a bundle
	// exported for anyone but the session's mediator. Their entries,
	// hashes and chain are verified with the manifest; their files are
	// not there to hash.
	Withheld []Segment
	// Documents are the documents of the manifest, each verified, with
	// its verified timestamp when it has one.
	Documents []DocumentReport
	// Timestamp is the verified timestamp of manifest.json
	// (manifest.tsr), nil when the bundle has none.
	Timestamp *Timestamp
}

// DocumentReport is a verified document of a bundle.
type DocumentReport struct {
	Document
	Timestamp *Timestamp // nil when the document has none
}

// ParticipantReport sums up one participant's recording.
type ParticipantReport struct {
	ID, Role, Name string
	Segments       int
	Bytes          int64
	Duration       time.Duration // the sum of their camera segments' media time
	Gaps           int
	// ScreenSegments and Screen are their screen share's segments
	// (counted in Segments and Bytes too) and media time.
	ScreenSegments int
	Screen         time.Duration
}

// Size limits of the files read whole.
const (
	maxManifest  = 64 << 20
	maxSignature = 4 << 10
	maxPublicKey = 16 << 10
	maxAudit     = 256 << 20
)

// Verify checks a bundle and stops at the first problem, returned as a
// *Problem; other errors mean the check could not be done (e.g. a read
// error or ctx done). The checks, cheapest first:
//
//  1. manifest.json, manifest.sig, public-key.pem and audit.jsonl are
//     present;
//  2. public-key.pem is opts.PublicKey, if given (WrongKey);
//  3. the signature of manifest.json by public-key.pem is valid, and
//     manifest.tsr, when present, is a timestamp token over its SHA-256,
//     well signed (BadTimestamp), by an authority of opts.TSARoots if
//     given (UntrustedTimestamp);
//  4. manifest.json decodes strictly, is canonical, complete and
//     consistent, and names the key that signed it;
//  5. the segment chain recomputes to chain_head, and the segments are in
//     chain order;
//  6. every entry of audit.jsonl matches its own hash, entries come in
//     increasing order and follow each other where contiguous, and the
//     file is the extract the manifest describes (count and SHA-256);
//  7. every segment's media file is present, no other file is in the
//     bundle, and the sizes match; the file of a segment sealed to the
//     mediator (Segment.Room set) may be absent: it is withheld
//     (Report.Withheld), not missing;
//  8. every media file's SHA-256 matches the manifest (streamed), a
//     sealed segment's too when its file is present.
func Verify(ctx context.Context, src Source, opts VerifyOptions) (*Report, error) {
	files := src.Files()
	for _, name := range []string{ManifestFile, SignatureFile, PublicKeyFile, AuditFile} {
		if _, ok := files[name]; !ok {
			return nil, &Problem{MissingFile, fmt.Sprintf("the bundle has no %s", name)}
		}
	}
	read := func(name string, limit int64) ([]byte, error) {
		if files[name] > limit {
			return nil, &Problem{BadBundle, fmt.Sprintf("%s is too large (%d bytes)", name, files[name])}
		}
		return readFile(src, name, limit)
	}
	manifest, err := read(ManifestFile, maxManifest)
	if err != nil {
		return nil, err
	}
	sig, err := read(SignatureFile, maxSignature)
	if err != nil {
		return nil, err
	}
	pemBytes, err := read(PublicKeyFile, maxPublicKey)
	if err != nil {
		return nil, err
	}
	m, pub, p := checkSigned(manifest, sig, pemBytes, opts.PublicKey)
	if p != nil {
		return nil, p
	}
	var stamp *Timestamp
	if _, ok := files[TimestampFile]; ok {
		token, err := read(TimestampFile, maxTimestamp)
		if err != nil {
			return nil, err
		}
		if stamp, p = checkTimestamp(token, manifest, opts.TSARoots); p != nil {
			return nil, p
		}
	}
	auditBytes, err := read(AuditFile, maxAudit)
	if err != nil {
		return nil, err
	}
	if p := checkAudit(m, auditBytes); p != nil {
		return nil, p
	}
	withheld, p := checkFiles(m, files)
	if p != nil {
		return nil, p
	}
	var docStamps []*Timestamp
	for _, d := range m.Documents {
		if err := checkDocument(ctx, src, d); err != nil {
			return nil, err
		}
		if d.Timestamp == "" {
			docStamps = append(docStamps, nil)
			continue
		}
		name := DocumentsDir + d.Name
		token, err := read(name+".tsr", maxTimestamp)
		if err != nil {
			return nil, err
		}
		digest, _ := hex.DecodeString(d.SHA256) // checked with the manifest
		ts, p := checkTimestampOf(token, digest, opts.TSARoots, name+".tsr", name)
		if p != nil {
			return nil, p
		}
		docStamps = append(docStamps, ts)
	}
	var present []Segment
	for i, s := range m.Segments {
		if !withheld[i] {
			present = append(present, s)
		}
	}
	pw := &progressWriter{total: totalBytes(present), report: opts.Progress}
	for i, s := range m.Segments {
		if withheld[i] {
			continue
		}
		if err := checkMedia(ctx, src, pw, i, s); err != nil {
			return nil, err
		}
	}
	r := report(m, pub)
	r.Timestamp = stamp
	for i, d := range m.Documents {
		r.Documents = append(r.Documents, DocumentReport{Document: d, Timestamp: docStamps[i]})
	}
	for i, s := range m.Segments {
		if withheld[i] {
			r.Withheld = append(r.Withheld, s)
		}
	}
	return r, nil
}

// readFile reads a small file of the bundle whole.
func readFile(src Source, name string, limit int64) ([]byte, error) {
	rc, err := src.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if errors.Is(err, zip.ErrChecksum) {
		return nil, &Problem{BadBundle, fmt.Sprintf("%s is damaged in the zip file (its CRC does not match)", name)}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, &Problem{BadBundle, fmt.Sprintf("%s is too large", name)}
	}
	return b, nil
}

// checkSigned checks the signature, then decodes and checks the manifest.
func checkSigned(manifest, sig, pemBytes []byte, want ed25519.PublicKey) (*Manifest, ed25519.PublicKey, *Problem) {
	pub, err := ParsePublicPEM(pemBytes)
	if err != nil {
		return nil, nil, &Problem{BadSignature, fmt.Sprintf("public-key.pem does not hold an Ed25519 public key (%v)", err)}
	}
	if want != nil && !pub.Equal(want) {
		return nil, nil, &Problem{WrongKey, fmt.Sprintf("the bundle is signed with key %s (public-key.pem), not with the key you require, %s", KeyID(pub), KeyID(want))}
	}
	rawSig, err := DecodeSignature(sig)
	if err != nil {
		return nil, nil, &Problem{BadSignature, "manifest.sig does not hold a base64 Ed25519 signature"}
	}
	if VerifySignature(pub, manifest, rawSig) != nil {
		return nil, nil, &Problem{BadSignature, fmt.Sprintf("the signature in manifest.sig does not match manifest.json and public-key.pem (key %s): manifest.json was altered after it was signed, or it was signed with another key", KeyID(pub))}
	}
	m, err := DecodeManifest(manifest)
	if err != nil {
		return nil, nil, &Problem{BadManifest, fmt.Sprintf("manifest.json is signed but malformed: %v", err)}
	}
	if m.KeyID != KeyID(pub) {
		return nil, nil, &Problem{BadSignature, fmt.Sprintf("manifest.json names signing key %s, but it was signed with key %s (public-key.pem)", m.KeyID, KeyID(pub))}
	}
	if err := m.validate(); err != nil {
		return nil, nil, &Problem{BadManifest, fmt.Sprintf("manifest.json is signed but invalid: %v", err)}
	}
	if again, err := m.marshal(); err != nil || !bytes.Equal(again, manifest) {
		return nil, nil, &Problem{BadManifest, "manifest.json is signed but not in canonical form (it was not written by Manifest.Encode)"}
	}
	if err := CheckChain(m.Segments, m.ChainHead); err != nil {
		return nil, nil, err.(*Problem)
	}
	if p := checkOrder(m.Segments); p != nil {
		return nil, nil, p
	}
	// Participants, presence, gaps and events must be sorted too: encoding
	// a copy afresh gives the same bytes.
	if c, err := DecodeManifest(manifest); err != nil {
		return nil, nil, &Problem{BadManifest, err.Error()}
	} else if again, err := c.Encode(); err != nil || !bytes.Equal(again, manifest) {
		return nil, nil, &Problem{BadManifest, "manifest.json is signed but not in canonical form: its participants, presence, gaps or events are not in order"}
	}
	return m, pub, nil
}

// checkAudit checks audit.jsonl against itself and the manifest.
func checkAudit(m *Manifest, data []byte) *Problem {
	broken := func(format string, a ...any) *Problem {
		return &Problem{AuditBroken, fmt.Sprintf(format, a...)}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return broken("audit.jsonl does not end with a newline: it was cut short or altered")
	}
	var prev *AuditLine
	n := 0
	for line := range bytes.Lines(data) {
		n++
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var l AuditLine
		if err := dec.Decode(&l); err != nil {
			return broken("audit.jsonl line %d is not an audit entry: %v", n, err)
		}
		e, err := l.Entry()
		if err != nil {
			return broken("audit.jsonl line %d (audit entry %d): %v", n, l.Seq, err)
		}
		at := fmt.Sprintf("audit.jsonl line %d (audit entry %d, %s at %s)", n, l.Seq, l.Action, l.Time.Format(time.RFC3339))
		switch {
		case !bytes.Equal(e.Sum(), e.Hash):
			return broken("%s has been altered: its content does not match its hash", at)
		case l.Seq < 1:
			return broken("%s has no valid sequence number", at)
		case l.Seq == 1 && l.PrevHash != hex.EncodeToString(make([]byte, sha256.Size)):
			return broken("%s is the first entry of the log but does not start the chain", at)
		case prev != nil && l.Seq <= prev.Seq:
			return broken("%s comes after audit entry %d: entries are out of order or repeated", at, prev.Seq)
		case prev != nil && l.Seq == prev.Seq+1 && l.PrevHash != prev.Hash:
			return broken("%s does not follow audit entry %d: one of them was altered or replaced", at, prev.Seq)
		case l.Seq > m.Audit.LastSeq:
			return broken("%s is later than the last entry of the log at sealing (%d)", at, m.Audit.LastSeq)
		case l.Seq == m.Audit.LastSeq && l.Hash != m.Audit.LastHash:
			return broken("%s is not the last entry of the log at sealing: its hash differs from the manifest's", at)
		}
		prev = &l
	}
	if n != m.Audit.Entries {
		return broken("audit.jsonl holds %d entries, the manifest says %d: entries were removed or added", n, m.Audit.Entries)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != m.Audit.SHA256 {
		return broken("audit.jsonl is not the audit extract sealed in the manifest (its SHA-256 differs): an entry was altered, removed, added or replaced")
	}
	return nil
}

// checkFiles checks that the media files listed are there and that
// nothing else is, with the sizes of the listing. The media of a segment
// sealed to the mediator may be left out: withheld says which segment
// entries are.
func checkFiles(m *Manifest, files map[string]int64) (withheld map[int]bool, _ *Problem) {
	withheld = map[int]bool{}
	want := map[string]bool{ManifestFile: true, SignatureFile: true, PublicKeyFile: true, AuditFile: true, ReadmeFile: true, TimestampFile: true}
	for i, s := range m.Segments {
		name := MediaDir + s.Key
		if _, ok := files[name]; !ok {
			if s.Room != "" {
				withheld[i] = true
				continue
			}
			return nil, &Problem{MissingFile, fmt.Sprintf("%s (segment entry %d, participant %s, index %d) is missing", name, i, s.ParticipantID, s.Index)}
		}
		want[name] = true
	}
	for _, d := range m.Documents {
		name := DocumentsDir + d.Name
		if _, ok := files[name]; !ok {
			return nil, &Problem{MissingFile, fmt.Sprintf("%s (document %s, %s) is missing", name, d.ID, d.Kind)}
		}
		if size := files[name]; size != d.Bytes {
			return nil, &Problem{SizeMismatch, fmt.Sprintf("%s has %d bytes, the manifest says %d", name, size, d.Bytes)}
		}
		want[name] = true
		if d.Timestamp != "" {
			if _, ok := files[name+".tsr"]; !ok {
				return nil, &Problem{MissingFile, fmt.Sprintf("%s.tsr (the timestamp of document %s) is missing", name, d.ID)}
			}
			want[name+".tsr"] = true
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !want[name] {
			return nil, &Problem{ExtraFile, fmt.Sprintf("the bundle holds %s, which the manifest does not list", name)}
		}
	}
	for i, s := range m.Segments {
		if size := files[MediaDir+s.Key]; size != s.Bytes && !withheld[i] {
			return nil, &Problem{SizeMismatch, fmt.Sprintf("%s%s (segment entry %d, participant %s, index %d) has %d bytes, the manifest says %d", MediaDir, s.Key, i, s.ParticipantID, s.Index, size, s.Bytes)}
		}
	}
	return withheld, nil
}

// checkMedia reads one media file and compares it with the manifest.
func checkMedia(ctx context.Context, src Source, pw *progressWriter, i int, s Segment) error {
	name := MediaDir + s.Key
	what := fmt.Sprintf("%s (segment entry %d, participant %s, index %d)", name, i, s.ParticipantID, s.Index)
	if err := ctx.Err(); err != nil {
		return err
	}
	rc, err := src.Open(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(h, pw), &ctxReader{ctx, io.LimitReader(rc, s.Bytes+1)})
	// A zip checksum error comes with the last bytes: the hash says more.
	if err != nil && !errors.Is(err, zip.ErrChecksum) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if n != s.Bytes {
		return &Problem{SizeMismatch, fmt.Sprintf("%s has %s bytes, the manifest says %d", what, sizeString(n, s.Bytes), s.Bytes)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.SHA256 {
		return &Problem{HashMismatch, fmt.Sprintf("%s has been altered: its SHA-256 is %s, the manifest says %s", what, got, s.SHA256)}
	}
	if err != nil {
		return &Problem{BadBundle, fmt.Sprintf("%s is damaged in the zip file (its CRC does not match)", name)}
	}
	return nil
}

// checkDocument reads a document of the bundle and compares it with the
// manifest.
func checkDocument(ctx context.Context, src Source, d Document) error {
	name := DocumentsDir + d.Name
	if err := ctx.Err(); err != nil {
		return err
	}
	rc, err := src.Open(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, &ctxReader{ctx, io.LimitReader(rc, d.Bytes+1)})
	if err != nil && !errors.Is(err, zip.ErrChecksum) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if n != d.Bytes {
		return &Problem{SizeMismatch, fmt.Sprintf("%s has %s bytes, the manifest says %d", name, sizeString(n, d.Bytes), d.Bytes)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 {
		return &Problem{HashMismatch, fmt.Sprintf("%s (document %s, %s) has been altered: its SHA-256 is %s, the manifest says %s", name, d.ID, d.Kind, got, d.SHA256)}
	}
	if err != nil {
		return &Problem{BadBundle, fmt.Sprintf("%s is damaged in the zip file (its CRC does not match)", name)}
	}
	return nil
}

func report(m *Manifest, pub ed25519.PublicKey) *Report {
	r := &Report{KeyID: m.KeyID, Fingerprint: Fingerprint(pub), PublicKey: pub, Node: m.Node,
		Software: m.Software, SealedAt: m.SealedAt.Time, OrgName: m.Org.Name,
		CaseNumber: m.Case.Number, CaseTitle: m.Case.Title, SessionID: m.Session.ID,
		SessionTitle: m.Session.Title, Segments: len(m.Segments), Gaps: len(m.Gaps),
		AuditEntries: m.Audit.Entries, ChainHead: m.ChainHead, Manifest: m}
	idx := map[string]int{}
	for i, p := range m.Participants {
		idx[p.ID] = i
		r.Participants = append(r.Participants, ParticipantReport{ID: p.ID, Role: p.Role, Name: p.Name})
	}
	for _, s := range m.Segments {
		p := &r.Participants[idx[s.ParticipantID]]
		p.Segments++
		p.Bytes += s.Bytes
		d := time.Duration((s.MediaEnd - s.MediaStart) * float64(time.Second))
		if s.Stream == StreamScreen {
			p.ScreenSegments++
			p.Screen += d
		} else {
			p.Duration += d
		}
		r.Bytes += s.Bytes
	}
	for _, g := range m.Gaps {
		r.Participants[idx[g.ParticipantID]].Gaps++
	}
	return r
}
