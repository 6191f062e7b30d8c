package settlement

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store/sqlite"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"crlf and trailing space", "a  \r\nb\t\r\n", "a\nb"},
		{"blank lines around", "\n\n  \nA\n\n", "A"},
		{"nfc", "perche\u0301", "perché"},
		{"inner blank lines kept", "a\n\n\nb", "a\n\n\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Canonical(tc.in)
			if got != tc.want {
				t.Fatalf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if Canonical(got) != got {
				t.Fatalf("Canonical is not idempotent on %q", got)
			}
		})
	}
}

func TestNameMatches(t *testing.T) {
	for _, tc := range []struct {
		typed, name string
		want        bool
	}{
		{"Marco Rossi", "Marco Rossi", true},
		{"ROSSI marco", "Marco Rossi", true},
		{"Marco  Rossi.", "Marco Rossi", true},
		{"Nicolo Bianchi", "Nicolò Bianchi", true},
		{"张 三", "张三", true},
		{"Ｚｈａｎｇ Ｓａｎ", "Zhang San", true},
		{"Marco", "Marco Rossi", false},
		{"Luca Rossi", "Marco Rossi", false},
		{"...", "...", false},
	} {
		if got := NameMatches(tc.typed, tc.name); got != tc.want {
			t.Errorf("NameMatches(%q, %q) = %v, want %v", tc.typed, tc.name, got, tc.want)
		}
	}
}

