package metrics

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// LatencyBuckets are the upper bounds, in seconds, of the latency
// histograms: 0.5 ms to 5 s.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Histogram counts observations in buckets. Safe for concurrent use; a
// scrape sees a consistent snapshot.
type Histogram struct {
	bounds []float64 // ascending upper bounds, without +Inf

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
}

// NewHistogram returns a histogram with the given ascending upper bounds.
func NewHistogram(bounds []float64) *Histogram {
	b := slices.Clone(bounds)
	sort.Float64s(b)
	return &Histogram{bounds: b, counts: make([]uint64, len(b)+1)}
}

// Observe adds one observation.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.mu.Unlock()
}

// write writes the histogram's samples (buckets, sum, count) with labels.
func (h *Histogram) write(w *Writer, name string, labels ...string) {
	h.mu.Lock()
	counts := slices.Clone(h.counts)
	sum := h.sum
	h.mu.Unlock()
	var cum uint64
	le := append(slices.Clone(labels), "le", "")
	for i, b := range h.bounds {
		cum += counts[i]
		le[len(le)-1] = formatFloat(b)
		w.Sample(name+"_bucket", float64(cum), le...)
	}
	cum += counts[len(counts)-1]
	le[len(le)-1] = "+Inf"
	w.Sample(name+"_bucket", float64(cum), le...)
	w.Sample(name+"_sum", sum, labels...)
	w.Sample(name+"_count", float64(cum), labels...)
}

// Write writes the histogram as a family of its own.
func (h *Histogram) Write(w *Writer, name, help string) {
	w.Header(name, TypeHistogram, help)
	h.write(w, name)
}

// HistogramVec is a histogram per value of one label, made on first use.
type HistogramVec struct {
	label  string
	bounds []float64

	mu sync.RWMutex
	m  map[string]*Histogram
}

// NewHistogramVec returns histograms labelled label with the given bounds.
func NewHistogramVec(label string, bounds []float64) *HistogramVec {
	return &HistogramVec{label: label, bounds: bounds, m: map[string]*Histogram{}}
}

// With returns the histogram of one label value.
func (v *HistogramVec) With(value string) *Histogram {
	v.mu.RLock()
	h := v.m[value]
	v.mu.RUnlock()
	if h != nil {
		return h
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if h = v.m[value]; h == nil {
		h = NewHistogram(v.bounds)
		v.m[value] = h
	}
	return h
}

// Write writes the family, label values in order. A family with no
// observation yet writes only its header.
func (v *HistogramVec) Write(w *Writer, name, help string) {
	w.Header(name, TypeHistogram, help)
	v.mu.RLock()
	keys := make([]string, 0, len(v.m))
	for k := range v.m {
		keys = append(keys, k)
	}
	v.mu.RUnlock()
	sort.Strings(keys)
	for _, k := range keys {
		v.With(k).write(w, name, v.label, k)
	}
}

// CounterVec is a counter per value of one label, made on first use.
type CounterVec struct {
	label string

	mu sync.RWMutex
	m  map[string]*atomic.Uint64
}

// NewCounterVec returns counters labelled label.
func NewCounterVec(label string) *CounterVec {
	return &CounterVec{label: label, m: map[string]*atomic.Uint64{}}
}

// Add adds n to the counter of one label value.
func (v *CounterVec) Add(value string, n uint64) {
	v.mu.RLock()
	c := v.m[value]
	v.mu.RUnlock()
	if c == nil {
		v.mu.Lock()
		if c = v.m[value]; c == nil {
			c = new(atomic.Uint64)
			v.m[value] = c
		}
		v.mu.Unlock()
	}
	c.Add(n)
}

// Write writes the family, label values in order.
func (v *CounterVec) Write(w *Writer, name, help string) {
	w.Header(name, TypeCounter, help)
	v.mu.RLock()
	keys := make([]string, 0, len(v.m))
	for k := range v.m {
		keys = append(keys, k)
	}
	v.mu.RUnlock()
	sort.Strings(keys)
	for _, k := range keys {
		v.mu.RLock()
		n := v.m[k].Load()
		v.mu.RUnlock()
		w.Sample(name, float64(n), v.label, k)
	}
}

// Monotonic keeps counters read from elsewhere from going backwards
// between scrapes: a total that is the sum of live and retired parts can
// dip for an instant while a part moves from one to the other, and a
// Prometheus counter that goes down reads as a restart.
type Monotonic struct {
	mu   sync.Mutex
	last map[string]uint64
}

// Value returns max(v, the last value returned for name).
func (m *Monotonic) Value(name string, v uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]uint64{}
	}
	if v < m.last[name] {
		return m.last[name]
	}
	m.last[name] = v
	return v
}
