package metrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// checkExposition parses the text format strictly enough to catch what
// Prometheus would refuse: a TYPE per family before its samples, every
// sample of a family together, valid names, label syntax and values.
func checkExposition(t *testing.T, b []byte) map[string]float64 {
	t.Helper()
	name := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*\})? (\S+)$`)
	types := map[string]string{}
	done := map[string]bool{}
	current := ""
	values := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			parts := strings.Fields(f)
			if len(parts) != 2 || !name.MatchString(parts[0]) {
				t.Fatalf("bad TYPE line %q", line)
			}
			if _, dup := types[parts[0]]; dup {
				t.Fatalf("family %s declared twice", parts[0])
			}
			if current != "" {
				done[current] = true
			}
			types[parts[0]], current = parts[1], parts[0]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bad sample line %q", line)
		}
		fam := m[1]
		if types[current] == TypeHistogram {
			fam = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(fam, "_bucket"), "_sum"), "_count")
		}
		if fam != current || done[fam] {
			t.Fatalf("sample %q outside its family (current %q)", line, current)
		}
		var v float64
		switch m[3] {
		case "+Inf":
			v = math.Inf(1)
		case "-Inf":
			v = math.Inf(-1)
		case "NaN":
			v = math.NaN()
		default:
			var err error
			if v, err = parseFloat(m[3]); err != nil {
				t.Fatalf("bad value in %q", line)
			}
		}
		values[m[1]+m[2]] = v
	}
	return values
}

func TestWriterEscapesAndFormats(t *testing.T) {
	var w Writer
	w.Header("x_total", TypeCounter, "a \\ help\nline")
	w.Sample("x_total", 3, "path", `a"b\c`+"\n")
	w.Gauge("y", "inf", math.Inf(1))
	w.Gauge("z", "small", 0.000125)
	got := string(w.Bytes())
	want := "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\n" +
		"x_total{path=\"a\\\"b\\\\c\\n\"} 3\n" +
		"# HELP y inf\n# TYPE y gauge\ny +Inf\n# HELP z small\n# TYPE z gauge\nz 0.000125\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	checkExposition(t, w.Bytes())
}

func TestHistogram(t *testing.T) {
	v := NewHistogramVec("op", []float64{0.01, 0.1, 1})
	for _, x := range []float64{0.005, 0.01, 0.05, 2} {
		v.With("Case").Observe(x)
	}
	v.With("Ping").Observe(0.5)
	var w Writer
	v.Write(&w, "lat_seconds", "latency")
	vals := checkExposition(t, w.Bytes())
	for k, want := range map[string]float64{
		`lat_seconds_bucket{op="Case",le="0.01"}`: 2, // le is inclusive
		`lat_seconds_bucket{op="Case",le="0.1"}`:  3,
		`lat_seconds_bucket{op="Case",le="1"}`:    3,
		`lat_seconds_bucket{op="Case",le="+Inf"}`: 4,
		`lat_seconds_count{op="Case"}`:            4,
		`lat_seconds_sum{op="Case"}`:              2.065,
		`lat_seconds_bucket{op="Ping",le="1"}`:    1,
	} {
		if got, ok := vals[k]; !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
}

func TestMonotonic(t *testing.T) {
	var m Monotonic
	for _, c := range []struct{ in, want uint64 }{{5, 5}, {3, 5}, {9, 9}} {
		if got := m.Value("x", c.in); got != c.want {
			t.Fatalf("Value(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestRuntimeAndRegistry(t *testing.T) {
	r := &Registry{}
	r.Register(func(w *Writer) { w.Gauge("kuayang_test", "a test", 1) })
	r.Register(Runtime)
	vals := checkExposition(t, r.Gather())
	for _, k := range []string{"kuayang_test", "go_goroutines", "go_memstats_heap_alloc_bytes", "process_start_time_seconds"} {
		if _, ok := vals[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	if vals["go_goroutines"] < 1 {
		t.Errorf("go_goroutines %v", vals["go_goroutines"])
	}
}

func TestHandlerServesAllowedAddressesOnly(t *testing.T) {
	r := &Registry{}
	r.Register(func(w *Writer) { w.Gauge("kuayang_rooms", "rooms", 2) })
	proxy := netip.MustParseAddr("10.0.0.5")
	h := &Handler{Registry: r, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")},
		ClientIP: func(req *http.Request) string {
			if ap := netip.MustParseAddrPort(req.RemoteAddr); ap.Addr() == proxy {
				return strings.TrimSpace(req.Header.Get("X-Forwarded-For"))
			}
			return netip.MustParseAddrPort(req.RemoteAddr).Addr().String()
		},
		Proxied: func(req *http.Request) bool { return netip.MustParseAddrPort(req.RemoteAddr).Addr() == proxy },
	}
	for _, c := range []struct {
		name, remote, xff string
		want              int
	}{
		{"loopback", "127.0.0.1:5000", "", 200},
		{"allowed network", "192.0.2.7:5000", "", 200},
		{"elsewhere", "203.0.113.9:5000", "", 403},
		{"through the trusted proxy, from an allowed address", "10.0.0.5:5000", "192.0.2.8", 200},
		{"through the trusted proxy, from elsewhere", "10.0.0.5:5000", "203.0.113.9", 403},
		{"through a proxy nobody trusts, on loopback", "127.0.0.1:5000", "203.0.113.9", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.RemoteAddr = c.remote
			if c.xff != "" {
				req.Header.Set("X-Forwarded-For", c.xff)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d", rec.Code, c.want)
			}
			if c.want == 200 {
				if ct := rec.Header().Get("Content-Type"); ct != ContentType {
					t.Errorf("content type %q", ct)
				}
				if !strings.Contains(rec.Body.String(), "kuayang_rooms 2\n") {
					t.Errorf("body %q", rec.Body.String())
				}
			} else if !strings.Contains(rec.Body.String(), `"code":"metrics_forbidden"`) {
				t.Errorf("body %q", rec.Body.String())
			}
		})
	}
}

// fakeStore fails Case with a real error and Session with ErrNotFound.
type fakeStore struct{ store.Store }

func (fakeStore) Case(context.Context, string) (*cases.Case, error) {
	return nil, errors.New("disk on fire")
}
func (fakeStore) Session(context.Context, string) (*cases.Session, error) {
	return nil, store.ErrNotFound
}

func TestStoreTimesCallsAndCountsFailures(t *testing.T) {
	s := NewStore(fakeStore{})
	ctx := context.Background()
	_, _ = s.Case(ctx, "x")
	_, _ = s.Case(ctx, "y")
	_, _ = s.Session(ctx, "z")
	var w Writer
	s.Write(&w)
	vals := checkExposition(t, w.Bytes())
	if vals[`kuayang_store_duration_seconds_count{op="Case"}`] != 2 || vals[`kuayang_store_duration_seconds_count{op="Session"}`] != 1 {
		t.Errorf("counts: %v", vals)
	}
	if vals[`kuayang_store_errors_total{op="Case"}`] != 2 {
		t.Errorf("errors: %v", vals)
	}
	if _, ok := vals[`kuayang_store_errors_total{op="Session"}`]; ok {
		t.Error("ErrNotFound counted as a failure")
	}
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
