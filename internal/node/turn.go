package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/turn"
)

// openTURN starts the embedded TURN server and makes the issuers of the
// TURN servers handed out in join answers.
func (n *Node) openTURN() error {
	if len(n.cfg.TURNExternal) > 0 {
		n.issuers = append(n.issuers, &turn.Issuer{URLs: n.cfg.TURNExternal, Secret: n.cfg.TURNSecret, TTL: n.cfg.TURNTTL})
	}
	if !n.cfg.EmbeddedTURN() {
		return nil
	}
	secret := n.cfg.TURNSecret
	if secret == "" {
		key, err := auth.LoadKey(filepath.Join(n.cfg.DataDir, "turn.key"))
		if err != nil {
			return fmt.Errorf("node: turn secret: %w", err)
		}
		secret = hex.EncodeToString(key)
	}
	relayIP, err := n.relayIP()
	if err != nil {
		return err
	}
	sc := n.sfuConfig()
	srv, err := turn.Start(turn.Config{
		ListenIP: sc.ListenIP, Port: n.cfg.TURNPort, TLSPort: n.cfg.TURNTLSPort, TLS: n.turnTLS(),
		RelayIP: relayIP, MediaIP: net.ParseIP(n.cfg.PublicIP), MediaPort: n.media.Addrs().UDP.Port,
		Secret: secret, Logger: n.log,
	})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.turn = srv
	n.issuers = append(n.issuers, &turn.Issuer{Host: n.cfg.TURNHost, Port: n.cfg.TURNPort, TLSPort: n.cfg.TURNTLSPort,
		Secret: secret, TTL: n.cfg.TURNTTL})
	return nil
}

// relayIP is --turn-relay-ip, else --public-ip, else the host's first
// non-loopback address (IPv4 first).
func (n *Node) relayIP() (net.IP, error) {
	for _, s := range []string{n.cfg.TURNRelayIP, n.cfg.PublicIP} {
		if ip := net.ParseIP(s); ip != nil {
			return ip, nil
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("node: turn relay address: %w", err)
	}
	var v6 net.IP
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP, nil
		}
		if v6 == nil {
			v6 = ipn.IP
		}
	}
	if v6 != nil {
		return v6, nil
	}
	return nil, errors.New("node: no address for TURN relays: set --turn-relay-ip or --public-ip")
}

// iceServers are the TURN servers of a join answer.
func (n *Node) iceServers(participantID, host string) []turn.ICEServer {
	out := make([]turn.ICEServer, 0, len(n.issuers))
	for _, i := range n.issuers {
		out = append(out, i.ICEServer(participantID, host))
	}
	return out
}
