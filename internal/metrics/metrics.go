// Package metrics serves a node's numbers at GET /metrics in the Prometheus
// text exposition format (version 0.0.4), written by hand: a Registry of
// collect functions that run at scrape time and write their families with
// a Writer, a Histogram for latencies, the Go runtime's and the process's
// figures, a timing wrapper around the record store, and a Handler that
// answers only the addresses it is told to.
//
// Nothing here counts on the media path: the media plane keeps its own
// atomic counters (sfu.Stats), read once per scrape.
package metrics

import (
	"bytes"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Metric types of the exposition format.
const (
	TypeCounter   = "counter"
	TypeGauge     = "gauge"
	TypeHistogram = "histogram"
)

// Writer writes metric families in the text format. Each family is a
// Header followed by its samples, all together: the format wants a
// family's samples contiguous.
type Writer struct {
	b bytes.Buffer
}

// Header starts a family: its HELP and TYPE lines.
func (w *Writer) Header(name, typ, help string) {
	w.b.WriteString("# HELP ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(escapeHelp(help))
	w.b.WriteString("\n# TYPE ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(typ)
	w.b.WriteByte('\n')
}

// Sample writes one sample; labels are name, value pairs.
func (w *Writer) Sample(name string, v float64, labels ...string) {
	w.b.WriteString(name)
	if len(labels) >= 2 {
		w.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(labels[i])
			w.b.WriteString(`="`)
			w.b.WriteString(escapeLabel(labels[i+1]))
			w.b.WriteByte('"')
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(formatFloat(v))
	w.b.WriteByte('\n')
}

// Gauge writes a family of one unlabelled gauge.
func (w *Writer) Gauge(name, help string, v float64) {
	w.Header(name, TypeGauge, help)
	w.Sample(name, v)
}

// Counter writes a family of one unlabelled counter.
func (w *Writer) Counter(name, help string, v float64) {
	w.Header(name, TypeCounter, help)
	w.Sample(name, v)
}

// Bytes returns what was written.
func (w *Writer) Bytes() []byte { return w.b.Bytes() }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

// Registry holds the collect functions of a node, run in order at every
// scrape.
type Registry struct {
	mu      sync.Mutex
	collect []func(*Writer)
}

// Register adds a collect function. It runs at every scrape and must be
// quick: read counters, do not wait.
func (r *Registry) Register(f func(*Writer)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collect = append(r.collect, f)
}

// Gather runs every collect function and returns the exposition.
func (r *Registry) Gather() []byte {
	r.mu.Lock()
	fs := slices.Clone(r.collect)
	r.mu.Unlock()
	var w Writer
	for _, f := range fs {
		f(&w)
	}
	return w.Bytes()
}

// ContentType is the media type of the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves a Registry to the allowed client addresses only.
type Handler struct {
	Registry *Registry
	// Allow are the client addresses answered; the others get 403
	// metrics_forbidden.
	Allow []netip.Prefix
	// ClientIP returns the client's address: the peer's, or the one a
	// trusted proxy names in X-Forwarded-For.
	ClientIP func(*http.Request) string
	// Proxied reports whether the request came through a trusted proxy.
	// A request carrying forwarding headers from a peer that is not a
	// trusted proxy is refused: it is a proxy the node was not told about
	// (which would make every client look like the proxy's own address)
	// or a client forging its address.
	Proxied func(*http.Request) bool
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.allowed(r) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"metrics_forbidden","message":"/metrics is served only to the addresses in --metrics-allow"}}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(h.Registry.Gather())
}

func (h *Handler) allowed(r *http.Request) bool {
	forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != ""
	if forwarded && (h.Proxied == nil || !h.Proxied(r)) {
		return false
	}
	ip := r.RemoteAddr
	if h.ClientIP != nil {
		ip = h.ClientIP(r)
	} else if ap, err := netip.ParseAddrPort(ip); err == nil {
		ip = ap.Addr().String()
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range h.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
