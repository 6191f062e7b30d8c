package signaling

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/settlement"
	"github.com/kuayang/kuayang/internal/store/sqlite"
)

// settlementFixture: the fixture's session s1 as a mediation case in a
// real SQLite store and file object store behind a settlement.Service
// (its PDFs signed by a stand-in CMS). The mediator p1 (Zhou), the parties
// p2 (Chen) and p3 (Lin), the interpreter p4.
type settlementFixture struct {
	*fixture
	svc *settlement.Service
	db  *sqlite.DB
	obj *file.Store
}

func newSettlementFixture(t *testing.T) *settlementFixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	obj, err := file.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateOrg(ctx, &cases.Org{ID: "o1", Name: "Milano Mediation Centre", CreatedAt: now}))
	must(db.CreateCase(ctx, &cases.Case{ID: "c1", OrgID: "o1", Kind: cases.KindMediation, Number: "(2026)浙0328民调123号",
		Title: "Fornitura di seta", Status: "open", CreatedAt: now}))
	must(db.CreateSession(ctx, &cases.Session{ID: "s1", CaseID: "c1", OrgID: "o1", Title: "Joint session", ScheduledStart: now,
		TimeZone: "Europe/Rome", Record: true, State: "scheduled", CreatedAt: now}))
	parts := []*cases.Participant{
		{ID: "p1", Role: cases.RoleMediator, DisplayName: "Zhou"},
		{ID: "p2", Role: cases.RoleParty, DisplayName: "Chen"},
		{ID: "p3", Role: cases.RoleParty, DisplayName: "Lin"},
		{ID: "p4", Role: cases.RoleInterpreter, DisplayName: "Wu"},
	}
	f := newFixture(t, Config{})
	for i, p := range parts {
		p.SessionID, p.CreatedAt, p.Language, p.TimeZone = "s1", now.Add(time.Duration(i)*time.Second), "zh-CN", "Asia/Shanghai"
		must(db.CreateParticipant(ctx, p))
		f.records.parts[p.ID] = p
	}
	svc := &settlement.Service{Records: db, Blob: obj, Signer: "node-1",
		SignPDF: func(string, []byte) ([]byte, error) { return []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil }}
	f.srv.cfg.Settlements = svc
	return &settlementFixture{fixture: f, svc: svc, db: db, obj: obj}
}

// expectError reads until an error arrives and checks its code.
func expectError(t *testing.T, ws *websocket.Conn, code string) {
	t.Helper()
	if m := expect(t, ws, "error"); m["code"] != code {
		t.Fatalf("error %v, want code %s", m, code)
	}
}

// expectSettlement reads the next settlement message.
func expectSettlement(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	return expect(t, ws, "settlement")["settlement"].(map[string]any)
}

// awaitSettlement reads settlement messages until one satisfies cond (the
// earlier ones are stale: each change goes to everyone, the sender too).
func awaitSettlement(t *testing.T, ws *websocket.Conn, what string, cond func(v map[string]any) bool) map[string]any {
	t.Helper()
	for range 20 {
		if v := expectSettlement(t, ws); cond(v) {
			return v
		}
	}
	t.Fatalf("no settlement message where %s", what)
	return nil
}

func signer(t *testing.T, view map[string]any, pid string) map[string]any {
	t.Helper()
	for _, g := range view["signers"].([]any) {
		if g := g.(map[string]any); g["participant_id"] == pid {
			return g
		}
	}
	t.Fatalf("%s is not a signer in %v", pid, view)
	return nil
}

var stroke = settlement.Drawing{W: 300, H: 100, Strokes: [][]int{{10, 50, 60, 20, 120, 80, 200, 30}, {250, 60}}}

func sign(ws *websocket.Conn, sha, name string) {
	_ = ws.WriteJSON(map[string]any{"type": "settlement_sign", "sha256": sha, "typed_name": name, "drawing": stroke})
}

