package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/file"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/identity"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlite"
)

// The ICAO Doc 9303 part 4 specimen passport (TD3). It expired in 2012:
// the tests run the server's clock in 2011.
const (
	specimenMRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
	// The same with the document number's check digit changed.
	specimenBadDigit = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C35UTO7408122F1204159ZE184226B<<<<<10"
)

var identityNow = time.Date(2011, 6, 1, 10, 0, 0, 0, time.UTC)

// idEnv is a Server with identity verification over SQLite and local
// files, a notarization case with a party, an interpreter and a notary,
// and another organization's admin.
type idEnv struct {
	t          *testing.T
	url        string
	st         store.Store
	sess       *cases.Session
	party      string // call tokens
	interp     string
	notary     string
	partyID    string
	admin      string // bearer tokens
	otherAdmin string
	clerk      string
	blob       *file.Store
}

func newIDEnv(t *testing.T, prov *identity.HTTPVerifier) *idEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b, err := file.Open(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	keys, err := identity.NewKeyring(identity.DeriveKey(key))
	if err != nil {
		t.Fatal(err)
	}
	calls := auth.NewCallTokens(key, time.Hour)
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler), CallTokens: calls,
		Now:      func() time.Time { return identityNow },
		Identity: &Identity{Blob: b, Keys: keys, Provider: prov}}
	if prov != nil {
		prov.Now = s.Now
	}
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := t.Context()
	e := &idEnv{t: t, url: srv.URL, st: st, blob: b}
	org := &cases.Org{ID: store.NewID(), Name: "Milano Notary Office", CreatedAt: identityNow}
	other := &cases.Org{ID: store.NewID(), Name: "Other Office", CreatedAt: identityNow}
	must(t, st.CreateOrg(ctx, org))
	must(t, st.CreateOrg(ctx, other))
	kase := &cases.Case{ID: store.NewID(), OrgID: org.ID, Kind: cases.KindNotarization, Number: "N-1", Title: "Power of attorney",
		Status: "open", CreatedAt: identityNow}
	must(t, st.CreateCase(ctx, kase))
	e.sess = &cases.Session{ID: store.NewID(), CaseID: kase.ID, OrgID: org.ID, Title: "Signing", ScheduledStart: identityNow,
		TimeZone: "Europe/Rome", State: "live", CreatedAt: identityNow}
	must(t, st.CreateSession(ctx, e.sess))
	part := func(role cases.Role, name string) string {
		p := &cases.Participant{ID: store.NewID(), SessionID: e.sess.ID, Role: role, DisplayName: name, Language: "it", CreatedAt: identityNow}
		must(t, st.CreateParticipant(ctx, p))
		tok, _ := calls.Mint(e.sess.ID, p.ID)
		if role == cases.RoleParty {
			e.partyID = p.ID
		}
		return tok
	}
	e.party = part(cases.RoleParty, "Anna Eriksson")
	e.notary = part(cases.RoleNotary, "Notaio Bianchi")
	e.interp = part(cases.RoleInterpreter, "Lin Mei")
	login := func(o *cases.Org, role cases.Role) string {
		a := &cases.Account{ID: store.NewID(), OrgID: o.ID, Email: store.NewID() + "@example.org", Name: string(role), Role: role, CreatedAt: identityNow}
		must(t, st.CreateAccount(ctx, a))
		tok := auth.LoginToken()
		must(t, st.CreateLogin(ctx, &cases.Login{TokenHash: auth.HashToken(tok), AccountID: a.ID, CSRF: "x",
			CreatedAt: identityNow, ExpiresAt: identityNow.Add(time.Hour)}))
		return tok
	}
	e.admin, e.otherAdmin, e.clerk = login(org, cases.RoleAdmin), login(other, cases.RoleAdmin), login(org, cases.RoleClerk)
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// do sends a request; auth is "Call <token>" or "Bearer <token>".
func (e *idEnv) do(method, path, authz, ctype string, body []byte) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *idEnv) call(method, path, token string, v any) (int, map[string]any) {
	e.t.Helper()
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	status, b := e.do(method, "/api/v1/call/"+e.sess.ID+path, "Call "+token, "application/json", body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return status, m
}

func code(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (e *idEnv) upload(query string, img []byte, ctype string) (int, map[string]any) {
	e.t.Helper()
	status, b := e.do("POST", "/api/v1/call/"+e.sess.ID+"/identity/images?"+query, "Call "+e.party, ctype, img)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return status, m
}

func testJPEG(t *testing.T, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{shade, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	must(t, jpeg.Encode(&b, img, nil))
	return b.Bytes()
}

func (e *idEnv) audits(action string) []*audit.Entry {
	e.t.Helper()
	list, err := e.st.AuditEntries(e.t.Context(), audit.Filter{Actions: []string{action}})
	must(e.t, err)
	return list
}

// capture consents, uploads a passport page, the MRZ and a frame per
// liveness prompt, and returns the check id and the document image.
func (e *idEnv) capture() (string, []byte) {
	t := e.t
	status, m := e.call("POST", "/identity/consent", e.party, map[string]any{"consent": true})
	if status != 200 || m["state"] != cases.CheckConsented {
		t.Fatalf("consent = %d %v", status, m)
	}
	checkID := m["id"].(string)
	steps := m["challenge"].([]any)
	if len(steps) != livenessSteps {
		t.Fatalf("challenge %v, want %d prompts", steps, livenessSteps)
	}
	doc := testJPEG(t, 10)
	if status, m := e.upload("kind=document_front&document_type=passport", doc, "image/jpeg"); status != 201 {
		t.Fatalf("document upload = %d %v", status, m)
	}
	if status, m := e.call("POST", "/identity/mrz", e.party, map[string]any{"mrz": specimenMRZ}); status != 200 {
		t.Fatalf("mrz = %d %v", status, m)
	}
	for i := range steps {
		if status, m := e.upload("kind=face&step="+strconv.Itoa(i), testJPEG(t, uint8(50+i)), "image/jpeg"); status != 201 {
			t.Fatalf("face %d = %d %v", i, status, m)
		}
	}
	return checkID, doc
}

func TestIdentityCaptureAndDecision(t *testing.T) {
	e := newIDEnv(t, nil)
	status, m := e.call("GET", "/identity", e.party, nil)
	if status != 200 || m["required"] != true || m["retention_days"] != float64(cases.DefaultIdentityRetentionDays) {
		t.Fatalf("a party of a notarization: %d %v, want required, images kept 90 days", status, m)
	}
	if _, m := e.call("GET", "/identity", e.interp, nil); m["required"] != true {
		t.Errorf("an interpreter of a notarization is not asked to verify: %v", m)
	}
	if _, m := e.call("GET", "/identity", e.notary, nil); m["required"] != false {
		t.Errorf("the notary is asked to verify: %v", m)
	}
	// Nothing is captured before consent.
	if status, m := e.upload("kind=document_front&document_type=passport", testJPEG(t, 1), "image/jpeg"); status != 409 || code(m) != "identity_no_consent" {
		t.Fatalf("upload before consent = %d %v", status, m)
	}
	checkID, doc := e.capture()
	// A second consent changes nothing of the capture under way.
	_, before := e.call("GET", "/identity", e.party, nil)
	if status, m := e.call("POST", "/identity/consent", e.party, map[string]any{"consent": true}); status != 200 || m["id"] != checkID {
		t.Fatalf("second consent = %d %v", status, m)
	}
	if _, after := e.call("GET", "/identity", e.party, nil); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a second consent changed the check: %v, then %v", before, after)
	}

	// Bad uploads: too large, not an image under an image type, a
	// document side a passport does not have.
	big := append(testJPEG(t, 1), make([]byte, identity.MaxImageBytes)...)
	if status, m := e.upload("kind=document_front&document_type=passport", big, "image/jpeg"); status != 413 || code(m) != identity.CodeImageTooLarge {
		t.Errorf("oversized upload = %d %v, want 413 image_too_large", status, m)
	}
	if status, m := e.upload("kind=document_front&document_type=passport", []byte("<html>not a picture</html>"), "image/jpeg"); status != 400 || code(m) != identity.CodeNotAnImage {
		t.Errorf("non-image upload = %d %v, want 400 not_an_image", status, m)
	}
	if status, m := e.upload("kind=document_back&document_type=passport", testJPEG(t, 1), "image/jpeg"); status != 400 {
		t.Errorf("passport back = %d %v, want 400", status, m)
	}
	if status, m := e.upload("kind=face&step=9", testJPEG(t, 1), "image/jpeg"); status != 400 {
		t.Errorf("face of an unknown step = %d %v, want 400", status, m)
	}

	// The MRZ is validated on the server; a wrong check digit names its field.
	status, m = e.call("POST", "/identity/mrz", e.party, map[string]any{"mrz": specimenBadDigit})
	if er, _ := m["error"].(map[string]any); status != 400 || er["code"] != "mrz_check_digit" || er["field"] != "document_number" {
		t.Errorf("wrong check digit = %d %v, want 400 mrz_check_digit on document_number", status, m)
	}
	status, m = e.call("POST", "/identity/mrz", e.party, map[string]any{"mrz": "P<UTO"})
	if status != 400 || code(m) != "mrz_format" {
		t.Errorf("short MRZ = %d %v, want 400 mrz_format", status, m)
	}
	status, m = e.call("POST", "/identity/mrz", e.party, map[string]any{"mrz": specimenMRZ})
	if f, _ := m["mrz"].(map[string]any); status != 200 || f["document_number"] != "******2C3" || f["surname"] != "ERIKSSON" || m["masked"] != true {
		t.Errorf("valid MRZ = %d %v, want the number masked by default", status, m)
	}

	if status, m := e.call("POST", "/identity/submit", e.party, nil); status != 200 || m["state"] != cases.CheckSubmitted {
		t.Fatalf("submit = %d %v", status, m)
	}
	if status, m := e.call("POST", "/identity/consent", e.party, map[string]any{"consent": true}); status != 409 {
		t.Errorf("consent after submit = %d %v, want 409", status, m)
	}

	// Who may see the images.
	img := "/identity/checks/" + checkID + "/images/0"
	if status, _ := e.call("GET", "/identity/checks", e.interp, nil); status != 403 {
		t.Errorf("interpreter lists checks: %d, want 403", status)
	}
	if status, _ := e.call("GET", "/identity/checks", e.party, nil); status != 403 {
		t.Errorf("party lists checks: %d, want 403", status)
	}
	if status, _ := e.do("GET", "/api/v1/call/"+e.sess.ID+img, "Call "+e.party, "", nil); status != 403 {
		t.Errorf("party views an image: %d, want 403", status)
	}
	status, m = e.call("GET", "/identity/checks", e.notary, nil)
	checks, _ := m["checks"].([]any)
	if status != 200 || len(checks) != 1 {
		t.Fatalf("notary lists checks: %d %v", status, m)
	}
	c0 := checks[0].(map[string]any)
	if c0["participant"] != "Anna Eriksson" || len(c0["images"].([]any)) != 1+livenessSteps || c0["mrz"].(map[string]any)["nationality"] != "UTO" {
		t.Errorf("notary's view of the check: %v", c0)
	}
	status, got := e.do("GET", "/api/v1/call/"+e.sess.ID+img, "Call "+e.notary, "", nil)
	if status != 200 || !bytes.Equal(got, doc) {
		t.Fatalf("notary views the document: %d, %d bytes, want the %d bytes uploaded", status, len(got), len(doc))
	}
	staffImg := "/api/v1/sessions/" + e.sess.ID + img
	if status, got := e.do("GET", staffImg, "Bearer "+e.admin, "", nil); status != 200 || !bytes.Equal(got, doc) {
		t.Errorf("admin views the document: %d", status)
	}
	if status, _ := e.do("GET", staffImg, "Bearer "+e.clerk, "", nil); status != 403 {
		t.Errorf("clerk views the document: %d, want 403", status)
	}
	if status, _ := e.do("GET", staffImg, "Bearer "+e.otherAdmin, "", nil); status != 404 {
		t.Errorf("another organization's admin views the document: %d, want 404", status)
	}
	if views := e.audits("identity.image_viewed"); len(views) != 2 {
		t.Errorf("%d identity.image_viewed entries, want 2 (notary, admin)", len(views))
	}

	// What is stored is encrypted.
	imgs, err := e.st.IdentityImages(t.Context(), checkID)
	must(t, err)
	rc, _, err := e.blob.Get(t.Context(), imgs[0].Key)
	must(t, err)
	stored, _ := io.ReadAll(rc)
	rc.Close()
	if bytes.Contains(stored, doc[:64]) || !strings.HasPrefix(imgs[0].Key, "cases/"+e.sess.CaseID+"/identity/"+checkID+"/") {
		t.Errorf("object %s holds the image in clear", imgs[0].Key)
	}

	// The decision.
	dec := "/identity/checks/" + checkID + "/decision"
	if status, _ := e.call("POST", dec, e.party, map[string]any{"decision": "verified"}); status != 403 {
		t.Errorf("party decides: %d, want 403", status)
	}
	if status, m := e.call("POST", dec, e.notary, map[string]any{"decision": "rejected"}); status != 400 {
		t.Errorf("rejection without reason: %d %v, want 400", status, m)
	}
	status, m = e.call("POST", dec, e.notary, map[string]any{"decision": "verified"})
	if status != 200 || m["state"] != cases.CheckVerified || m["decided_by"] != "Notaio Bianchi" {
		t.Fatalf("notary verifies: %d %v", status, m)
	}
	if status, _ := e.call("POST", dec, e.notary, map[string]any{"decision": "rejected", "reason": "x"}); status != 409 {
		t.Errorf("second decision: %d, want 409", status)
	}
	for _, a := range []string{"identity.consent", "identity.capture", "identity.mrz", "identity.submit", "identity.decision"} {
		if len(e.audits(a)) == 0 {
			t.Errorf("no %s audit entry", a)
		}
	}
}

// fakeProvider is a face-verification service on loopback: it checks the
// request's signature and answers as told.
type fakeProvider struct {
	t      *testing.T
	secret []byte
	answer func(w http.ResponseWriter, ref string)
	got    chan map[string]any
}

func (f *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := identity.CheckSignature(f.secret, r.Header, body, identityNow, time.Minute); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	select {
	case f.got <- req:
	default:
	}
	f.answer(w, req["reference"].(string))
}

func startProvider(t *testing.T, answer func(w http.ResponseWriter, ref string)) *identity.HTTPVerifier {
	v, _ := startFakeProvider(t, answer)
	return v
}

// startFakeProvider starts a fake provider; the channel receives the
// requests it was sent (the latest one, if nobody reads).
func startFakeProvider(t *testing.T, answer func(w http.ResponseWriter, ref string)) (*identity.HTTPVerifier, chan map[string]any) {
	secret := []byte("shared secret of the provider")
	f := &fakeProvider{t: t, secret: secret, answer: answer, got: make(chan map[string]any, 1)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &identity.HTTPVerifier{Name: "facecheck", URL: srv.URL, Secret: secret, Timeout: 500 * time.Millisecond}, f.got
}

func answerJSON(status, score string) func(w http.ResponseWriter, ref string) {
	return func(w http.ResponseWriter, ref string) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":%q,"score":%s,"reference":"prov-%s"}`, status, score, ref)
	}
}

func TestIdentityProvider(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, ref string)
		state  string
		score  any
	}{
		{"match", answerJSON("match", "0.97"), cases.ProviderMatch, 0.97},
		{"no match", answerJSON("no_match", "0.12"), cases.ProviderNoMatch, 0.12},
		{"pending", answerJSON("pending", "null"), cases.ProviderPending, nil},
		{"server error", func(w http.ResponseWriter, _ string) { http.Error(w, "down", http.StatusBadGateway) }, cases.ProviderError, nil},
		{"timeout", func(w http.ResponseWriter, ref string) {
			time.Sleep(1500 * time.Millisecond)
			answerJSON("match", "0.9")(w, ref)
		}, cases.ProviderError, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prov, got := startFakeProvider(t, tc.answer)
			e := newIDEnv(t, prov)
			checkID, doc := e.capture()
			status, m := e.call("POST", "/identity/submit", e.party, nil)
			if status != 200 || m["state"] != cases.CheckSubmitted {
				t.Fatalf("submit = %d %v", status, m)
			}
			// The provider was sent the document and every frame, signed.
			select {
			case req := <-got:
				docs, _ := req["document"].([]any)
				faces, _ := req["faces"].([]any)
				d0, _ := docs[0].(map[string]any)
				if req["reference"] != checkID || len(docs) != 1 || len(faces) != livenessSteps || d0["data"] != base64.StdEncoding.EncodeToString(doc) {
					t.Errorf("the provider got reference %v, %d document images, %d frames", req["reference"], len(docs), len(faces))
				}
			default:
				t.Error("the provider got no (correctly signed) request")
			}
			if m["provider"] != nil {
				t.Errorf("the party sees the provider's advice: %v", m["provider"])
			}
			_, list := e.call("GET", "/identity/checks", e.notary, nil)
			p, _ := list["checks"].([]any)[0].(map[string]any)["provider"].(map[string]any)
			if p["name"] != "facecheck" || p["state"] != tc.state || p["score"] != tc.score {
				t.Errorf("provider = %v, want state %s score %v", p, tc.state, tc.score)
			}
			entries := e.audits("identity.provider_result")
			if len(entries) != 1 || !strings.Contains(entries[0].Detail, `"status":"`+tc.state+`"`) {
				t.Fatalf("provider audit entries %v, want one with status %s", entries, tc.state)
			}
			// The presider's decision is final and keeps the advice.
			status, m = e.call("POST", "/identity/checks/"+checkID+"/decision", e.notary,
				map[string]any{"decision": "rejected", "reason": "the face does not match"})
			if status != 200 || m["state"] != cases.CheckRejected {
				t.Fatalf("decision = %d %v", status, m)
			}
			d := e.audits("identity.decision")
			if len(d) != 1 || !strings.Contains(d[0].Detail, `"provider_state":"`+tc.state+`"`) {
				t.Errorf("decision audit %v, want the provider's state", d)
			}
		})
	}
}

