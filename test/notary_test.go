package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/store"
)

// notarization is a notarization case of the world's first organization:
// one session, presided by the notary account, with a party in Milan.
type notarization struct {
	kase         *cases.Case
	session      *cases.Session
	notary       *cases.Participant
	party        *cases.Participant
	notaryInvite string
	partyInvite  string
}

// newNotarization creates the records as the staff pages would, with the
// notary's participant bound to the notary's account (of org orgID).
func newNotarization(t *testing.T, st store.Store, orgID, notaryEmail string) *notarization {
	t.Helper()
	ctx := context.Background()
	acct, err := st.AccountByEmail(ctx, notaryEmail)
	if err != nil {
		t.Fatal(err)
	}
	org := &cases.Org{ID: orgID}
	now := time.Now().UTC()
	nz := &notarization{}
	nz.kase = &cases.Case{ID: store.NewID(), OrgID: org.ID, Kind: cases.KindNotarization, Number: "(2026)浙温证字" + store.NewID()[:6] + "号",
		Title: "Power of attorney for a property sale", Status: "open", CreatedBy: acct.ID, CreatedAt: now}
	nz.session = &cases.Session{ID: store.NewID(), CaseID: nz.kase.ID, OrgID: org.ID, Title: "Notarization of a power of attorney",
		ScheduledStart: now, TimeZone: "Asia/Shanghai", Record: true, State: "scheduled", CreatedAt: now}
	nz.notary = &cases.Participant{ID: store.NewID(), SessionID: nz.session.ID, AccountID: acct.ID, Role: cases.RoleNotary,
		DisplayName: "Notary Wang", Language: "zh-CN", TimeZone: "Asia/Shanghai", CreatedAt: now}
	nz.party = &cases.Participant{ID: store.NewID(), SessionID: nz.session.ID, Role: cases.RoleParty,
		DisplayName: "Giulia Bianchi", Language: "it", TimeZone: "Europe/Rome", CreatedAt: now.Add(time.Millisecond)}
	for _, err := range []error{st.CreateCase(ctx, nz.kase), st.CreateSession(ctx, nz.session),
		st.CreateParticipant(ctx, nz.notary), st.CreateParticipant(ctx, nz.party)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	nz.notaryInvite = inviteFor(t, st, nz.notary)
	nz.partyInvite = inviteFor(t, st, nz.party)
	return nz
}

func inviteFor(t *testing.T, st store.Store, p *cases.Participant) string {
	t.Helper()
	tok := auth.InviteToken()
	inv := &cases.Invite{ID: store.NewID(), ParticipantID: p.ID, SessionID: p.SessionID, TokenHash: auth.HashToken(tok),
		ExpiresAt: time.Now().Add(time.Hour).UTC(), CreatedAt: time.Now().UTC()}
	if err := st.CreateInvite(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	return tok
}

// joinCall joins with an invite as a Go client sending synthetic media,
// and returns it with its call token.
func joinCall(t *testing.T, base, invite string) (*client, string) {
	t.Helper()
	var a joinAnswer
	if status, raw := postJSON(t, base+"/api/v1/join", map[string]string{"invite": invite}, &a); status != http.StatusOK {
		t.Fatalf("join token: %d %s", status, raw)
	}
	c := &client{t: t, name: a.Participant.Name, ws: dial(t, a), msgs: make(chan map[string]any, 256),
		recv: make(map[string]*received), done: make(chan struct{}), pending: map[string][]webrtc.ICECandidateInit{}}
	t.Cleanup(c.close)
	c.send(map[string]any{"type": "join", "version": 1, "token": a.JoinToken, "consent": true})
	joined := c.readUntil("joined")
	call, _ := joined["call"].(map[string]any)
	tok, _ := call["token"].(string)
	if tok == "" {
		t.Fatalf("%s: joined without a call token: %v", c.name, joined)
	}
	c.base = base
	c.self = joined["self"].(map[string]any)["id"].(string)
	c.joinedAt = time.Now()
	c.startPeers(webrtc.Configuration{})
	c.wg.Add(1)
	go c.readLoop()
	return c, tok
}

// callDo sends a call route request with "Authorization: Call <token>".
func callDo(t *testing.T, method, url, token, contentType string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Call "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header
}

func errorCodeOf(raw []byte) string {
	var m struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Error.Code
}

// testPDF is a small PDF whose content differs with text.
func testPDF(text string) []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + text + "\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// upload uploads a document as the holder of token and returns the answer.
func upload(t *testing.T, base, sessionID, token, name string, body []byte) map[string]any {
	t.Helper()
	status, raw, _ := callDo(t, "POST", base+"/api/v1/call/"+sessionID+"/documents?name="+name, token, "application/pdf", body)
	if status != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", name, status, raw)
	}
	var d map[string]any
	_ = json.Unmarshal(raw, &d)
	return d
}

func audited(t *testing.T, st store.Store, sessionID, action string) []*audit.Entry {
	t.Helper()
	es, err := st.AuditEntries(context.Background(), audit.Filter{SessionID: sessionID, Actions: []string{action}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestNotaryDocumentsAndJournal: the notary uploads the document under
// notarization in the call (limits, content sniffing, who may), shows it,
// the party opens it (audited), a different version presented for
// signing is flagged to everyone; the sealed manifest lists both with the
// flag and the steps as events, and the bundle verifies. After the
// session the notary writes the journal, which cannot be changed, only
// corrected.
func TestNotaryDocumentsAndJournal(t *testing.T) {
	w := newWorld(t)
	base := w.n.URL()
	st := w.n.Store()
	nz := newNotarization(t, st, w.orgs[0].ID, w.emails[0][cases.RoleNotary])
	notaryC, notaryTok := joinCall(t, base, nz.notaryInvite)
	partyC, partyTok := joinCall(t, base, nz.partyInvite)
	expectMsg(t, notaryC, "participant_joined")
	docs := base + "/api/v1/call/" + nz.session.ID + "/documents"

	// Who may upload what.
	if status, raw, _ := callDo(t, "POST", docs+"?name=poa.pdf", partyTok, "application/pdf", testPDF("party")); status != http.StatusForbidden || errorCodeOf(raw) != "not_presider" {
		t.Fatalf("a party's upload: %d %s", status, raw)
	}
	big := append(testPDF("big"), bytes.Repeat([]byte{' '}, notary.MaxDocument)...)
	if status, raw, _ := callDo(t, "POST", docs+"?name=big.pdf", notaryTok, "application/pdf", big); status != http.StatusRequestEntityTooLarge || errorCodeOf(raw) != "document_too_large" {
		t.Fatalf("an oversized upload: %d %s", status, raw)
	}
	if status, raw, _ := callDo(t, "POST", docs+"?name=fake.pdf", notaryTok, "application/pdf", []byte("MZ\x90\x00 this is no PDF at all")); status != http.StatusUnsupportedMediaType || errorCodeOf(raw) != "unsupported_document" {
		t.Fatalf("non-PDF bytes sent as a PDF: %d %s", status, raw)
	}
	shownBody := testPDF("I, Giulia Bianchi, appoint Chen Wei to sell the flat at Via Roma 1.")
	shown := upload(t, base, nz.session.ID, notaryTok, "procura.pdf", shownBody)
	sum := sha256.Sum256(shownBody)
	if shown["sha256"] != hex.EncodeToString(sum[:]) || shown["content_type"] != "application/pdf" || shown["name"] != "procura.pdf" {
		t.Fatalf("uploaded %v", shown)
	}
	id := shown["id"].(string)

	// Access: not shown yet, another session's token, then shown.
	if status, _, _ := callDo(t, "GET", docs+"/"+id, partyTok, "", nil); status != http.StatusNotFound {
		t.Fatalf("the party opened a document not shown yet: %d", status)
	}
	_, demoTok := joinCall(t, base, w.n.invite(t, 1))
	if status, _, _ := callDo(t, "GET", docs+"/"+id, demoTok, "", nil); status != http.StatusNotFound {
		t.Fatalf("another session's call token opened the document: %d", status)
	}
	if status, _, _ := callDo(t, "GET", base+"/api/v1/call/"+w.n.demo.SessionID+"/documents/"+id, demoTok, "", nil); status != http.StatusNotFound {
		t.Fatalf("another session's document by id: %d", status)
	}

	notaryC.send(map[string]any{"type": "script_step", "step": notary.StepIdentity, "note": "passport YA1234567 checked against the face"})
	notaryC.send(map[string]any{"type": "script_step", "step": notary.StepAct, "note": "power of attorney"})
	notaryC.send(map[string]any{"type": "document_show", "id": id})
	d := expectMsg(t, partyC, "document")
	if d["id"] != id || d["sha256"] != shown["sha256"] || d["purpose"] != "shown" {
		t.Fatalf("the party was shown %v", d)
	}
	status, raw, hdr := callDo(t, "GET", docs+"/"+id, partyTok, "", nil)
	if status != http.StatusOK || !bytes.Equal(raw, shownBody) || hdr.Get("Content-Type") != "application/pdf" {
		t.Fatalf("the party opening the document: %d %q %v", status, raw, hdr)
	}
	if es := audited(t, st, nz.session.ID, "document.viewed"); len(es) != 1 || es[0].ActorID != nz.party.ID {
		t.Fatalf("document.viewed entries %v", es)
	}
	notaryC.send(map[string]any{"type": "script_step", "step": notary.StepDocument})

	// A document swapped after it was shown.
	swapped := upload(t, base, nz.session.ID, notaryTok, "procura.pdf", testPDF("I, Giulia Bianchi, appoint Chen Wei to sell and mortgage the flat."))
	notaryC.send(map[string]any{"type": "document_sign", "id": swapped["id"]})
	for {
		m := expectMsg(t, partyC, "document")
		if m["purpose"] != "signing" {
			continue
		}
		if m["mismatch"] != true || m["against"] != id || m["id"] != swapped["id"] {
			t.Fatalf("the swapped document: %v", m)
		}
		break
	}
	waitFor(t, 5*time.Second, "document.mismatch", func() bool { return len(audited(t, st, nz.session.ID, "document.mismatch")) == 1 })

	// The journal waits for the end of the session only by choice: end it
	// now (the notary's end_session), and it is sealed.
	notaryC.send(map[string]any{"type": "end_session", "in_person": true, "reason": "the document was altered: the party must come in person"})
	expectMsg(t, partyC, "bye")
	clerk := w.login(t, 0, cases.RoleClerk)
	waitSealed(t, clerk, nz.session.ID, 60*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, nz.session.ID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	var kinds []string
	for _, doc := range m.Documents {
		kinds = append(kinds, doc.Kind)
		switch doc.Kind {
		case evidence.DocumentNotarized:
			if doc.SHA256 != shown["sha256"] || doc.ID != id {
				t.Errorf("notarized document %+v", doc)
			}
		case evidence.DocumentSigned:
			if doc.SHA256 != swapped["sha256"] || !strings.HasPrefix(doc.Detail, "mismatch") {
				t.Errorf("signed document %+v, want the mismatch said", doc)
			}
		}
	}
	if strings.Join(kinds, " ") != "notarized signed" {
		t.Fatalf("manifest documents %v", kinds)
	}
	var steps []string
	for _, ev := range m.Events {
		if ev.Kind == notary.StepAction {
			var sd notary.StepDetail
			_ = json.Unmarshal([]byte(ev.Detail), &sd)
			steps = append(steps, sd.Step)
		}
	}
	if strings.Join(steps, " ") != "identity_confirmed act_stated document_shown" {
		t.Errorf("manifest steps %v", steps)
	}

	checkJournal(t, w, nz)
}

// checkJournal: only the session's notary or an admin writes the journal;
// an entry is never changed (no route) and is corrected by a new entry.
func checkJournal(t *testing.T, w *world, nz *notarization) {
	path := "/api/v1/sessions/" + nz.session.ID + "/journal"
	entry := map[string]any{"act": "power of attorney", "identity_method": "passport, checked on camera",
		"location": "Milan, Via Roma 1", "fee": "CNY 300", "remarks": "the version presented for signing differed; not notarized"}
	for _, r := range []cases.Role{cases.RoleClerk, cases.RoleMediator} {
		if status, out := w.login(t, 0, r).do("POST", path, entry); status != http.StatusForbidden {
			t.Errorf("%s wrote the journal: %d %v", r, status, out)
		}
	}
	if status, out := w.login(t, 1, cases.RoleNotary).do("POST", path, entry); status != http.StatusNotFound {
		t.Errorf("another organization's notary wrote the journal: %d %v", status, out)
	}
	n := w.login(t, 0, cases.RoleNotary)
	if status, out := n.do("POST", path, map[string]any{"act": "power of attorney"}); status != http.StatusBadRequest {
		t.Errorf("an incomplete entry: %d %v", status, out)
	}
	status, first := n.do("POST", path, entry)
	if status != http.StatusCreated {
		t.Fatalf("journal entry: %d %v", status, first)
	}
	canon, _ := first["canonical"].(string)
	sum := sha256.Sum256([]byte(canon))
	if first["sha256"] != hex.EncodeToString(sum[:]) || !strings.Contains(canon, `"parties":[{"id":"`+nz.party.ID) || !strings.Contains(canon, "Milan, Via Roma 1") {
		t.Fatalf("entry %v", first)
	}
	for _, method := range []string{"PUT", "PATCH", "DELETE"} {
		if status, _ := n.do(method, path+"/"+first["id"].(string), entry); status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("%s of a journal entry: %d", method, status)
		}
	}
	if status, out := n.do("POST", path, map[string]any{"act": "power of attorney", "identity_method": "passport", "location": "Milan",
		"corrects": first["id"]}); status != http.StatusBadRequest {
		t.Errorf("a correction without a reason: %d %v", status, out)
	}
	fix := map[string]any{"act": "power of attorney", "identity_method": "passport, checked on camera", "location": "Milan, Via Roma 1",
		"remarks": "refused", "corrects": first["id"], "reason": "the fee is not charged for a refused act"}
	admin := w.login(t, 0, cases.RoleAdmin)
	status, second := admin.do("POST", path, fix)
	if status != http.StatusCreated || second["corrects"] != first["id"] {
		t.Fatalf("correction: %d %v", status, second)
	}
	if status, out := n.do("POST", path, fix); status != http.StatusConflict {
		t.Errorf("a second correction of the same entry: %d %v", status, out)
	}
	status, j := w.login(t, 0, cases.RoleClerk).do("GET", path, nil)
	es, _ := j["entries"].([]any)
	if status != http.StatusOK || len(es) != 2 {
		t.Fatalf("journal: %d %v", status, j)
	}
	e0, e1 := es[0].(map[string]any), es[1].(map[string]any)
	if e0["corrected_by"] != second["id"] || e0["current"] != false || e1["current"] != true || e1["corrects"] != first["id"] {
		t.Errorf("journal chain %v", es)
	}
	if len(audited(t, w.n.Store(), nz.session.ID, "journal.entry")) != 2 {
		t.Error("journal entries are not audited")
	}
}
