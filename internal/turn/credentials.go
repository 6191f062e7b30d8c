// Package turn hands clients TURN servers with short-lived credentials and
// runs the embedded TURN server (pion/turn).
//
// Credentials follow the TURN REST convention that coturn implements as
// use-auth-secret: the username is "<expiry unix seconds>:<participant id>"
// and the password is base64(HMAC-SHA1(secret, username)). The server
// recomputes the password from the username, so it keeps no list of users,
// and a credential is worthless after its expiry.
package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what TURN REST credentials are
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
)

// Credentials returns the username and password of user until expiry under
// secret.
func Credentials(secret, user string, expiry time.Time) (username, password string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + user
	return username, Password(secret, username)
}

// Password is base64(HMAC-SHA1(secret, username)).
func Password(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Errors of CheckUsername.
var (
	ErrBadUsername = errors.New("turn: username is not <expiry>:<user>")
	ErrExpired     = errors.New("turn: credentials expired")
)

// CheckUsername returns the user of a username that has not expired at now.
func CheckUsername(username string, now time.Time) (user string, err error) {
	exp, user, ok := strings.Cut(username, ":")
	if !ok || user == "" {
		return "", ErrBadUsername
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", ErrBadUsername
	}
	if now.Unix() >= t {
		return "", ErrExpired
	}
	return user, nil
}

// ICEServer is one entry of RTCConfiguration.iceServers, as the join
// answer carries it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Issuer hands out TURN servers sharing one secret: the embedded server,
// or an external coturn.
type Issuer struct {
	// URLs are fixed TURN URLs (an external server); when empty, Ports make
	// them on the host of each request.
	URLs []string
	// Host, when set, replaces the request's host in URLs made from Ports.
	Host string
	// Port (turn:, UDP and TCP) and TLSPort (turns:) of the embedded
	// server; 0 when off.
	Port, TLSPort int
	Secret        string
	TTL           time.Duration
	Now           func() time.Time // time.Now when nil
}

// ICEServer returns the TURN server entry for participant, with
// credentials valid for the issuer's TTL. host is the name clients reach
// this node at (the public URL's host, or the request's), used unless the
// issuer has fixed URLs or a Host.
func (i *Issuer) ICEServer(participant, host string) ICEServer {
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	urls := i.URLs
	if len(urls) == 0 {
		if i.Host != "" {
			host = i.Host
		}
		urls = EmbeddedURLs(host, i.Port, i.TLSPort)
	}
	user, pass := Credentials(i.Secret, participant, now().Add(i.TTL))
	return ICEServer{URLs: urls, Username: user, Credential: pass}
}

// EmbeddedURLs are the URLs of a TURN server on host: UDP and TCP on port,
// TLS on tlsPort (each left out when 0).
func EmbeddedURLs(host string, port, tlsPort int) []string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	var urls []string
	if port != 0 {
		hp := net.JoinHostPort(host, strconv.Itoa(port))
		urls = append(urls, "turn:"+hp+"?transport=udp", "turn:"+hp+"?transport=tcp")
	}
	if tlsPort != 0 {
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(tlsPort))+"?transport=tcp")
	}
	return urls
}
