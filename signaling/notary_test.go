package signaling

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/store"
)

// fakeNotary is an in-memory Notary: documents by id, marks read back
// from what the fixture's audit log would hold (here: none at start).
type fakeNotary struct {
	mu   sync.Mutex
	on   bool
	docs map[string]*cases.Document
	seq  []string // presentation order
}

func newFakeNotary(on bool) *fakeNotary {
	n := &fakeNotary{on: on, docs: map[string]*cases.Document{}}
	for _, d := range []struct{ id, content string }{{"docA", "power of attorney"}, {"docB", "power of attorney, altered"}, {"docA2", "power of attorney"}} {
		sum := sha256.Sum256([]byte(d.content))
		n.docs[d.id] = &cases.Document{ID: d.id, SessionID: "s1", Name: d.id + ".pdf", ContentType: "application/pdf",
			Bytes: int64(len(d.content)), SHA256: sum[:]}
	}
	return n
}

func (n *fakeNotary) Notarization(context.Context, *cases.Session) (bool, error) { return n.on, nil }
func (n *fakeNotary) Marks(context.Context, string) ([]notary.Mark, error)       { return nil, nil }
func (n *fakeNotary) Presented(context.Context, string) ([]*cases.Document, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*cases.Document
	for _, id := range n.seq {
		out = append(out, n.docs[id])
	}
	return out, nil
}

func (n *fakeNotary) present(id, how, by string) (*cases.Document, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d := n.docs[id]
	if d == nil {
		return nil, store.ErrNotFound
	}
	if d.Presented != "" {
		if d.Presented == how && how == cases.DocumentShown {
			return d, nil
		}
		return nil, notary.ErrPresented
	}
	if how == cases.DocumentSigning {
		var shown *cases.Document
		for _, sid := range n.seq {
			if n.docs[sid].Presented == cases.DocumentShown {
				shown = n.docs[sid]
			}
		}
		if shown == nil {
			return nil, notary.ErrNoDocument
		}
		d.Against, d.Mismatch = shown.ID, !bytes.Equal(shown.SHA256, d.SHA256)
	}
	at := time.Now().UTC()
	d.Presented, d.PresentedAt, d.PresentedBy = how, &at, by
	n.seq = append(n.seq, id)
	return d, nil
}

func (n *fakeNotary) Show(_ context.Context, _ *cases.Session, id, by string) (*cases.Document, error) {
	return n.present(id, cases.DocumentShown, by)
}

func (n *fakeNotary) Sign(_ context.Context, _ *cases.Session, id, by string) (*cases.Document, error) {
	return n.present(id, cases.DocumentSigning, by)
}

// notaryFixture: a notarization session presided by the notary p1, with
// the party p2 (and p3, who joins later).
func notaryFixture(t *testing.T, on bool) (*fixture, *fakeNotary) {
	t.Helper()
	n := newFakeNotary(on)
	f := newFixture(t, Config{Notary: n})
	f.records.parts["p1"].Role = cases.RoleNotary
	f.records.parts["p3"] = &cases.Participant{ID: "p3", SessionID: "s1", Role: cases.RoleParty, DisplayName: "Rossi"}
	return f, n
}

func errorCode(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	m := expect(t, ws, "error")
	code, _ := m["code"].(string)
	return code
}

func step(ws *websocket.Conn, s, note string) {
	_ = ws.WriteJSON(map[string]any{"type": "script_step", "step": s, "note": note})
}

// stepOf returns the named step of a script message (or of joined's
// script).
func stepOf(t *testing.T, script map[string]any, name string) map[string]any {
	t.Helper()
	for _, s := range script["steps"].([]any) {
		if st := s.(map[string]any); st["step"] == name {
			return st
		}
	}
	t.Fatalf("no step %s in %v", name, script)
	return nil
}

// The notary marks the steps in order; everyone sees the script with the
// time and who marked each; order, the presider-only rule, unknown steps,
// a repeat without a note and a step that needs a document are refused
// with stable codes.
func TestNotaryScriptOrder(t *testing.T) {
	f, _ := notaryFixture(t, true)
	host, joined := f.joinMsg(t, "p1")
	sc, _ := joined["script"].(map[string]any)
	if sc == nil || sc["current"] != notary.StepIdentity || len(sc["steps"].([]any)) != len(notary.Steps) {
		t.Fatalf("joined script %v", joined["script"])
	}
	party := f.join(t, "p2")
	expect(t, host, "participant_joined")

	step(party, notary.StepIdentity, "")
	if c := errorCode(t, party); c != CodeNotHost {
		t.Fatalf("a party marking a step: %s", c)
	}
	step(host, notary.StepAct, "")
	if c := errorCode(t, host); c != CodeStepOutOfOrder {
		t.Fatalf("a step out of order: %s", c)
	}
	step(host, "oath", "")
	if c := errorCode(t, host); c != CodeUnknownStep {
		t.Fatalf("an unknown step: %s", c)
	}

	before := time.Now().UTC().Add(-time.Second)
	step(host, notary.StepIdentity, "passport checked against the live face")
	for _, ws := range []*websocket.Conn{host, party} {
		m := expect(t, ws, "script")
		if m["current"] != notary.StepAct {
			t.Fatalf("current after identity: %v", m)
		}
		st := stepOf(t, m, notary.StepIdentity)
		at, err := time.Parse(time.RFC3339Nano, st["at"].(string))
		if st["done"] != true || st["by"] != "p1" || err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Fatalf("identity step %v", st)
		}
		if marks := st["marks"].([]any); len(marks) != 1 || marks[0].(map[string]any)["note"] != "passport checked against the live face" {
			t.Fatalf("identity marks %v", marks)
		}
		if stepOf(t, m, notary.StepAct)["done"] != false {
			t.Fatalf("act step done too early: %v", m)
		}
	}
	step(host, notary.StepIdentity, "")
	if c := errorCode(t, host); c != CodeNoteRequired {
		t.Fatalf("a repeat without a note: %s", c)
	}
	step(host, notary.StepAct, "")
	expect(t, party, "script")
	step(host, notary.StepDocument, "")
	if c := errorCode(t, host); c != CodeNoDocument {
		t.Fatalf("document_shown with no document shown: %s", c)
	}
	waitedFor(t, "the steps in the audit log", func() bool { return f.audited("notary.step p1") })
	if f.audited("notary.step p2") {
		t.Fatal("a refused step was audited")
	}
}

