// common.go -- what the Go programs of the benchmark suite share: the
// RESULT line, pause sampling, resource usage and the latency histogram,
// matching bench/suite/suite.c field for field.
//
// Pauses: the runtime keeps the stop-the-world time of the last 256
// cycles in a ring (MemStats.PauseNs; cycle k, counted from 1, at index
// (k-1)%256; the entry is the sum of the cycle's stops, like tricolor's).
// A sampling goroutine reads it every sampleEvery with debug.ReadGCStats,
// which takes the heap lock but does not stop the world (ReadMemStats
// does), and keeps every cycle's entry; cycles that fell out of the ring
// between two reads count as lost.  At the end runtime.ReadMemStats gives
// NumGC and the last entries.
//
// The programs are built with a plain `go build` (see bench/suite.mk) and
// run with the runtime's defaults: GOGC=100, GOMAXPROCS = the CPU count.
package main

import (
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

const sampleEvery = 20 * time.Millisecond

var startTime = time.Now()

// prog names the program in messages; each main sets it.
var prog = "suite"

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", prog, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// ---- Pauses -------------------------------------------------------------

type pauseSampler struct {
	mu        sync.Mutex
	harvested uint32   // cycles read so far
	pauses    []uint64 // ns, one per cycle
	lost      uint64
	stop      chan struct{}
	done      chan struct{}
}

// take records the cycles harvested+1 .. numGC; pauseOf(k) gives cycle k's
// pause if the ring still holds it.
func (s *pauseSampler) take(numGC uint32, pauseOf func(k uint32) (uint64, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := s.harvested + 1; k <= numGC; k++ {
		if p, ok := pauseOf(k); ok {
			s.pauses = append(s.pauses, p)
		} else {
			s.lost++
		}
	}
	if numGC > s.harvested {
		s.harvested = numGC
	}
}

func startSampler() *pauseSampler {
	s := &pauseSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		var st debug.GCStats
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			debug.ReadGCStats(&st) // st.Pause[0] is the newest cycle, st.NumGC's
			n := uint32(st.NumGC)
			s.take(n, func(k uint32) (uint64, bool) {
				i := int(n - k)
				if i < len(st.Pause) {
					return uint64(st.Pause[i]), true
				}
				return 0, false
			})
		}
	}()
	return s
}

// finish stops the sampler and harvests the rest from ReadMemStats.
func (s *pauseSampler) finish() (numGC uint32, pauses []uint64, lost uint64) {
	close(s.stop)
	<-s.done
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.take(ms.NumGC, func(k uint32) (uint64, bool) {
		if ms.NumGC-k < 256 {
			return ms.PauseNs[(k-1)%256], true
		}
		return 0, false
	})
	return ms.NumGC, s.pauses, s.lost
}

// ---- Resources ------------------------------------------------------------

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// peakRSSMiB is VmHWM from /proc/self/status, as in suite.c (ru_maxrss
// carries the parent's peak over execve on Linux), ru_maxrss if missing.
func peakRSSMiB() float64 {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			var kib int64
			if n, _ := fmt.Sscanf(line, "VmHWM: %d kB", &kib); n == 1 {
				return float64(kib) / 1024
			}
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

// ---- RESULT ---------------------------------------------------------------

func nearestRank(sorted []uint64, q float64) uint64 {
	want := q * float64(len(sorted))
	rank := int(want)
	if float64(rank) < want {
		rank++
	}
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// resultBegin prints the common fields of the RESULT line, without the
// newline (see bench/suite/suite.h).
func resultBegin(bench string, threads int, s *pauseSampler) {
	wall := time.Since(startTime).Seconds()
	numGC, pauses, lost := s.finish()
	sort.Slice(pauses, func(i, j int) bool { return pauses[i] < pauses[j] })
	var max, total uint64
	for _, p := range pauses {
		total += p
		if p > max {
			max = p
		}
	}
	fmt.Printf("RESULT bench=%s system=go threads=%d wall_s=%.3f cpu_s=%.3f rss_mib=%.1f",
		bench, threads, wall, cpuSeconds(), peakRSSMiB())
	fmt.Printf(" gcs=%d pauses=%d pauses_lost=%d pause_max_ms=%.3f", numGC, len(pauses), lost, float64(max)/1e6)
	if len(pauses) > 0 {
		fmt.Printf(" pause_p99_ms=%.3f pause_p50_ms=%.3f",
			float64(nearestRank(pauses, 0.99))/1e6, float64(nearestRank(pauses, 0.50))/1e6)
	} else {
		fmt.Printf(" pause_p99_ms=na pause_p50_ms=na")
	}
	fmt.Printf(" pause_total_ms=%.3f check=ok", float64(total)/1e6)
}

// ---- Latency histogram (the buckets of suite.c) ---------------------------

const (
	histSubBits = 6
	histExact   = 2 << histSubBits
	histBuckets = histExact + (64-histSubBits-1)*(1<<histSubBits)
)

type histogram struct {
	n, max, over1ms uint64
	count           [histBuckets]uint64
}

func bucketOf(v uint64) int {
	if v < histExact {
		return int(v)
	}
	e := 63 - bits.LeadingZeros64(v)
	sub := int(v>>(e-histSubBits)) - (1 << histSubBits)
	return histExact + (e-histSubBits-1)*(1<<histSubBits) + sub
}

func bucketMid(b int) float64 {
	if b < histExact {
		return float64(b)
	}
	k := b - histExact
	e := k/(1<<histSubBits) + histSubBits + 1
	m := uint64(1<<histSubBits + k%(1<<histSubBits))
	width := uint64(1) << (e - histSubBits)
	return float64(m*width) + float64(width-1)/2
}

func (h *histogram) add(ns uint64) {
	h.count[bucketOf(ns)]++
	h.n++
	if ns > h.max {
		h.max = ns
	}
	if ns > 1000000 {
		h.over1ms++
	}
}

func (h *histogram) percentile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	want := q * float64(h.n)
	var seen uint64
	for b := 0; b < histBuckets; b++ {
		seen += h.count[b]
		if float64(seen) >= want && seen > 0 {
			v := bucketMid(b)
			if v > float64(h.max) {
				v = float64(h.max)
			}
			return v
		}
	}
	return float64(h.max)
}
