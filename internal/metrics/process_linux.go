package metrics

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// process writes the process's CPU time, resident memory and file
// descriptors, from getrusage and /proc.
func process(w *Writer) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
		w.Counter("process_cpu_seconds_total", "User and system CPU time of the process, in seconds.", cpu)
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		// size resident shared text lib data dt, in pages
		if f := bytes.Fields(b); len(f) >= 2 {
			if pages, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
				w.Gauge("process_resident_memory_bytes", "Resident memory of the process, in bytes.",
					float64(pages*uint64(os.Getpagesize())))
			}
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, err := d.Readdirnames(-1)
		d.Close()
		if err == nil {
			w.Gauge("process_open_fds", "Open file descriptors (sockets included).", float64(len(names)-1)) // minus the directory itself
		}
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		w.Gauge("process_max_fds", "Limit of open file descriptors.", float64(lim.Cur))
	}
}
