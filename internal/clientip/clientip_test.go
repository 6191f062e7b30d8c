package clientip

import (
	"net/http"
	"testing"
)

func TestIP(t *testing.T) {
	r, err := New([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"direct ignores header", "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"through proxy", "127.0.0.1:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"forged left hop", "127.0.0.1:4000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"two proxies", "127.0.0.1:4000", []string{"198.51.100.7, 10.1.2.3"}, "198.51.100.7"},
		{"two headers", "127.0.0.1:4000", []string{"198.51.100.7", "10.1.2.3"}, "198.51.100.7"},
		{"proxy without header", "127.0.0.1:4000", nil, "127.0.0.1"},
		{"garbage hop", "127.0.0.1:4000", []string{"nonsense"}, "127.0.0.1"},
		{"ipv6", "[2001:db8::1]:4000", nil, "2001:db8::1"},
		{"mapped", "[::ffff:127.0.0.1]:4000", []string{"198.51.100.9"}, "198.51.100.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := r.IP(req); got != tt.want {
				t.Fatalf("IP = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := New([]string{"not-an-ip"}); err == nil {
		t.Fatal("bad proxy accepted")
	}
	var none *Resolver
	if got := none.IP(&http.Request{RemoteAddr: "127.0.0.1:1", Header: http.Header{"X-Forwarded-For": {"9.9.9.9"}}}); got != "127.0.0.1" {
		t.Fatal(got)
	}
}

func TestProxied(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for remote, want := range map[string]bool{"127.0.0.1:1": true, "10.2.3.4:1": true, "[::ffff:10.2.3.4]:1": true,
		"192.0.2.1:1": false, "garbage": false} {
		if got := r.Proxied(&http.Request{RemoteAddr: remote}); got != want {
			t.Errorf("Proxied(%s) = %v, want %v", remote, got, want)
		}
	}
	var none *Resolver
	if none.Proxied(&http.Request{RemoteAddr: "127.0.0.1:1"}) {
		t.Error("a nil resolver trusts a proxy")
	}
}