// The script and the documents shown are in joined (a participant who
// comes later or reconnects sees them) and in resumed.
func TestNotaryScriptInJoinedAndResumed(t *testing.T) {
	f, _ := notaryFixture(t, true)
	f.srv.cfg.ResumeWindow = 5 * time.Second
	host, _ := f.joinMsg(t, "p1")
	party, tok := f.joinResumable(t, "p2")
	expect(t, host, "participant_joined")
	step(host, notary.StepIdentity, "")
	step(host, notary.StepAct, "power of attorney")
	_ = host.WriteJSON(map[string]any{"type": "document_show", "id": "docA"})
	doc := expect(t, party, "document")
	if doc["id"] != "docA" || doc["purpose"] != "shown" || doc["sha256"] == "" || doc["size"] == nil || doc["content_type"] != "application/pdf" {
		t.Fatalf("document %v", doc)
	}
	step(host, notary.StepDocument, "")
	until(t, party, "the document step", func(m map[string]any) bool {
		return m["type"] == "script" && m["current"] == notary.StepFreeWill
	})

	_, joined := f.joinMsg(t, "p3")
	sc, _ := joined["script"].(map[string]any)
	if sc == nil || sc["current"] != notary.StepFreeWill || stepOf(t, sc, notary.StepDocument)["done"] != true {
		t.Fatalf("joined script %v", joined["script"])
	}
	if docs, _ := joined["documents"].([]any); len(docs) != 1 || docs[0].(map[string]any)["sha256"] != doc["sha256"] {
		t.Fatalf("joined documents %v", joined["documents"])
	}

	party.Close()
	_, resumed := f.resume(t, tok)
	sc, _ = resumed["script"].(map[string]any)
	if resumed["type"] != "resumed" || sc == nil || sc["current"] != notary.StepFreeWill {
		t.Fatalf("resumed %v", resumed)
	}
	if docs, _ := resumed["documents"].([]any); len(docs) != 1 {
		t.Fatalf("resumed documents %v", resumed["documents"])
	}
}

// A document presented for signing that differs from the one shown is
// flagged to everyone and audited; the one shown, confirmed, is not.
func TestNotaryDocumentSwappedAfterShown(t *testing.T) {
	f, _ := notaryFixture(t, true)
	host, _ := f.joinMsg(t, "p1")
	party := f.join(t, "p2")
	expect(t, host, "participant_joined")
	_ = host.WriteJSON(map[string]any{"type": "document_sign", "id": "docB"})
	if c := errorCode(t, host); c != CodeNoDocument {
		t.Fatalf("signing before anything is shown: %s", c)
	}
	_ = party.WriteJSON(map[string]any{"type": "document_show", "id": "docA"})
	if c := errorCode(t, party); c != CodeNotHost {
		t.Fatalf("a party showing a document: %s", c)
	}
	_ = host.WriteJSON(map[string]any{"type": "document_show", "id": "nope"})
	if c := errorCode(t, host); c != CodeNoSuchDocument {
		t.Fatalf("showing an unknown document: %s", c)
	}
	_ = host.WriteJSON(map[string]any{"type": "document_show", "id": "docA"})
	shown := expect(t, party, "document")
	_ = host.WriteJSON(map[string]any{"type": "document_sign", "id": "docB"})
	signed := expect(t, party, "document")
	if signed["purpose"] != "signing" || signed["mismatch"] != true || signed["against"] != "docA" || signed["sha256"] == shown["sha256"] {
		t.Fatalf("swapped document %v", signed)
	}
	waitedFor(t, "the mismatch in the audit log", func() bool { return f.audited("document.mismatch p1") })

	_ = host.WriteJSON(map[string]any{"type": "document_sign", "id": "docA2"})
	same := expect(t, party, "document")
	if same["mismatch"] != false || same["sha256"] != shown["sha256"] {
		t.Fatalf("same document for signing %v", same)
	}
}

// Outside notarization sessions there is no script.
func TestNotaryScriptOnlyInNotarization(t *testing.T) {
	f, _ := notaryFixture(t, false)
	host, joined := f.joinMsg(t, "p1")
	if _, ok := joined["script"]; ok {
		t.Fatalf("joined of a mediation has a script: %v", joined)
	}
	step(host, notary.StepIdentity, "")
	if c := errorCode(t, host); c != CodeNotNotarization {
		t.Fatalf("a step in a mediation: %s", c)
	}
}

func TestDecodeScriptStep(t *testing.T) {
	for _, tc := range []struct {
		name, frame string
		ok          bool
	}{
		{"step", `{"type":"script_step","step":"free_will","note":"repeated in Italian"}`, true},
		{"no step", `{"type":"script_step","note":"x"}`, false},
		{"step not a string", `{"type":"script_step","step":3}`, false},
		{"show", `{"type":"document_show","id":"abc"}`, true},
		{"show without id", `{"type":"document_show"}`, false},
		{"sign", `{"type":"document_sign","id":"abc"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.frame))
			if (err == nil) != tc.ok {
				t.Fatalf("Decode(%s) = %v", tc.frame, err)
			}
		})
	}
}
