// Package clientip finds the address of the person behind a request. The
// peer address is used unless it is a trusted reverse proxy, in which case
// X-Forwarded-For is read from the right, skipping trusted proxies, so that
// a client cannot forge its address by sending the header itself.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses. The zero value trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver trusting the given proxies (CIDRs or addresses).
func New(proxies []string) (*Resolver, error) {
	r := &Resolver{}
	for _, p := range proxies {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", p, err)
			}
			r.trusted = append(r.trusted, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", p, err)
		}
		r.trusted = append(r.trusted, pre.Masked())
	}
	return r, nil
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Proxied reports whether req's peer is a trusted proxy, whose
// X-Forwarded-For IP believes.
func (r *Resolver) Proxied(req *http.Request) bool {
	peer, err := netip.ParseAddrPort(req.RemoteAddr)
	return err == nil && r != nil && r.isTrusted(peer.Addr())
}

// IP returns the client address of req, without port.
func (r *Resolver) IP(req *http.Request) string {
	peer, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		return strings.Trim(req.RemoteAddr, "[]")
	}
	addr := peer.Addr().Unmap()
	if r == nil || !r.isTrusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop at the last address we trust
		}
		addr = h.Unmap()
		if !r.isTrusted(addr) {
			break
		}
	}
	return addr.String()
}
