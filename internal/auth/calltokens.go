package auth

import "time"

// CallClaims is what a call token grants: requests over HTTP on behalf of
// one participant of one session until Expires.
type CallClaims struct {
	SessionID     string `json:"s"`
	ParticipantID string `json:"p"`
	Expires       int64  `json:"e"` // unix seconds
}

// CallTokens mints and checks call tokens: what a participant in a call,
// who has no staff login, shows to the HTTP routes the call page uses
// (uploading a document or identity images, fetching a shared document).
// The signaling server hands one out with joined and resumed. Unlike join
// tokens they are not single-use: a page makes many requests. They are
// HMAC-SHA256 signed with the node's key (a domain of their own: a join
// token is never a call token) and expire; the routes that take them also
// check that the participant and the session still allow what is asked.
type CallTokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewCallTokens returns a CallTokens signing with key; tokens live ttl.
func NewCallTokens(key []byte, ttl time.Duration) *CallTokens {
	return &CallTokens{key: key, ttl: ttl, now: time.Now}
}

const callPrefix = "kc1."

// Mint returns a token for participant pid of session sid and its expiry.
func (c *CallTokens) Mint(sid, pid string) (string, time.Time) {
	exp := c.now().Add(c.ttl).Truncate(time.Second)
	return sealClaims(c.key, callPrefix, CallClaims{SessionID: sid, ParticipantID: pid, Expires: exp.Unix()}), exp
}

// Check verifies a token: ErrTokenInvalid if it is not one of ours,
// ErrTokenExpired if its time has passed.
func (c *CallTokens) Check(tok string) (CallClaims, error) {
	var cl CallClaims
	if !openClaims(c.key, callPrefix, tok, &cl) || cl.SessionID == "" || cl.ParticipantID == "" {
		return CallClaims{}, ErrTokenInvalid
	}
	if !c.now().Before(time.Unix(cl.Expires, 0)) {
		return cl, ErrTokenExpired
	}
	return cl, nil
}
