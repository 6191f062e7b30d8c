package metrics

import (
	"runtime/metrics"
	"time"
)

// startTime is when the process started, near enough (package init).
var startTime = time.Now()

// runtimeMetrics are the Go runtime figures exported, with their names in
// the exposition (those of the Prometheus Go client where it has them).
var runtimeMetrics = []struct {
	key, name, typ, help string
}{
	{"/sched/goroutines:goroutines", "go_goroutines", TypeGauge, "Goroutines that currently exist."},
	{"/sched/threads/total:threads", "go_threads", TypeGauge, "OS threads the Go runtime has created and not yet destroyed."},
	{"/sched/gomaxprocs:threads", "go_gomaxprocs", TypeGauge, "GOMAXPROCS: OS threads that may run Go code at once."},
	{"/memory/classes/heap/objects:bytes", "go_memstats_heap_alloc_bytes", TypeGauge, "Bytes of live and not yet swept heap objects."},
	{"/memory/classes/total:bytes", "go_memstats_sys_bytes", TypeGauge, "All memory mapped by the Go runtime."},
	{"/gc/heap/goal:bytes", "go_gc_heap_goal_bytes", TypeGauge, "Heap size target of the current garbage collection cycle."},
	{"/gc/cycles/total:gc-cycles", "go_gc_cycles_total", TypeCounter, "Garbage collection cycles completed."},
	{"/gc/heap/allocs:bytes", "go_gc_heap_allocs_bytes_total", TypeCounter, "Bytes allocated on the heap."},
	{"/cpu/classes/gc/total:cpu-seconds", "go_cpu_gc_seconds_total", TypeCounter, "Estimated CPU time spent by the garbage collector."},
}

// Runtime writes the Go runtime's and the process's figures.
func Runtime(w *Writer) {
	samples := make([]metrics.Sample, len(runtimeMetrics))
	for i, m := range runtimeMetrics {
		samples[i].Name = m.key
	}
	metrics.Read(samples)
	for i, m := range runtimeMetrics {
		var v float64
		switch samples[i].Value.Kind() {
		case metrics.KindUint64:
			v = float64(samples[i].Value.Uint64())
		case metrics.KindFloat64:
			v = samples[i].Value.Float64()
		default:
			continue // not supported by this Go version
		}
		w.Header(m.name, m.typ, m.help)
		w.Sample(m.name, v)
	}
	w.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
		float64(startTime.UnixNano())/1e9)
	process(w)
}
