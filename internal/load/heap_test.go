package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"strings"
	"testing"
)

func TestParseHeapInuse(t *testing.T) {
	profile := "heap profile: 1: 2 [3: 4] @ heap/1048576\n# runtime.MemStats\n# Alloc = 100\n# HeapInuse = 4194304\n# HeapObjects = 7\n"
	if n, err := parseHeapInuse(strings.NewReader(profile)); err != nil || n != 4194304 {
		t.Fatalf("parseHeapInuse = %d, %v", n, err)
	}
	for _, bad := range []string{"", "# HeapInuse = lots\n", "# Alloc = 1\n"} {
		if _, err := parseHeapInuse(strings.NewReader(bad)); err == nil {
			t.Errorf("parseHeapInuse(%q) accepted", bad)
		}
	}
}

// TestReadHeapFromProfiler reads this process's own heap through the
// standard profiler handler, as it reads a node's --debug-addr.
func TestReadHeapFromProfiler(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/heap", func(w http.ResponseWriter, r *http.Request) {
		pprof.Handler("heap").ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	keep := make([]byte, 8<<20)
	n, err := readHeap(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if n < uint64(len(keep)) {
		t.Errorf("heap in use %d bytes, less than the %d this test holds", n, len(keep))
	}
	keep[0] = 1
	if _, err := readHeap(context.Background(), srv.URL+"/nothing-here"); err == nil {
		t.Error("a missing profiler was accepted")
	}
}