// callback posts a provider callback signed with secret at ts.
func (e *idEnv) callback(secret []byte, ts time.Time, body string) (int, map[string]any) {
	req, _ := http.NewRequestWithContext(e.t.Context(), "POST", e.url+"/api/v1/identity/callback", strings.NewReader(body))
	req.Header.Set(identity.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(identity.HeaderSignature, identity.Sign(secret, ts.Unix(), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestIdentityCallback(t *testing.T) {
	prov := startProvider(t, answerJSON("pending", "null"))
	e := newIDEnv(t, prov)
	checkID, _ := e.capture()
	if status, m := e.call("POST", "/identity/submit", e.party, nil); status != 200 {
		t.Fatalf("submit = %d %v", status, m)
	}
	ref := "prov-" + checkID
	body := `{"status":"match","score":0.91,"reference":"` + ref + `","nonce":"n-1"}`
	if status, m := e.callback([]byte("wrong secret"), identityNow, body); status != 401 || code(m) != "callback_signature" {
		t.Errorf("badly signed callback = %d %v, want 401 callback_signature", status, m)
	}
	if status, m := e.callback(prov.Secret, identityNow.Add(-time.Hour), body); status != 400 || code(m) != "callback_stale" {
		t.Errorf("stale callback = %d %v, want 400 callback_stale", status, m)
	}
	if status, m := e.callback(prov.Secret, identityNow, body); status != 200 {
		t.Fatalf("callback = %d %v", status, m)
	}
	c, err := e.st.IdentityCheck(t.Context(), checkID)
	must(t, err)
	if c.ProviderState != cases.ProviderMatch || c.ProviderScore == nil || *c.ProviderScore != 0.91 {
		t.Errorf("after the callback: provider %s %v, want match 0.91", c.ProviderState, c.ProviderScore)
	}
	if status, m := e.callback(prov.Secret, identityNow, body); status != 409 || code(m) != "callback_replayed" {
		t.Errorf("replayed callback = %d %v, want 409 callback_replayed", status, m)
	}
	again := strings.Replace(body, "n-1", "n-2", 1)
	if status, m := e.callback(prov.Secret, identityNow, strings.Replace(again, "match", "no_match", 1)); status != 409 || code(m) != "callback_replayed" {
		t.Errorf("second answer for the reference = %d %v, want 409 callback_replayed", status, m)
	}
	if n := len(e.audits("identity.callback_refused")); n != 3 {
		t.Errorf("%d identity.callback_refused entries, want 3 (stale, replayed twice)", n)
	}
	if n := len(e.audits("identity.provider_result")); n != 2 {
		t.Errorf("%d identity.provider_result entries, want 2 (pending, then the callback)", n)
	}
}

func TestIdentityRefusalAndRequest(t *testing.T) {
	e := newIDEnv(t, nil)
	// Not a notarization any more: nothing is required until asked.
	status, _ := e.do("PUT", "/api/v1/sessions/"+e.sess.ID+"/identity", "Bearer "+e.admin, "application/json", []byte(`{"required":false}`))
	if status != 200 {
		t.Fatalf("set required = %d", status)
	}
	if status, m := e.call("POST", "/identity/consent", e.party, map[string]any{"consent": true}); status != 409 || code(m) != "identity_not_requested" {
		t.Fatalf("consent when not required = %d %v", status, m)
	}
	status, m := e.call("POST", "/identity/request", e.notary, map[string]any{"participant_id": e.partyID})
	if status != 200 || m["state"] != cases.CheckRequested {
		t.Fatalf("notary requests = %d %v", status, m)
	}
	if status, _ := e.call("POST", "/identity/request", e.party, map[string]any{"participant_id": e.partyID}); status != 403 {
		t.Errorf("party requests: %d, want 403", status)
	}
	if _, m := e.call("GET", "/identity", e.party, nil); m["required"] != true {
		t.Errorf("after the request the party sees %v, want required", m)
	}
	status, m = e.call("POST", "/identity/consent", e.party, map[string]any{"consent": false})
	if status != 200 || m["state"] != cases.CheckRefused || m["refused_at"] == nil {
		t.Fatalf("refusal = %d %v", status, m)
	}
	_, m = e.call("GET", "/identity/checks", e.notary, nil)
	if c := m["checks"].([]any)[0].(map[string]any); c["state"] != cases.CheckRefused {
		t.Errorf("the notary sees %v, want refused", c)
	}
	if len(e.audits("identity.consent_refused")) != 1 {
		t.Error("the refusal is not audited")
	}
}

func TestIdentityRetention(t *testing.T) {
	e := newIDEnv(t, nil)
	checkID, _ := e.capture()
	ctx := t.Context()
	must(t, e.st.EndSession(ctx, e.sess.ID, identityNow))
	if status, m := e.upload("kind=face&step=0", testJPEG(t, 9), "image/jpeg"); status != 409 || code(m) != "session_ended" {
		t.Errorf("upload after the end = %d %v, want 409 session_ended", status, m)
	}
	n, err := identity.Sweep(ctx, e.st, identityNow.AddDate(0, 0, 89))
	if err != nil || n != 0 {
		t.Fatalf("sweep before 90 days: %d, %v; want nothing deleted", n, err)
	}
	n, err = identity.Sweep(ctx, e.st, identityNow.AddDate(0, 0, 91))
	if err != nil || n != 1+livenessSteps {
		t.Fatalf("sweep after 90 days: %d, %v; want %d deleted", n, err, 1+livenessSteps)
	}
	if len(e.audits("identity.image_deleted")) != 1 {
		t.Error("deletion not audited")
	}
	status, m := e.call("GET", "/identity/checks/"+checkID+"/images/0", e.notary, nil)
	if status != 410 || code(m) != "image_deleted" {
		t.Errorf("deleted image = %d %v, want 410 image_deleted", status, m)
	}
}

func TestIdentityLegalHoldKeepsImages(t *testing.T) {
	e := newIDEnv(t, nil)
	e.capture()
	ctx := t.Context()
	must(t, e.st.EndSession(ctx, e.sess.ID, identityNow))
	must(t, e.st.PutRecording(ctx, &cases.Recording{SessionID: e.sess.ID, State: cases.RecordingSealed, StartedAt: identityNow, LegalHold: true}))
	must(t, e.st.PutIdentityPolicy(ctx, &cases.IdentityPolicy{OrgID: e.sess.OrgID, ImageRetentionDays: 7, UpdatedAt: identityNow}))
	if n, err := identity.Sweep(ctx, e.st, identityNow.AddDate(1, 0, 0)); err != nil || n != 0 {
		t.Fatalf("sweep under legal hold: %d, %v; want nothing deleted", n, err)
	}
}

func TestIdentityRawNumbersByPolicy(t *testing.T) {
	e := newIDEnv(t, nil)
	must(t, e.st.PutIdentityPolicy(t.Context(), &cases.IdentityPolicy{OrgID: e.sess.OrgID, StoreRawNumbers: true, UpdatedAt: identityNow}))
	if status, m := e.call("POST", "/identity/consent", e.party, map[string]any{"consent": true}); status != 200 {
		t.Fatalf("consent = %d %v", status, m)
	}
	status, m := e.call("POST", "/identity/mrz", e.party, map[string]any{"mrz": specimenMRZ})
	if f, _ := m["mrz"].(map[string]any); status != 200 || f["document_number"] != "L898902C3" || m["masked"] != false {
		t.Errorf("MRZ under a raw policy = %d %v", status, m)
	}
}

// TestIdentityUploadSkipsLeftoverObject: an object left under the next key
// (an upload cut short after storing it) does not block the next upload.
func TestIdentityUploadSkipsLeftoverObject(t *testing.T) {
	e := newIDEnv(t, nil)
	status, m := e.call("POST", "/identity/consent", e.party, map[string]any{"consent": true})
	if status != 200 {
		t.Fatalf("consent = %d %v", status, m)
	}
	checkID := m["id"].(string)
	left := []byte("left over")
	sum := sha256.Sum256(left)
	if _, err := e.blob.Put(t.Context(), "cases/"+e.sess.CaseID+"/identity/"+checkID+"/0.enc", bytes.NewReader(left), int64(len(left)), sum[:], blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	status, m = e.upload("kind=document_front&document_type=passport", testJPEG(t, 3), "image/jpeg")
	if status != 201 || m["index"] != float64(1) {
		t.Fatalf("upload after a leftover object = %d %v, want 201 at index 1", status, m)
	}
}
