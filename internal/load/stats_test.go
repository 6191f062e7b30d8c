package load

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	if h.Quantile(0.5) != 0 || h.Max() != 0 {
		t.Fatal("empty histogram not zero")
	}
	// 1..10000 µs, uniformly.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for v := w + 1; v <= 10000; v += 4 {
				h.Record(time.Duration(v) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.Count() != 10000 {
		t.Fatalf("count %d", h.Count())
	}
	for _, c := range []struct {
		q    float64
		want float64 // µs
	}{{0.5, 5000}, {0.95, 9500}, {0.99, 9900}, {0.001, 10}, {1, 10000}} {
		got := float64(h.Quantile(c.q) / time.Microsecond)
		if math.Abs(got-c.want)/c.want > 0.02 {
			t.Errorf("q%.3f = %.0f µs, want %.0f ± 2%%", c.q, got, c.want)
		}
	}
	if h.Max() != 10*time.Millisecond {
		t.Errorf("max %v", h.Max())
	}
	h.Record(-time.Second) // clock skew: counts as zero
	if h.Quantile(0) != 0 {
		t.Errorf("q0 %v", h.Quantile(0))
	}
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<40 + 12345, math.MaxUint64} {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Errorf("index(%d) = %d after %d", v, i, prev)
		}
		prev = i
		mid := histValue(i)
		if v >= 64 && math.Abs(float64(mid)-float64(v))/float64(v) > 1.0/64 {
			t.Errorf("value(index(%d)) = %d", v, mid)
		}
		if v < 64 && mid != v {
			t.Errorf("value(index(%d)) = %d", v, mid)
		}
	}
}

func TestSeqTrackerLossAndWrap(t *testing.T) {
	var s seqTracker
	// 65530..65535, 0..9 with 65534 and 3 lost, 5 arriving late after 7.
	for _, q := range []uint16{65530, 65531, 65532, 65533, 65535, 0, 1, 2, 4, 6, 7, 5, 8, 9} {
		s.Add(q)
	}
	if s.Expected() != 16 || s.Lost() != 2 {
		t.Errorf("expected %d lost %d, want 16 and 2", s.Expected(), s.Lost())
	}
	// Several wraps.
	var w seqTracker
	n := 0
	for i := range 200000 {
		if i%1000 == 999 {
			continue // one lost in a thousand
		}
		w.Add(uint16(i + 60000))
		n++
	}
	if w.Expected() != 199999 || w.Lost() != 199 {
		t.Errorf("expected %d lost %d, want 199999 and 199", w.Expected(), w.Lost())
	}
	// A packet from before the first one (reordered start) widens the range.
	var r seqTracker
	for _, q := range []uint16{2, 3, 0, 1} {
		r.Add(q)
	}
	if r.Expected() != 4 || r.Lost() != 0 {
		t.Errorf("reordered start: expected %d lost %d", r.Expected(), r.Lost())
	}
	// Duplicates never make loss negative.
	var d seqTracker
	d.Add(7)
	d.Add(7)
	if d.Lost() != 0 {
		t.Errorf("duplicate: lost %d", d.Lost())
	}
}

func TestProcParsing(t *testing.T) {
	stat := []byte("1234 (kua yang) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 12 0 100 123456 789 18446744073709551615\n")
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 3250*time.Millisecond {
		t.Errorf("cpu %v %v, want 3.25s", cpu, err)
	}
	rss, err := parseStatusRSS([]byte("Name:\tkuayang\nVmPeak:\t  100 kB\nVmRSS:\t   20480 kB\nThreads: 9\n"))
	if err != nil || rss != 20<<20 {
		t.Errorf("rss %d %v", rss, err)
	}
	if _, err := parseStatCPU([]byte("1234 (x) S 1")); err == nil {
		t.Error("short stat parsed")
	}
	if _, err := readProc(0); err == nil {
		t.Error("pid 0 read")
	}
	if _, err := readProc(1 << 30); err == nil {
		t.Error("missing pid read")
	}
}
