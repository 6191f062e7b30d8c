package notary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlite"
)

// stamper is a timestamp authority that signs nothing: it returns the
// digest it was given, so the test sees what was stamped.
type stamper struct{ fail bool }

func (s stamper) Stamp(_ context.Context, digest []byte) ([]byte, error) {
	if s.fail {
		return nil, errors.New("no answer")
	}
	return append([]byte("tsr:"), digest...), nil
}

type deskFixture struct {
	desk    *Desk
	sess    *cases.Session
	notary  *cases.Account
	partyID string
}

func newDesk(t *testing.T, kind cases.Kind) *deskFixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b, err := file.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	org := &cases.Org{ID: store.NewID(), Name: "Wencheng Notary Office", CreatedAt: now}
	acct := &cases.Account{ID: store.NewID(), OrgID: org.ID, Email: "wang@example.org", Name: "Wang", Role: cases.RoleNotary, PasswordHash: "x", CreatedAt: now}
	c := &cases.Case{ID: store.NewID(), OrgID: org.ID, Kind: kind, Number: "N-1", Title: "Power of attorney", Status: "open", CreatedAt: now}
	sess := &cases.Session{ID: store.NewID(), CaseID: c.ID, OrgID: org.ID, Title: "Notarization", ScheduledStart: now, TimeZone: "Asia/Shanghai",
		Record: true, State: "live", CreatedAt: now}
	party := &cases.Participant{ID: store.NewID(), SessionID: sess.ID, Role: cases.RoleParty, DisplayName: "Giulia Bianchi", CreatedAt: now}
	for _, err := range []error{st.CreateOrg(ctx, org), st.CreateAccount(ctx, acct), st.CreateCase(ctx, c), st.CreateSession(ctx, sess), st.CreateParticipant(ctx, party)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &deskFixture{desk: &Desk{Store: st, Blob: b, MaxDocument: 1 << 10}, sess: sess, notary: acct, partyID: party.ID}
}

func pdf(text string) []byte { return []byte("%PDF-1.7\n% " + text + "\n%%EOF\n") }