// The whole agreement: the mediator fills a template, saves, shares; the
// parties sign what they saw; an edit makes a new version and clears the
// signatures; an outdated hash, a non-signer, a party sharing, the
// mediator signing or finalizing too early are refused with their codes;
// the mediator marks the spoken confirmations, accepts a typed name that
// differs, signs last and finalizes: the signed PDF is stored with the
// case, listed for the manifest, and shown to whoever joins.
func TestSettlementDraftShareSignFinalize(t *testing.T) {
	f := newSettlementFixture(t)
	med := f.join(t, "p1")
	chen := f.join(t, "p2")
	lin := f.join(t, "p3")
	wu := f.join(t, "p4")

	_ = chen.WriteJSON(map[string]any{"type": "settlement_share", "version": 1})
	expectError(t, chen, CodeNotHost)
	_ = med.WriteJSON(map[string]any{"type": "settlement_template", "template": "general", "language": "zh", "terms": "一、陈某于2026年12月31日前支付林某人民币五万元。"})
	tm := expect(t, med, "settlement_template")
	text := tm["text"].(string)
	for _, want := range []string{"人民调解协议书", "(2026)浙0328民调123号", "Chen；Lin", "Zhou", "s1", "五万元"} {
		if !strings.Contains(text, want) {
			t.Errorf("the filled template lacks %q:\n%s", want, text)
		}
	}
	_ = med.WriteJSON(map[string]any{"type": "settlement_template", "template": "general", "language": "fr"})
	expectError(t, med, settlement.CodeUnknownTemplate)

	_ = med.WriteJSON(map[string]any{"type": "settlement_draft", "text": text + "  \r\n", "template": "general", "language": "zh"})
	saved := expect(t, med, "settlement_saved")
	sha1 := saved["sha256"].(string)
	if saved["version"] != 1.0 || saved["shared"] != false || sha1 != settlement.Hash(text) {
		t.Fatalf("saved %v, want version 1 of the canonical text", saved)
	}
	_ = med.WriteJSON(map[string]any{"type": "settlement_share", "version": 1})
	for _, ws := range []*websocket.Conn{med, chen, lin, wu} {
		v := expectSettlement(t, ws)
		if v["version"] != 1.0 || v["sha256"] != sha1 || v["text"] != text || v["ready"] != false {
			t.Fatalf("shared %v", v)
		}
	}
	if !f.audited("settlement.shared p1") {
		t.Error("sharing is not audited")
	}

	sign(chen, sha1, "chen")
	if g := signer(t, expectSettlement(t, lin), "p2"); g["signed"] != true || g["name_matches"] != true {
		t.Fatalf("Chen's signature: %v", g)
	}
	expectSettlement(t, chen)
	sign(wu, sha1, "Wu")
	expectError(t, wu, settlement.CodeNotSigner)
	sign(lin, strings.Repeat("0", 64), "Lin")
	expectError(t, lin, settlement.CodeSettlementChanged)
	sign(med, sha1, "Zhou")
	expectError(t, med, settlement.CodeNotReady)

	// An edit after sharing: version 2, shared at once, Chen's signature
	// left behind.
	text2 := text + "\n二、本协议一式三份。"
	_ = med.WriteJSON(map[string]any{"type": "settlement_draft", "text": text2})
	v := expectSettlement(t, chen)
	sha2 := v["sha256"].(string)
	if v["version"] != 2.0 || v["cleared"] != 1.0 || sha2 == sha1 || signer(t, v, "p2")["signed"] != false {
		t.Fatalf("after the edit: %v", v)
	}
	sign(chen, sha1, "Chen")
	expectError(t, chen, settlement.CodeSettlementChanged)

	sign(chen, sha2, "CHEN")
	sign(lin, sha2, "Lin Wei") // not the name on record
	v = awaitSettlement(t, med, "Lin signed version 2", func(v map[string]any) bool {
		return v["version"] == 2.0 && signer(t, v, "p3")["signed"] == true
	})
	if g := signer(t, v, "p3"); g["name_matches"] != false {
		t.Fatalf("Lin's signature: %v", g)
	}
	_ = med.WriteJSON(map[string]any{"type": "settlement_finalize", "sha256": sha2})
	expectError(t, med, settlement.CodeNotReady)
	_ = chen.WriteJSON(map[string]any{"type": "settlement_confirm", "id": "p2", "what": "spoken"})
	expectError(t, chen, CodeNotHost)
	for _, c := range []struct{ id, what string }{{"p2", "spoken"}, {"p3", "spoken"}} {
		_ = med.WriteJSON(map[string]any{"type": "settlement_confirm", "id": c.id, "what": c.what})
		v := awaitSettlement(t, med, c.id+" confirmed", func(v map[string]any) bool { return signer(t, v, c.id)["confirmed"] == true })
		if signer(t, v, c.id)["confirmed_at"] == nil {
			t.Fatalf("after confirming %s: %v", c.id, v)
		}
	}
	sign(med, sha2, "Zhou")
	expectError(t, med, settlement.CodeNotReady) // Lin's name is not accepted yet
	_ = med.WriteJSON(map[string]any{"type": "settlement_confirm", "id": "p3", "what": "name"})
	sign(med, sha2, "Zhou")
	awaitSettlement(t, med, "ready", func(v map[string]any) bool { return v["ready"] == true })
	_ = med.WriteJSON(map[string]any{"type": "settlement_finalize", "sha256": sha2})
	fin := awaitSettlement(t, lin, "final", func(v map[string]any) bool { return v["final"] != nil })["final"].(map[string]any)
	for _, a := range []string{"settlement.signed p2", "settlement.confirmed p1", "settlement.name_confirmed p1", "settlement.finalized p1"} {
		if !f.audited(a) {
			t.Errorf("%q is not audited", a)
		}
	}

	docs, err := f.svc.Documents(context.Background(), "s1")
	if err != nil || len(docs) != 1 {
		t.Fatalf("Documents = %v, %v", docs, err)
	}
	d := docs[0]
	rc, info, err := f.obj.Get(context.Background(), d.Key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != d.SHA256 || d.SHA256 != fin["sha256"] || int64(len(body)) != d.Bytes || info.Size != d.Bytes ||
		d.Kind != "settlement" || !strings.HasPrefix(d.Key, "cases/c1/settlements/") || !strings.HasPrefix(string(body), "%PDF-") {
		t.Fatalf("document %+v does not describe the stored PDF (%d bytes)", d, len(body))
	}
	if !strings.Contains(string(body), "/SubFilter /ETSI.CAdES.detached") || !strings.Contains(string(body), "<3003020101") {
		t.Error("the stored PDF does not carry the signature")
	}

	// Finalized: no more changes; a newcomer sees it.
	sign(chen, sha2, "Chen")
	expectError(t, chen, settlement.CodeFinal)
	wu.Close()
	_, joined := f.joinMsg(t, "p4")
	if s, _ := joined["settlement"].(map[string]any); s == nil || s["final"] == nil || s["version"] != 2.0 {
		t.Fatalf("joined carries settlement %v, want the final one", joined["settlement"])
	}
}

// A drawing with too many points, or points outside its box, is refused
// with a stable code and nothing is recorded.
func TestSettlementSignatureLimits(t *testing.T) {
	f := newSettlementFixture(t)
	med := f.join(t, "p1")
	chen := f.join(t, "p2")
	_ = med.WriteJSON(map[string]any{"type": "settlement_draft", "text": "Agreement.", "language": "en"})
	expect(t, med, "settlement_saved")
	_ = med.WriteJSON(map[string]any{"type": "settlement_share", "version": 1})
	sha := expectSettlement(t, chen)["sha256"].(string)

	big := make([]int, 0, 2*(settlement.MaxPoints+1))
	for i := range settlement.MaxPoints + 1 {
		big = append(big, i%300, i%100)
	}
	for _, tc := range []struct {
		name string
		d    settlement.Drawing
		code string
	}{
		{"too many points", settlement.Drawing{W: 300, H: 100, Strokes: [][]int{big}}, settlement.CodeSignatureTooLarge},
		{"too many strokes", settlement.Drawing{W: 300, H: 100, Strokes: make([][]int, settlement.MaxStrokes+1)}, settlement.CodeSignatureTooLarge},
		{"outside the box", settlement.Drawing{W: 300, H: 100, Strokes: [][]int{{10, 10, 400, 10}}}, settlement.CodeBadSignature},
		{"odd coordinates", settlement.Drawing{W: 300, H: 100, Strokes: [][]int{{10, 10, 20}}}, settlement.CodeBadSignature},
		{"empty", settlement.Drawing{W: 300, H: 100}, settlement.CodeBadSignature},
		{"huge box", settlement.Drawing{W: 30000, H: 100, Strokes: [][]int{{1, 1}}}, settlement.CodeBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = chen.WriteJSON(map[string]any{"type": "settlement_sign", "sha256": sha, "typed_name": "Chen", "drawing": tc.d})
			expectError(t, chen, tc.code)
		})
	}
	_ = chen.WriteJSON(map[string]any{"type": "settlement_sign", "sha256": sha, "typed_name": "", "drawing": stroke})
	expectError(t, chen, CodeBadMessage)
	st, err := f.db.SettlementsOfSession(context.Background(), "s1")
	if err != nil || len(st) != 1 || len(st[0].Signatures) != 0 {
		t.Fatalf("refused signatures were recorded: %+v, %v", st, err)
	}
}
