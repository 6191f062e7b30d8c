package turn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v5"
)

func TestCredentialsMatchTURNREST(t *testing.T) {
	exp := time.Unix(1900000000, 0)
	user, pass := Credentials("s3cret", "p1", exp)
	if user != "1900000000:p1" {
		t.Fatalf("username %q", user)
	}
	// What coturn (use-auth-secret) and pion's TURN REST handler compute.
	if want := Password("s3cret", "1900000000:p1"); pass != want {
		t.Fatalf("password %q, want %q", pass, want)
	}
	if p, err := CheckUsername(user, exp.Add(-time.Second)); err != nil || p != "p1" {
		t.Fatalf("CheckUsername before expiry: %q %v", p, err)
	}
	if _, err := CheckUsername(user, exp); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: %v", err)
	}
	for _, bad := range []string{"", "p1", "x:p1", "1900000000:", ":p1"} {
		if _, err := CheckUsername(bad, exp.Add(-time.Hour)); !errors.Is(err, ErrBadUsername) {
			t.Errorf("CheckUsername(%q) = %v", bad, err)
		}
	}
}

func TestIssuer(t *testing.T) {
	now := time.Unix(1800000000, 0)
	i := &Issuer{Port: 3478, TLSPort: 5349, Secret: "k", TTL: time.Hour, Now: func() time.Time { return now }}
	s := i.ICEServer("p1", "mediation.example.org:8443")
	want := []string{"turn:mediation.example.org:3478?transport=udp", "turn:mediation.example.org:3478?transport=tcp",
		"turns:mediation.example.org:5349?transport=tcp"}
	if strings.Join(s.URLs, " ") != strings.Join(want, " ") {
		t.Fatalf("urls %q", s.URLs)
	}
	if s.Username != "1800003600:p1" || s.Credential != Password("k", s.Username) {
		t.Fatalf("%+v", s)
	}
	i.Host = "::1"
	if s := i.ICEServer("p1", "x"); s.URLs[0] != "turn:[::1]:3478?transport=udp" {
		t.Fatalf("ipv6: %q", s.URLs)
	}
	ext := &Issuer{URLs: []string{"turns:turn.example.org:443?transport=tcp"}, Secret: "k", TTL: time.Hour}
	if s := ext.ICEServer("p1", "ignored"); len(s.URLs) != 1 || s.URLs[0] != ext.URLs[0] {
		t.Fatalf("external: %q", s.URLs)
	}
}

// startServer runs the TURN server on loopback in front of a fake media
// port, and returns it with the media socket.
func startServer(t *testing.T, tlsConf *tls.Config) (*Server, net.PacketConn) {
	t.Helper()
	media, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	cfg := Config{ListenIP: "127.0.0.1", Port: -1, RelayIP: net.IPv4(127, 0, 0, 1), MediaIP: net.IPv4(127, 0, 0, 1),
		MediaPort: media.LocalAddr().(*net.UDPAddr).Port, Secret: "secret"}
	if tlsConf != nil {
		cfg.TLSPort, cfg.TLS = -1, tlsConf
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, media
}

// allocate opens a TURN client over conn with the credentials of user.
func allocate(t *testing.T, conn net.PacketConn, server net.Addr, username, password string) (*pionturn.Client, net.PacketConn, error) {
	t.Helper()
	c, err := pionturn.NewClient(&pionturn.ClientConfig{TURNServerAddr: server.String(), STUNServerAddr: server.String(),
		Conn: conn, Username: username, Password: password, Realm: Realm, RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err == nil {
		t.Cleanup(func() { relay.Close() })
	}
	return c, relay, err
}

// exchange sends ping through relay to the media port and pong back, and
// checks both arrive. (The payloads are as long as a STUN message at
// least: pion's stream framing waits for more than 8 bytes.)
func exchange(t *testing.T, relay, media net.PacketConn) {
	t.Helper()
	const ping, pong = "ping from the client", "pong from the media port"
	mediaAddr := media.LocalAddr()
	if _, err := relay.WriteTo([]byte(ping), mediaAddr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = media.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := media.ReadFrom(buf)
	if err != nil || string(buf[:n]) != ping {
		t.Fatalf("media port got %q, %v", buf[:n], err)
	}
	if from.String() != relay.LocalAddr().String() {
		t.Errorf("media port saw the relay as %s, the client was told %s", from, relay.LocalAddr())
	}
	if _, err := media.WriteTo([]byte(pong), from); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err = relay.ReadFrom(buf)
	if err != nil || string(buf[:n]) != pong {
		t.Fatalf("client got %q, %v", buf[:n], err)
	}
	if from.String() != mediaAddr.String() {
		t.Errorf("reply from %s, want %s", from, mediaAddr)
	}
}

func TestRelayReachesTheMediaPortOnly(t *testing.T) {
	s, media := startServer(t, nil)
	udp, tcp, _ := s.Addrs()
	user, pass := Credentials("secret", "p1", time.Now().Add(time.Hour))

	t.Run("udp", func(t *testing.T) {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, relay, err := allocate(t, conn, udp, user, pass)
		if err != nil {
			t.Fatalf("allocate: %v", err)
		}
		exchange(t, relay, media)

		// Another port on the same host, and another host: refused.
		other, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		before := s.Stats().PeerRefused
		_, _ = relay.WriteTo([]byte("escape"), other.LocalAddr())
		_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _, err := other.ReadFrom(make([]byte, 64)); err == nil {
			t.Fatalf("a relay reached a port that is not the media port (%d bytes)", n)
		}
		if err := c.CreatePermission(&net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9}); err == nil {
			t.Error("permission to a foreign address granted")
		}
		if s.Stats().PeerRefused <= before {
			t.Error("refusals not counted")
		}
	})

	t.Run("tcp", func(t *testing.T) {
		tc, err := net.Dial("tcp", tcp.String())
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		_, relay, err := allocate(t, pionturn.NewSTUNConn(tc), tcp, user, pass)
		if err != nil {
			t.Fatalf("allocate over tcp: %v", err)
		}
		exchange(t, relay, media)
	})

	t.Run("bad credentials", func(t *testing.T) {
		for name, cred := range map[string][2]string{
			"wrong password": {user, "AAAA"},
			"expired":        {"1000:p1", Password("secret", "1000:p1")},
		} {
			conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			before := s.Stats().AuthFailures
			if _, _, err := allocate(t, conn, udp, cred[0], cred[1]); err == nil {
				t.Errorf("%s: allocation granted", name)
			}
			if s.Stats().AuthFailures <= before {
				t.Errorf("%s: auth failure not counted", name)
			}
			conn.Close()
		}
	})
	if st := s.Stats(); st.AllocationsTotal < 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestTURNOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	s, media := startServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	_, _, tlsAddr := s.Addrs()
	tc, err := tls.Dial("tcp", tlsAddr.String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	user, pass := Credentials("secret", "p1", time.Now().Add(time.Hour))
	_, relay, err := allocate(t, pionturn.NewSTUNConn(tc), tlsAddr, user, pass)
	if err != nil {
		t.Fatalf("allocate over tls: %v", err)
	}
	exchange(t, relay, media)
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "turn test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