func TestFillTemplates(t *testing.T) {
	f := Fields{CaseNumber: "(2026)浙0328民调123号", CaseTitle: "Seta", Parties: []string{"Chen Wei", "Marco Rossi"},
		Mediator: "Zhou Min", Date: "2026-11-27", Place: "s1", Terms: "1. Pay."}
	for _, lang := range Languages {
		text, err := Fill("general", lang, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{f.CaseNumber, "Chen Wei", "Marco Rossi", "Zhou Min", "2026-11-27", "s1", "1. Pay."} {
			if !strings.Contains(text, want) {
				t.Errorf("%s template lacks %q", lang, want)
			}
		}
		if strings.Contains(text, "{") {
			t.Errorf("%s template has an unfilled field:\n%s", lang, text)
		}
	}
	var se *Error
	if _, err := Fill("general", "fr", f); !errors.As(err, &se) || se.Code != CodeUnknownTemplate {
		t.Errorf("Fill in French: %v", err)
	}
}

// The PDF of a finalized settlement holds the text, each signer's typed
// name, times in UTC and in the session's zone and the spoken
// confirmation, the text's SHA-256, and the session in the footer; it is
// stored under the case and listed for the manifest.
func TestFinalizedPDF(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	obj, err := file.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateOrg(ctx, &cases.Org{ID: "o1", Name: "Milano Mediation Centre", CreatedAt: now}))
	must(db.CreateCase(ctx, &cases.Case{ID: "c1", OrgID: "o1", Kind: cases.KindMediation, Number: "(2026)浙0328民调123号", Title: "Seta", Status: "open", CreatedAt: now}))
	must(db.CreateSession(ctx, &cases.Session{ID: "s1", CaseID: "c1", OrgID: "o1", Title: "Joint", ScheduledStart: now, TimeZone: "Europe/Rome", State: "live", CreatedAt: now}))
	people := []*cases.Participant{{ID: "p1", Role: cases.RoleMediator, DisplayName: "Zhou Min"},
		{ID: "p2", Role: cases.RoleParty, DisplayName: "陈伟"}, {ID: "p3", Role: cases.RoleParty, DisplayName: "Marco Rossi"}}
	for i, p := range people {
		p.SessionID, p.CreatedAt, p.Language, p.TimeZone = "s1", now.Add(time.Duration(i)*time.Second), "zh-CN", "Asia/Shanghai"
		must(db.CreateParticipant(ctx, p))
	}
	clock := now
	svc := &Service{Records: db, Blob: obj, Now: func() time.Time { clock = clock.Add(time.Minute); return clock },
		SignPDF: func(org string, _ []byte) ([]byte, error) {
			if org != "Milano Mediation Centre" {
				t.Errorf("signed for %q", org)
			}
			return []byte{0x30, 0x00}, nil
		}, Stamper: stamper{}}
	med, chen, rossi := Actor{"p1", "Zhou Min", cases.RoleMediator}, Actor{"p2", "陈伟", cases.RoleParty}, Actor{"p3", "Marco Rossi", cases.RoleParty}
	text, err := svc.Template(ctx, "s1", med, "general", "zh", "一、陈伟于2026年12月31日前支付五万元。")
	must(err)
	saved, err := svc.Save(ctx, "s1", med, text, "general", "zh")
	must(err)
	_, err = svc.Share(ctx, "s1", med, saved.Version)
	must(err)
	d := Drawing{W: 300, H: 100, Strokes: [][]int{{10, 10, 100, 90, 200, 20}}}
	_, err = svc.Sign(ctx, "s1", chen, saved.SHA256, "陈 伟", d)
	must(err)
	_, err = svc.Sign(ctx, "s1", rossi, saved.SHA256, "Marco Rossi", d)
	must(err)
	for _, p := range []string{"p2", "p3"} {
		_, err = svc.Confirm(ctx, "s1", med, p, ConfirmSpoken)
		must(err)
	}
	_, err = svc.Sign(ctx, "s1", med, saved.SHA256, "Zhou Min", d)
	must(err)
	fin, err := svc.Finalize(ctx, "s1", med, saved.SHA256)
	must(err)
	if !strings.HasPrefix(fin.Key, "cases/c1/settlements/") {
		t.Errorf("stored at %s", fin.Key)
	}
	rc, _, err := obj.Get(ctx, fin.Key)
	must(err)
	body, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Contains(body, []byte("/SubFilter /ETSI.CAdES.detached")) {
		t.Error("the PDF is not signed")
	}
	docs, err := svc.Documents(ctx, "s1")
	must(err)
	if len(docs) != 1 || docs[0].Bytes != int64(len(body)) || docs[0].SHA256 != fin.SHA256 || docs[0].By != "p1" || !strings.Contains(docs[0].Detail, saved.SHA256) {
		t.Fatalf("documents %+v", docs)
	}
	if docs[0].Timestamp != fin.Key+".tsr" {
		t.Errorf("timestamp key %q", docs[0].Timestamp)
	} else if rc, _, err := obj.Get(ctx, docs[0].Timestamp); err != nil {
		t.Errorf("the timestamp token is not stored: %v", err)
	} else {
		tok, _ := io.ReadAll(rc)
		rc.Close()
		if string(tok) != "token over "+fin.SHA256 {
			t.Errorf("the stored token %q is not over the PDF's SHA-256", tok)
		}
	}
	if _, err := svc.Finalize(ctx, "s1", med, saved.SHA256); err == nil {
		t.Error("finalized twice")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is not installed")
		}
		t.Skip("pdftotext (poppler-utils) is not installed: the PDF's text is not checked")
	}
	path := filepath.Join(dir, "s.pdf")
	must(os.WriteFile(path, body, 0o600))
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	must(err)
	// The first signature: 14:36 UTC is 15:36 in Rome.
	for _, want := range []string{"人民调解协议书", "(2026)浙0328民调123号", "五万元", "陈 伟", "Marco Rossi", "Zhou Min",
		"UTC", "Europe/Rome", "2026-11-27 14:", "2026-11-27 15:", "口头确认时间", saved.SHA256[:32], "会话 / Session s1"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, out)
		}
	}
}

// stamper is a stand-in timestamp authority: its token names the digest.
type stamper struct{}

func (stamper) Stamp(_ context.Context, digest []byte) ([]byte, error) {
	return []byte("token over " + hex.EncodeToString(digest)), nil
}
