package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kuayang/kuayang/internal/audit"
)

// The files of a bundle.
const (
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
	PublicKeyFile = "public-key.pem"
	AuditFile     = "audit.jsonl"
	ReadmeFile    = "README.txt"
	MediaDir      = "media/"     // media/<segment key>
	DocumentsDir  = "documents/" // documents/<document name>, and <name>.tsr for its timestamp
)

// AuditLine is one line of audit.jsonl: an audit.Entry with every field,
// the hashes in hex.
type AuditLine struct {
	Seq       int64  `json:"seq"`
	Time      Time   `json:"time"`
	ActorKind string `json:"actor_kind"`
	ActorID   string `json:"actor_id"`
	Action    string `json:"action"`
	OrgID     string `json:"org_id"`
	CaseID    string `json:"case_id"`
	SessionID string `json:"session_id"`
	IP        string `json:"ip"`
	Detail    string `json:"detail"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
}

// NewAuditLine converts an audit entry.
func NewAuditLine(e *audit.Entry) AuditLine {
	return AuditLine{Seq: e.Seq, Time: At(e.Time), ActorKind: e.ActorKind, ActorID: e.ActorID,
		Action: e.Action, OrgID: e.OrgID, CaseID: e.CaseID, SessionID: e.SessionID, IP: e.IP,
		Detail: e.Detail, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
}

// Entry converts the line back to an audit entry.
func (l AuditLine) Entry() (*audit.Entry, error) {
	prev, err := hex.DecodeString(l.PrevHash)
	if err != nil {
		return nil, fmt.Errorf("prev_hash: %w", err)
	}
	hash, err := hex.DecodeString(l.Hash)
	if err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	return &audit.Entry{Seq: l.Seq, Time: l.Time.Time, ActorKind: l.ActorKind, ActorID: l.ActorID,
		Action: l.Action, OrgID: l.OrgID, CaseID: l.CaseID, SessionID: l.SessionID, IP: l.IP,
		Detail: l.Detail, PrevHash: prev, Hash: hash}, nil
}

// EncodeAudit encodes an audit extract as audit.jsonl: one compact JSON
// object (AuditLine) per line, in the order given (which must be by Seq).
// It refuses text that is not UTF-8, which JSON cannot carry unchanged.
func EncodeAudit(entries []*audit.Entry) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, e := range entries {
		for _, s := range []string{e.ActorKind, e.ActorID, e.Action, e.OrgID, e.CaseID, e.SessionID, e.IP, e.Detail} {
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("evidence: audit entry %d: %q is not UTF-8", e.Seq, s)
			}
		}
		if err := enc.Encode(NewAuditLine(e)); err != nil {
			return nil, fmt.Errorf("evidence: audit entry %d: %w", e.Seq, err)
		}
	}
	return b.Bytes(), nil
}

// NewAuditRef describes the audit extract that will go into the bundle
// (entries by Seq, e.g. those of the case and session up to sealing) and
// the last entry of the whole log at sealing (nil if the log is empty).
func NewAuditRef(extract []*audit.Entry, last *audit.Entry) (AuditRef, error) {
	b, err := EncodeAudit(extract)
	if err != nil {
		return AuditRef{}, err
	}
	sum := sha256.Sum256(b)
	ref := AuditRef{Entries: len(extract), SHA256: hex.EncodeToString(sum[:])}
	if last != nil {
		ref.LastSeq, ref.LastHash = last.Seq, hex.EncodeToString(last.Hash)
	}
	return ref, nil
}

// BundleSource is what WriteBundle packs.
type BundleSource struct {
	Manifest     []byte         // manifest.json as signed
	Signature    []byte         // manifest.sig (EncodeSignature)
	PublicKeyPEM []byte         // the signing key (MarshalPublicPEM)
	Audit        []*audit.Entry // the extract the manifest's AuditRef describes
	// Timestamp is manifest.tsr, the timestamp token over the manifest;
	// nil when the recording has none.
	Timestamp []byte
	// Open opens a segment's media by object key.
	Open func(ctx context.Context, key string) (io.ReadCloser, error)
	// Progress, if set, is called as media is copied with the bytes done
	// and the total of the segments it holds.
	Progress func(done, total int64)
	// WithSealed puts in the media of the segments sealed to the mediator
	// (Segment.Room set): only for a bundle exported for the session's
	// mediator. Otherwise their media is left out, and Verify reports
	// them as withheld.
	WithSealed bool
}

// WriteBundle streams an evidence bundle to w as a zip file: README.txt,
// manifest.json, manifest.sig, public-key.pem, audit.jsonl, then each
// segment as media/<key>, stored as is (media is already compressed),
// one at a time, never whole in memory.
//
// It first checks everything but the media as Verify would, and checks
// each segment's size and SHA-256 as it copies it: it never writes a
// bundle that would not verify. On error, what was written to w is not a
// complete zip file and must be discarded (an HTTP handler should abort
// the response, e.g. with panic(http.ErrAbortHandler), so that the client
// sees a failed download rather than a short file).
func WriteBundle(ctx context.Context, w io.Writer, b BundleSource) error {
	return writeBundle(ctx, w, b, false)
}

// BundleSize is the exact size in bytes of the zip file WriteBundle writes
// for b, computed without reading any media: a dry run of WriteBundle
// into a counter, each segment replaced by zeros of its size. The media
// are stored, not compressed, so their content does not change the size;
// the other files are in b and compressed as WriteBundle compresses them.
// It fails where WriteBundle would fail before writing media; b.Open is
// used only for the documents' timestamp tokens, which are small.
func BundleSize(ctx context.Context, b BundleSource) (int64, error) {
	b.Progress = nil
	var n countWriter
	if err := writeBundle(ctx, &n, b, true); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// zeroMedia opens each segment of m as zeros of its size.
func zeroMedia(m *Manifest) func(context.Context, string) (io.ReadCloser, error) {
	sizes := make(map[string]int64, len(m.Segments))
	for _, s := range m.Segments {
		sizes[s.Key] = s.Bytes
	}
	return func(_ context.Context, key string) (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeros{}, sizes[key])), nil
	}
}

// writeBundle is WriteBundle, or with dryRun its stand-in: each segment's
// media is zeros of its size, whose SHA-256 is not checked.
func writeBundle(ctx context.Context, w io.Writer, b BundleSource, dryRun bool) error {
	m, _, p := checkSigned(b.Manifest, b.Signature, b.PublicKeyPEM, nil)
	if p != nil {
		return fmt.Errorf("evidence: not writing a bundle that would not verify: %w", p)
	}
	auditBytes, err := EncodeAudit(b.Audit)
	if err != nil {
		return err
	}
	if p := checkAudit(m, auditBytes); p != nil {
		return fmt.Errorf("evidence: not writing a bundle that would not verify: %w", p)
	}
	if b.Timestamp != nil {
		if _, p := checkTimestamp(b.Timestamp, b.Manifest, nil); p != nil {
			return fmt.Errorf("evidence: not writing a bundle that would not verify: %w", p)
		}
	}
	if b.Open == nil {
		return errors.New("evidence: BundleSource.Open is nil")
	}
	openSmall := b.Open // timestamp tokens: read even in a dry run
	if dryRun {
		b.Open = zeroMedia(m)
	}
	zw := zip.NewWriter(w)
	modified := m.SealedAt.Time
	small := []struct {
		name string
		data []byte
	}{
		{ReadmeFile, readme(m, b.Timestamp != nil)},
		{ManifestFile, b.Manifest},
		{SignatureFile, b.Signature},
		{PublicKeyFile, b.PublicKeyPEM},
		{AuditFile, auditBytes},
	}
	if b.Timestamp != nil {
		small = append(small, struct {
			name string
			data []byte
		}{TimestampFile, b.Timestamp})
	}
	for _, f := range small {
		fh := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: modified}
		fh.SetMode(0o644)
		fw, err := zw.CreateHeader(fh)
		if err != nil {
			return fmt.Errorf("evidence: write bundle: %w", err)
		}
		if _, err := fw.Write(f.data); err != nil {
			return fmt.Errorf("evidence: write bundle: %w", err)
		}
	}
	var held []Segment
	for _, s := range m.Segments {
		if s.Room == "" || b.WithSealed {
			held = append(held, s)
		}
	}
	pw := &progressWriter{total: totalBytes(held), report: b.Progress}
	for i, s := range m.Segments {
		if s.Room != "" && !b.WithSealed {
			continue // sealed to the mediator
		}
		if err := copySegment(ctx, zw, pw, modified, i, s, b.Open, !dryRun); err != nil {
			return err
		}
	}
	for _, d := range m.Documents {
		if err := copyDocument(ctx, zw, modified, d, b.Open, openSmall, dryRun); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("evidence: write bundle: %w", err)
	}
	return nil
}

func copySegment(ctx context.Context, zw *zip.Writer, pw *progressWriter, modified time.Time, i int, s Segment,
	open func(context.Context, string) (io.ReadCloser, error), checkHash bool) error {
	what := fmt.Sprintf("segment entry %d (participant %s, index %d, key %s)", i, s.ParticipantID, s.Index, s.Key)
	if err := ctx.Err(); err != nil {
		return err
	}
	rc, err := open(ctx, s.Key)
	if err != nil {
		return fmt.Errorf("evidence: %s: %w", what, err)
	}
	defer rc.Close()
	fh := &zip.FileHeader{Name: MediaDir + s.Key, Method: zip.Store, Modified: modified}
	fh.SetMode(0o644)
	fw, err := zw.CreateHeader(fh)
	if err != nil {
		return fmt.Errorf("evidence: write bundle: %w", err)
	}
	h := sha256.New()
	// One byte more than expected is enough to know it is too long.
	n, err := io.Copy(io.MultiWriter(fw, h, pw), &ctxReader{ctx, io.LimitReader(rc, s.Bytes+1)})
	if err != nil {
		return fmt.Errorf("evidence: %s: %w", what, err)
	}
	if n != s.Bytes {
		return fmt.Errorf("evidence: %s: the stored object has %s bytes, the manifest says %d", what, sizeString(n, s.Bytes), s.Bytes)
	}
	if got := hex.EncodeToString(h.Sum(nil)); checkHash && got != s.SHA256 {
		return fmt.Errorf("evidence: %s: the stored object's SHA-256 is %s, the manifest says %s", what, got, s.SHA256)
	}
	return nil
}

// copyDocument copies a document, and its timestamp token if it has one,
// into the bundle, checking the document's size and SHA-256. A dry run
// (BundleSize) must know the token's size: it reads the token, which is
// small, and only the document is zeros.
func copyDocument(ctx context.Context, zw *zip.Writer, modified time.Time, d Document,
	open, openSmall func(context.Context, string) (io.ReadCloser, error), dryRun bool) error {
	what := fmt.Sprintf("document %s (key %s)", d.Name, d.Key)
	if err := ctx.Err(); err != nil {
		return err
	}
	var rc io.ReadCloser
	if dryRun {
		rc = io.NopCloser(io.LimitReader(zeros{}, d.Bytes))
	} else {
		var err error
		if rc, err = open(ctx, d.Key); err != nil {
			return fmt.Errorf("evidence: %s: %w", what, err)
		}
	}
	defer rc.Close()
	fh := &zip.FileHeader{Name: DocumentsDir + d.Name, Method: zip.Store, Modified: modified}
	fh.SetMode(0o644)
	fw, err := zw.CreateHeader(fh)
	if err != nil {
		return fmt.Errorf("evidence: write bundle: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(fw, h), &ctxReader{ctx, io.LimitReader(rc, d.Bytes+1)})
	if err != nil {
		return fmt.Errorf("evidence: %s: %w", what, err)
	}
	if n != d.Bytes {
		return fmt.Errorf("evidence: %s: the stored object has %s bytes, the manifest says %d", what, sizeString(n, d.Bytes), d.Bytes)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !dryRun && got != d.SHA256 {
		return fmt.Errorf("evidence: %s: the stored object's SHA-256 is %s, the manifest says %s", what, got, d.SHA256)
	}
	if d.Timestamp == "" {
		return nil
	}
	trc, err := openSmall(ctx, d.Timestamp)
	if err != nil {
		return fmt.Errorf("evidence: timestamp of %s: %w", what, err)
	}
	defer trc.Close()
	tok, err := io.ReadAll(io.LimitReader(trc, maxTimestamp+1))
	if err != nil {
		return fmt.Errorf("evidence: timestamp of %s: %w", what, err)
	}
	if len(tok) > maxTimestamp {
		return fmt.Errorf("evidence: timestamp of %s is larger than %d bytes", what, maxTimestamp)
	}
	fh = &zip.FileHeader{Name: DocumentsDir + d.Name + ".tsr", Method: zip.Store, Modified: modified}
	fh.SetMode(0o644)
	if fw, err = zw.CreateHeader(fh); err == nil {
		_, err = fw.Write(tok)
	}
	if err != nil {
		return fmt.Errorf("evidence: write bundle: %w", err)
	}
	return nil
}

// sizeString is n, or "more than want" when the copy stopped early.
func sizeString(n, want int64) string {
	if n > want {
		return fmt.Sprintf("more than %d", want)
	}
	return fmt.Sprint(n)
}

func totalBytes(segs []Segment) int64 {
	var n int64
	for _, s := range segs {
		n += s.Bytes
	}
	return n
}

// progressWriter counts the media bytes written or read.
type progressWriter struct {
	done, total int64
	report      func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.report != nil {
		p.report(p.done, p.total)
	}
	return len(b), nil
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}

// readme is README.txt for the bundle of m, with a timestamp token or
// not.
func readme(m *Manifest, stamped bool) []byte {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	when := func(t Time) string {
		s := t.UTC().Format("2006-01-02 15:04:05 UTC")
		if loc, err := time.LoadLocation(m.Session.TimeZone); err == nil && m.Session.TimeZone != "" && loc != time.UTC {
			s += " (" + t.In(loc).Format("2006-01-02 15:04:05") + " " + m.Session.TimeZone + ")"
		}
		return s
	}
	byRole := func() []string {
		var out []string
		for _, pt := range m.Participants {
			out = append(out, fmt.Sprintf("%s: %s (%s)", pt.Role, pt.Name, pt.ID))
		}
		return out
	}

	p("KUAYANG EVIDENCE BUNDLE / 跨洋电子证据包")
	p("")
	p("Case / 案件:            %s  %s", m.Case.Number, m.Case.Title)
	p("Session / 会话:         %s  %s", m.Session.ID, m.Session.Title)
	p("Organization / 机构:    %s", m.Org.Name)
	p("Node / 节点:            %s", m.Node)
	p("Sealed at / 封存时间:   %s", when(m.SealedAt))
	p("Signing key / 签名密钥: %s", m.KeyID)
	p("Participants / 参与人:")
	for _, s := range byRole() {
		p("  %s", s)
	}
	p("")
	p("ENGLISH")
	p("=======")
	p("")
	p("This bundle is the recording of an online session held on the Kuayang")
	p("platform, sealed when the session ended. The node listed every recorded")
	p("media file with its size and SHA-256 fingerprint in manifest.json and")
	p("signed manifest.json with its Ed25519 key. If any byte of the manifest")
	p("or of a media file is changed, or a file is removed, added or swapped,")
	p("verification fails.")
	p("")
	p("Files:")
	p("  manifest.json   the signed list: case, session, participants and when")
	p("                  they were present, every media file with its size and")
	p("                  SHA-256, gaps in the recording, recording events")
	p("  manifest.sig    the Ed25519 signature of manifest.json (base64)")
	p("  public-key.pem  the public key of the signing node, id %s", m.KeyID)
	p("  audit.jsonl     the node's audit log entries about this case and")
	p("                  session, one per line, each with its hash; the")
	p("                  manifest holds the SHA-256 of this file")
	p("  media/...       the recordings: one WebM file per participant for")
	p("                  about every 30 seconds; a screen a participant shared")
	p("                  is recorded apart, under .../screen/ (\"stream\": \"screen\")")
	p("  README.txt      this explanation; it is not signed: if in doubt,")
	p("                  manifest.json is authoritative")
	if len(m.Documents) > 0 {
		p("  documents/...   the documents shown or signed in the session (a deed")
		p("                  under notarization, a settlement agreement), each with")
		p("                  its size and SHA-256 in the manifest's \"documents\";")
		p("                  NAME.tsr beside one is its RFC 3161 timestamp token")
	}
	if stamped {
		p("  manifest.tsr    a trusted timestamp (RFC 3161) of manifest.json: a")
		p("                  timestamp authority signed that manifest.json, exactly")
		p("                  as it is, existed at the time the token states")
	}
	if sealed := sealedCount(m); sealed > 0 {
		p("")
		p("  %d media files were recorded in a private room (\"room\" in the", sealed)
		p("  manifest) and are sealed to the session's mediator: a bundle exported")
		p("  for anyone else leaves them out, and kuayang verify reports them as")
		p("  withheld. Their entries and SHA-256 are in the signed manifest.")
	}
	p("")
	p("How to verify:")
	p("  kuayang verify bundle.zip")
	p("  (or, after unzipping: kuayang verify DIRECTORY)")
	p("  It prints INTACT and exits with 0, or prints NOT INTACT and the first")
	p("  problem found and exits with 1.")
	p("")
	p("  INTACT proves that nothing changed since the bundle was signed by the")
	p("  holder of key %s. To know that this key is the", m.KeyID)
	p("  organization's, compare it with the key the organization publishes")
	p("  (on its node: GET /api/v1/keys), or give that key to the check:")
	p("  kuayang verify --key PUBLISHED-KEY.pem bundle.zip")
	p("")
	p("How to check by hand:")
	p("  1. The signature (OpenSSL 3.0 or later):")
	p("       base64 -d manifest.sig > manifest.sig.bin")
	p("       openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin \\")
	p("               -in manifest.json -sigfile manifest.sig.bin")
	p("     It must print \"Signature Verified Successfully\".")
	p("  2. The key id: the first 16 hex digits of")
	p("       openssl pkey -pubin -in public-key.pem -outform DER | tail -c 32 | sha256sum")
	p("     must be those after \"ed25519:\" in %s.", m.KeyID)
	p("  3. Each media file: its SHA-256 must be the \"sha256\" of the segment")
	p("     whose \"key\" is its path after media/ in manifest.json, and its size")
	p("     the \"bytes\". Compute it with `sha256sum FILE` (Linux), `shasum -a")
	p("     256 FILE` (macOS) or `certutil -hashfile FILE SHA256` (Windows).")
	p("     With jq, all at once from the unzipped directory:")
	p("       jq -r '.segments[] | .sha256 + \"  media/\" + .key' manifest.json | sha256sum -c")
	p("     No other file may be under media/.")
	if stamped {
		p("  4. The timestamp: when manifest.tsr was made, and by whom:")
		p("       openssl ts -reply -in manifest.tsr -token_in -text")
		p("     It covers manifest.json if")
		p("       openssl ts -verify -data manifest.json -in manifest.tsr -token_in \\")
		p("               -CAfile TSA-ROOT.pem")
		p("     prints \"Verification: OK\", TSA-ROOT.pem being the root certificate")
		p("     the timestamp authority publishes (add -untrusted TSA-CHAIN.pem if")
		p("     its intermediate certificates are not in the token). kuayang verify")
		p("     checks it too, and with --tsa-ca TSA-ROOT.pem also the authority.")
	}
	if len(m.Documents) > 0 {
		n := 4
		if stamped {
			n = 5
		}
		p("  %d. Each file under documents/ (documents shown or signed in the", n)
		p("     session): its SHA-256 and size must be those of the document of the")
		p("     same \"name\" in manifest.json:")
		p("       jq -r '.documents[] | .sha256 + \"  documents/\" + .name' manifest.json | sha256sum -c")
		p("     A NAME.tsr beside a document is an RFC 3161 timestamp token over it;")
		p("     check it as the manifest's (openssl ts -verify) with")
		p("     -data documents/NAME -in documents/NAME.tsr.")
	}
	p("")
	p("中文")
	p("====")
	p("")
	p("本证据包是在跨洋（Kuayang）平台上进行的一次线上会话的录像，于会话结束时")
	p("封存。节点将录下的每个媒体文件的大小和 SHA-256 指纹列入 manifest.json（清")
	p("单），并用节点的 Ed25519 私钥对清单进行了数字签名。清单或任何媒体文件中只要")
	p("有一个字节被改动，或有文件被删除、增加、调换，验证就会失败。")
	p("")
	p("文件：")
	p("  manifest.json   被签名的清单：案件、会话、参与人及其在线时间、每个媒体文")
	p("                  件的大小和 SHA-256、录像中断（gaps）、录像事件")
	p("  manifest.sig    manifest.json 的 Ed25519 数字签名（base64 编码）")
	p("  public-key.pem  签名节点的公钥，密钥编号 %s", m.KeyID)
	p("  audit.jsonl     节点审计日志中与本案件、本会话有关的条目，每行一条，各带")
	p("                  哈希值；清单中记有本文件的 SHA-256")
	p("  media/...       录像：每位参与人约每 30 秒一个 WebM 文件；参与人共享的屏幕")
	p("                  单独录制，位于 .../screen/ 下（\"stream\": \"screen\"）")
	p("  README.txt      本说明；本说明未经签名，如有疑问，以 manifest.json 为准")
	if len(m.Documents) > 0 {
		p("  documents/...   会话中出示或签署的文件（公证文书、调解协议等），其大小和")
		p("                  SHA-256 列于清单的 \"documents\"；同名加 .tsr 的文件是其")
		p("                  RFC 3161 时间戳")
	}
	if stamped {
		p("  manifest.tsr    manifest.json 的可信时间戳（RFC 3161）：时间戳机构签名证明")
		p("                  manifest.json（原样）在令牌所载时间已经存在")
	}
	if sealed := sealedCount(m); sealed > 0 {
		p("")
		p("  其中 %d 个媒体文件录于单独会谈室（清单中的 \"room\"），仅限本会话的调解员", sealed)
		p("  查看：为其他人导出的证据包不含这些文件，kuayang verify 将其列为“已保留”")
		p("  （withheld）。清单中仍有其条目和 SHA-256，并经签名。")
	}
	p("")
	p("如何验证：")
	p("  kuayang verify bundle.zip")
	p("  （解压后也可以：kuayang verify 目录）")
	p("  证据包完好时显示 INTACT，退出码为 0；否则显示 NOT INTACT 及发现的第一个")
	p("  问题，退出码为 1。")
	p("")
	p("  INTACT 证明证据包自密钥 %s 的持有者签名以来未被改动。", m.KeyID)
	p("  要确认该密钥属于该机构，请将其与机构公布的公钥（节点上的")
	p("  GET /api/v1/keys）比对，或在验证时指定该公钥：")
	p("  kuayang verify --key 机构公布的公钥.pem bundle.zip")
	p("")
	p("手工核对：")
	p("  1. 签名（需要 OpenSSL 3.0 或更新版本）：")
	p("       base64 -d manifest.sig > manifest.sig.bin")
	p("       openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin \\")
	p("               -in manifest.json -sigfile manifest.sig.bin")
	p("     应显示 \"Signature Verified Successfully\"。")
	p("  2. 密钥编号：以下命令输出的前 16 位十六进制数字")
	p("       openssl pkey -pubin -in public-key.pem -outform DER | tail -c 32 | sha256sum")
	p("     应与 %s 中 \"ed25519:\" 之后的部分相同。", m.KeyID)
	p("  3. 每个媒体文件：其 SHA-256 应等于 manifest.json 中 \"key\" 为该文件 media/")
	p("     之后路径的那一段（segment）的 \"sha256\"，文件大小应等于 \"bytes\"。计算方")
	p("     法：`sha256sum 文件`（Linux）、`shasum -a 256 文件`（macOS）或")
	p("     `certutil -hashfile 文件 SHA256`（Windows）。在解压后的目录中用 jq 一次核")
	p("     对全部文件：")
	p("       jq -r '.segments[] | .sha256 + \"  media/\" + .key' manifest.json | sha256sum -c")
	p("     media/ 下不应有清单以外的文件。")
	if stamped {
		p("  4. 时间戳：查看 manifest.tsr 的时间和签发机构：")
		p("       openssl ts -reply -in manifest.tsr -token_in -text")
		p("     以下命令显示 \"Verification: OK\" 即表示时间戳覆盖 manifest.json：")
		p("       openssl ts -verify -data manifest.json -in manifest.tsr -token_in \\")
		p("               -CAfile 时间戳机构根证书.pem")
		p("     （若令牌中没有中间证书，加上 -untrusted 中间证书.pem）。kuayang verify")
		p("     也会检查时间戳；加上 --tsa-ca 时间戳机构根证书.pem 时还会核验签发机构。")
	}
	p("")
	p("SHA-256 OF THE MEDIA FILES, AS LISTED IN manifest.json / 清单所列媒体文件的 SHA-256")
	p("")
	for _, s := range m.Segments {
		p("%s  %s%s", s.SHA256, MediaDir, s.Key)
	}
	return []byte(b.String())
}

// sealedCount is how many of m's segments are sealed to the mediator.
func sealedCount(m *Manifest) int {
	n := 0
	for _, s := range m.Segments {
		if s.Room != "" {
			n++
		}
	}
	return n
}