func TestSniff(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, tc := range []struct {
		name string
		head []byte
		want string
	}{
		{"pdf", pdf("x"), "application/pdf"},
		{"png", png, "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"html", []byte("<html><body>%PDF-</body></html>"), ""},
		{"text", []byte("I appoint Chen Wei"), ""},
		{"executable", []byte("MZ\x90\x00\x03\x00"), ""},
		{"empty", nil, ""},
	} {
		if got := Sniff(tc.head); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCleanNameAndGroupHex(t *testing.T) {
	for in, want := range map[string]string{"../../etc/passwd": "passwd", `C:\Users\x\procura.pdf`: "procura.pdf", "": "document", "a\x00b.pdf": "ab.pdf", "..": "document"} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := GroupHex([]byte{0xab, 0xcd, 0xef, 0x01, 0x23}); got != "abcd ef01 23" {
		t.Errorf("GroupHex = %q", got)
	}
}

// The limit and the content decide what is stored; the object is the
// bytes uploaded, under the case, and cannot be written again.
func TestUpload(t *testing.T) {
	f := newDesk(t, cases.KindNotarization)
	ctx := t.Context()
	if _, err := f.desk.Upload(ctx, f.sess, "p1", "big.pdf", bytes.NewReader(pdf(strings.Repeat("x", 2<<10)))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized upload: %v", err)
	}
	if _, err := f.desk.Upload(ctx, f.sess, "p1", "x.pdf", strings.NewReader("<script>alert(1)</script>")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("HTML upload: %v", err)
	}
	body := pdf("I appoint Chen Wei")
	d, err := f.desk.Upload(ctx, f.sess, "p1", "../procura.pdf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if !bytes.Equal(d.SHA256, sum[:]) || d.Name != "procura.pdf" || d.ContentType != "application/pdf" || !strings.HasPrefix(d.Key, "cases/"+f.sess.CaseID+"/") {
		t.Fatalf("document %+v", d)
	}
	rc, got, err := f.desk.Open(ctx, f.sess.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, body) || got.ID != d.ID {
		t.Fatalf("opened %q", b)
	}
	if _, _, err := f.desk.Open(ctx, "another-session", d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("opening through another session: %v", err)
	}
}

// A document swapped after it was shown is flagged in the records and in
// the manifest; the one shown, confirmed for signing, matches and is kept
// as an object of its own.
func TestSignCompareWithShown(t *testing.T) {
	f := newDesk(t, cases.KindNotarization)
	ctx := t.Context()
	up := func(text string) *cases.Document {
		d, err := f.desk.Upload(ctx, f.sess, "p1", "procura.pdf", bytes.NewReader(pdf(text)))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := up("sell the flat"), up("sell and mortgage the flat")
	if _, err := f.desk.Sign(ctx, f.sess, b.ID, "p1"); !errors.Is(err, ErrNoDocument) {
		t.Fatalf("signing before anything is shown: %v", err)
	}
	if _, err := f.desk.Show(ctx, f.sess, a.ID, "p1"); err != nil {
		t.Fatal(err)
	}
	swapped, err := f.desk.Sign(ctx, f.sess, b.ID, "p1")
	if err != nil || !swapped.Mismatch || swapped.Against != a.ID {
		t.Fatalf("swapped document: %+v, %v", swapped, err)
	}
	if _, err := f.desk.Show(ctx, f.sess, b.ID, "p1"); !errors.Is(err, ErrPresented) {
		t.Errorf("showing the version presented for signing: %v", err)
	}
	same, err := f.desk.Sign(ctx, f.sess, a.ID, "p1")
	if err != nil || same.Mismatch || same.ID == a.ID || same.Key == a.Key || !bytes.Equal(same.SHA256, a.SHA256) {
		t.Fatalf("confirmed document: %+v, %v", same, err)
	}
	docs, err := f.desk.ManifestDocuments(ctx, f.sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || docs[0].Kind != evidence.DocumentNotarized || docs[1].Kind != evidence.DocumentSigned || docs[2].Kind != evidence.DocumentSigned ||
		!strings.HasPrefix(docs[1].Detail, "mismatch") || !strings.HasPrefix(docs[2].Detail, "match") {
		t.Fatalf("manifest documents %+v", docs)
	}
	names := map[string]bool{}
	for _, d := range docs {
		names[d.Name] = true
	}
	if len(names) != 3 || !strings.HasSuffix(docs[0].Name, ".pdf") {
		t.Errorf("manifest names %v", names)
	}
}

// A journal entry names the parties and the documents from the records,
// is hashed over its canonical form, timestamped, and corrected by new
// entries only.
func TestWriteJournal(t *testing.T) {
	f := newDesk(t, cases.KindNotarization)
	ctx := t.Context()
	f.desk.Stamper = stamper{}
	in := JournalInput{Act: "power of attorney", IdentityMethod: "passport", Location: "Milan", Fee: "CNY 300"}
	e, err := f.desk.WriteJournal(ctx, f.sess, f.notary, in)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(e.Body)
	if !bytes.Equal(e.SHA256, sum[:]) || !bytes.Equal(e.Timestamp, append([]byte("tsr:"), sum[:]...)) {
		t.Fatalf("entry hash %x, timestamp %q", e.SHA256, e.Timestamp)
	}
	if !bytes.Contains(e.Body, []byte(`"parties":[{"id":"`+f.partyID+`","name":"Giulia Bianchi","role":"party"}]`)) {
		t.Errorf("body %s", e.Body)
	}
	if _, err := f.desk.WriteJournal(ctx, f.sess, f.notary, JournalInput{Act: "x", IdentityMethod: "y", Location: "z", Corrects: e.ID}); !errors.Is(err, ErrJournal) {
		t.Errorf("a correction without a reason: %v", err)
	}
	fix := JournalInput{Act: "power of attorney", IdentityMethod: "passport", Location: "Milan", Corrects: e.ID, Reason: "no fee"}
	if _, err := f.desk.WriteJournal(ctx, f.sess, f.notary, fix); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.WriteJournal(ctx, f.sess, f.notary, fix); !errors.Is(err, ErrCorrected) {
		t.Errorf("a second correction of the same entry: %v", err)
	}
	f.desk.Stamper = stamper{fail: true}
	if _, err := f.desk.WriteJournal(ctx, f.sess, f.notary, in); !errors.Is(err, ErrNoTimestamp) {
		t.Errorf("with the timestamp authority down: %v", err)
	}
	es, err := f.desk.Journal(ctx, f.sess.ID)
	if err != nil || len(es) != 2 {
		t.Fatalf("journal %v, %v", es, err)
	}

	m := newDesk(t, cases.KindMediation)
	if _, err := m.desk.WriteJournal(ctx, m.sess, m.notary, in); !errors.Is(err, ErrNotNotarization) {
		t.Errorf("a journal entry on a mediation: %v", err)
	}
}

func TestScriptOrder(t *testing.T) {
	var marks []Mark
	mark := func(step, note string) error {
		err := Check(marks, step, note)
		if err == nil {
			marks = append(marks, Mark{Step: step, Note: note})
		}
		return err
	}
	for _, tc := range []struct {
		step, note string
		want       error
	}{
		{StepAct, "", ErrOutOfOrder},
		{"oath", "", ErrUnknownStep},
		{StepIdentity, "", nil},
		{StepIdentity, "", ErrNoteRequired},
		{StepIdentity, "checked again", nil},
		{StepAct, "", nil},
		{StepFreeWill, "", ErrOutOfOrder},
		{StepDocument, "", nil},
		{StepFreeWill, "", nil},
		{StepLocation, "Milan", nil},
		{StepFreeWill, "repeated in Italian", nil},
		{StepSigning, "", nil},
		{StepClosing, "", nil},
	} {
		if err := mark(tc.step, tc.note); !errors.Is(err, tc.want) {
			t.Fatalf("mark %s %q: %v, want %v", tc.step, tc.note, err, tc.want)
		}
	}
	if Current(marks) != "" {
		t.Errorf("current after closing: %q", Current(marks))
	}
	es := []*audit.Entry{{Action: StepAction, ActorID: "p1", Detail: Detail(StepIdentity, "n")}, {Action: "chat.message", Detail: "{}"},
		{Action: StepAction, Detail: `{"step":"bogus"}`}}
	if got := MarksOf(es); len(got) != 1 || got[0].Step != StepIdentity || got[0].By != "p1" || got[0].Note != "n" {
		t.Errorf("MarksOf = %+v", got)
	}
}
