package identity

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Verifier checks that the face in the liveness frames is the face on the
// document.
type Verifier interface {
	Verify(ctx context.Context, r Request) (Result, error)
}

// Request is what a verifier is given.
type Request struct {
	// Reference is the identity check's id: the provider's answers by
	// callback may name it.
	Reference    string
	DocumentType string
	Nationality  string
	Document     []Photo // the document's pages or sides
	Faces        []Photo // the liveness frames
	// Decision is the presider's attested decision (verified or
	// rejected), for Manual; an external verifier ignores it.
	Decision string
}

// Photo is one image.
type Photo struct {
	Kind        string `json:"kind"`
	Prompt      string `json:"prompt,omitempty"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"` // base64 in JSON
}

// Result is a verifier's answer.
type Result struct {
	Provider  string   // "manual" or the configured provider's name
	Status    string   // cases.ProviderMatch, ProviderNoMatch or ProviderPending; verified/rejected for Manual
	Score     *float64 // the provider's similarity score, when it gives one
	Reference string   // the provider's reference of the request
}

// MethodManual names the presider's own decision in records and manifests.
const MethodManual = "manual"

// Manual is the built-in verifier: the presider, who saw the document, the
// MRZ and the person, attests the result.
type Manual struct{}

// Verify returns the presider's decision.
func (Manual) Verify(_ context.Context, r Request) (Result, error) {
	if r.Decision != "verified" && r.Decision != "rejected" {
		return Result{}, fmt.Errorf("identity: manual decision %q, want verified or rejected", r.Decision)
	}
	return Result{Provider: MethodManual, Status: r.Decision}, nil
}

// Headers of a signed request, to the provider and from it (callbacks).
const (
	HeaderTimestamp = "X-Kuayang-Timestamp" // Unix seconds
	HeaderSignature = "X-Kuayang-Signature" // hex HMAC-SHA256(secret, timestamp "." body)
)

// Sign returns the signature of body sent at ts with secret.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of CheckSignature.
var (
	ErrSignature = errors.New("identity: missing or wrong signature")
	ErrStale     = errors.New("identity: timestamp outside the accepted window")
)

// CheckSignature checks a signed request's headers against body: the
// signature must be valid and the timestamp within window of now.
func CheckSignature(secret []byte, h http.Header, body []byte, now time.Time, window time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return ErrSignature
	}
	got, err := hex.DecodeString(h.Get(HeaderSignature))
	want, _ := hex.DecodeString(Sign(secret, ts, body))
	if err != nil || !hmac.Equal(got, want) {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(ts, 0)).Abs(); d > window {
		return ErrStale
	}
	return nil
}

// HTTPVerifier asks an external face-verification service over HTTP. The
// request is a JSON POST to URL (see providerRequest), signed with Secret
// (Sign); the answer is JSON {"status", "score", "reference"} where status
// is match, no_match or pending (the result comes later by callback).
type HTTPVerifier struct {
	Name     string // the provider's name in records ("external" when empty)
	URL      string
	Secret   []byte
	Timeout  time.Duration // whole request; 10 s when zero
	Callback string        // URL of the callback route, sent with the request
	Client   *http.Client
	Now      func() time.Time
}

// providerRequest is the body sent to the provider.
type providerRequest struct {
	Reference    string  `json:"reference"`
	CallbackURL  string  `json:"callback_url,omitempty"`
	DocumentType string  `json:"document_type"`
	Nationality  string  `json:"nationality,omitempty"`
	Document     []Photo `json:"document"`
	Faces        []Photo `json:"faces"`
}

// providerAnswer is the provider's answer, and the body of a callback.
type providerAnswer struct {
	Status    string   `json:"status"`
	Score     *float64 `json:"score"`
	Reference string   `json:"reference"`
	Nonce     string   `json:"nonce,omitempty"` // callbacks only
}

// Provider returns the provider's name.
func (v *HTTPVerifier) Provider() string {
	if v.Name == "" {
		return "external"
	}
	return v.Name
}

// Verify sends the request and reads the answer. Any failure (network,
// timeout, a status other than 200, an answer it cannot read) is an error.
func (v *HTTPVerifier) Verify(ctx context.Context, r Request) (Result, error) {
	body, err := json.Marshal(providerRequest{Reference: r.Reference, CallbackURL: v.Callback,
		DocumentType: r.DocumentType, Nationality: r.Nationality, Document: nonNil(r.Document), Faces: nonNil(r.Faces)})
	if err != nil {
		return Result{}, fmt.Errorf("identity: provider request: %w", err)
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("identity: provider request: %w", err)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ts := now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(v.Secret, ts, body))
	client := v.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("identity: provider %s: %w", v.Provider(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Result{}, fmt.Errorf("identity: provider %s: %w", v.Provider(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("identity: provider %s answered %s", v.Provider(), resp.Status)
	}
	a, err := ParseAnswer(b, true)
	if err != nil {
		return Result{}, fmt.Errorf("identity: provider %s: %w", v.Provider(), err)
	}
	return Result{Provider: v.Provider(), Status: a.Status, Score: a.Score, Reference: a.Reference}, nil
}

// Answer is a provider's answer, read by ParseAnswer.
type Answer = providerAnswer

// ParseAnswer reads a provider's answer (pendingOK) or callback (a final
// result: match or no_match, with a nonce).
func ParseAnswer(b []byte, pendingOK bool) (*Answer, error) {
	var a providerAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("unreadable answer: %w", err)
	}
	switch {
	case a.Status == "match" || a.Status == "no_match":
	case a.Status == "pending" && pendingOK:
	default:
		return nil, fmt.Errorf("unknown status %q", a.Status)
	}
	if a.Reference == "" {
		return nil, errors.New("answer without a reference")
	}
	if a.Score != nil && (*a.Score < 0 || *a.Score > 1) {
		return nil, fmt.Errorf("score %v outside 0..1", *a.Score)
	}
	if !pendingOK && a.Nonce == "" {
		return nil, errors.New("callback without a nonce")
	}
	return &a, nil
}

func nonNil(p []Photo) []Photo {
	if p == nil {
		return []Photo{}
	}
	return p
}
