package tsa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// Client asks a timestamp authority for tokens over HTTP (RFC 3161
// section 3.4). The zero HTTP uses http.DefaultClient; the zero Timeout
// is 10 s. Requests are not signed: authorities that require a client
// certificate get it from HTTP's TLS configuration.
type Client struct {
	URL     string
	HTTP    *http.Client
	Timeout time.Duration
}

var _ Stamper = (*Client)(nil)

// maxResponse bounds what is read of an answer: tokens are a few KiB.
const maxResponse = 1 << 20

// Stamp asks the authority to stamp a SHA-256 digest and returns the
// token (the TimeStampToken's DER). The request carries a random nonce
// and asks for the authority's certificate in the token (certReq), so
// that the token can be checked offline. The answer must grant it, carry
// the nonce and the digest, and be well signed (Verify without roots):
// errors are *Error with a Code* code.
func (c *Client) Stamp(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, errorf(CodeBadRequest, nil, fmt.Sprintf("a SHA-256 digest has 32 bytes, not %d", len(digest)))
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("tsa: nonce: %w", err)
	}
	req, err := asn1.Marshal(timeStampReq{Version: 1, Nonce: nonce, CertReq: true,
		MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256}, HashedMessage: digest}})
	if err != nil {
		return nil, fmt.Errorf("tsa: request: %w", err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return nil, errorf(CodeUnavailable, err, fmt.Sprintf("request to %s: %v", c.URL, err))
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, errorf(CodeUnavailable, err, fmt.Sprintf("%s does not answer: %v", c.URL, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, errorf(CodeUnavailable, err, fmt.Sprintf("reading the answer of %s: %v", c.URL, err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorf(CodeUnavailable, nil, fmt.Sprintf("%s answered HTTP %s", c.URL, resp.Status))
	}
	if len(body) > maxResponse {
		return nil, errorf(CodeBadResponse, nil, fmt.Sprintf("the answer of %s is larger than %d bytes", c.URL, maxResponse))
	}
	token, err := ParseResponse(body)
	if err != nil {
		return nil, err
	}
	info, err := Verify(token, digest, nil)
	if err != nil {
		return nil, err
	}
	if info.Nonce == nil || info.Nonce.Cmp(nonce) != 0 {
		return nil, errorf(CodeNonceMismatch, nil, fmt.Sprintf("the token of %s does not carry the request's nonce: it answers another request", c.URL))
	}
	return token, nil
}

// ParseResponse decodes a TimeStampResp and returns its token when the
// status is granted or grantedWithMods; otherwise a CodeRejected error
// says the status, its text and failure reasons.
func ParseResponse(der []byte) ([]byte, error) {
	var r timeStampResp
	if rest, err := asn1.Unmarshal(der, &r); err != nil || len(rest) > 0 {
		return nil, errorf(CodeBadResponse, err, "the answer is not a TimeStampResp")
	}
	if r.Status.Status != StatusGranted && r.Status.Status != StatusGrantedWithMods {
		return nil, errorf(CodeRejected, nil, statusText(r.Status))
	}
	if r.TimeStampToken.FullBytes == nil {
		return nil, errorf(CodeBadResponse, nil, "the answer grants the request but holds no token")
	}
	return r.TimeStampToken.FullBytes, nil
}

// statusText says a refusal in words: "rejection (badAlg): text".
func statusText(s pkiStatusInfo) string {
	names := []string{"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"}
	out := fmt.Sprintf("status %d", s.Status)
	if s.Status >= 0 && s.Status < len(names) {
		out = names[s.Status]
	}
	fails := map[int]string{0: "badAlg", 2: "badRequest", 5: "badDataFormat", 14: "timeNotAvailable",
		15: "unacceptedPolicy", 16: "unacceptedExtension", 17: "addInfoNotAvailable", 25: "systemFailure"}
	var reasons []string
	for i := 0; i < s.FailInfo.BitLength; i++ {
		if s.FailInfo.At(i) == 1 {
			if n, ok := fails[i]; ok {
				reasons = append(reasons, n)
			} else {
				reasons = append(reasons, fmt.Sprintf("failure bit %d", i))
			}
		}
	}
	if len(reasons) > 0 {
		out += " (" + strings.Join(reasons, ", ") + ")"
	}
	var text []string
	for _, t := range s.StatusString {
		text = append(text, string(t.Bytes))
	}
	if len(text) > 0 {
		out += ": " + strings.Join(text, "; ")
	}
	return out
}

// IsCode reports whether err is an *Error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
