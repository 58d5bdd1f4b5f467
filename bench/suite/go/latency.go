// latency.go -- the latency workload in Go: the algorithm of
// bench/suite/latency.c, step for step (see its header comment).  The
// table is one slice of pointers; runtime.GC() stands for sys_collect
// after the build; each replacement is timed with two time.Now() calls
// (monotonic clock, through the vDSO like clock_gettime).
//
//	latency_go [--live-mib N] [--ops N]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"
)

const (
	chain        = 2
	payloadWords = 14
	tagKey       = 0x2545f4914f6cdd1d
)

type lnode struct {
	next    *lnode
	tag     uint64
	payload [payloadWords]uint64
}

func nodeTag(slot uint64, pos int) uint64 { return (slot*chain + uint64(pos)) * tagKey }

func newChain(slot uint64) *lnode {
	var head *lnode
	for pos := chain - 1; pos >= 0; pos-- {
		n := &lnode{next: head, tag: nodeTag(slot, pos)}
		for k := 0; k < payloadWords; k++ {
			n.payload[k] = slot*16 + uint64(k)
		}
		head = n
	}
	return head
}

func chainOK(n *lnode, slot uint64) bool {
	for pos := 0; pos < chain; pos++ {
		if n == nil || n.tag != nodeTag(slot, pos) || n.payload[0] != slot*16 ||
			n.payload[payloadWords-1] != slot*16+payloadWords-1 {
			return false
		}
		n = n.next
	}
	return n == nil
}

func main() {
	prog = "latency_go"
	liveMiB := flag.Int64("live-mib", 1024, "live heap, MiB")
	ops := flag.Int64("ops", 10000000, "replacements")
	flag.Parse()
	if flag.NArg() != 0 || *liveMiB < 1 || *liveMiB > 65536 || *ops < 1 {
		flag.Usage()
		os.Exit(2)
	}
	sampler := startSampler()
	nodeSize := uint64(unsafe.Sizeof(lnode{}))
	nslots := uint64(*liveMiB) * (1 << 20) / (chain * nodeSize)
	fmt.Printf("latency on go: %d MiB live (%d slots x %d nodes of %d B), %d replacements\n",
		*liveMiB, nslots, chain, nodeSize, *ops)
	h := new(histogram)

	b0 := time.Now()
	table := make([]*lnode, nslots)
	for s := uint64(0); s < nslots; s++ {
		table[s] = newChain(s)
	}
	runtime.GC()

	r0 := time.Now()
	seed, bad := uint64(0x9e3779b97f4a7c15), uint64(0)
	for i := int64(0); i < *ops; i++ {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		s := seed % nslots
		if !chainOK(table[s], s) {
			bad++
		}
		t0 := time.Now()
		table[s] = newChain(s)
		h.add(uint64(time.Since(t0)))
	}
	r1 := time.Now()

	for s := uint64(0); s < nslots; s++ {
		if !chainOK(table[s], s) {
			bad++
		}
	}
	if bad != 0 {
		die("%d damaged chains: live objects were freed or overwritten", bad)
	}

	resultBegin("latency", 1, sampler)
	fmt.Printf(" live_mib=%d ops=%d build_s=%.3f run_s=%.3f op_p50_us=%.3f op_p99_us=%.3f"+
		" op_p999_us=%.3f op_max_ms=%.3f ops_over_1ms=%d\n",
		*liveMiB, *ops, r0.Sub(b0).Seconds(), r1.Sub(r0).Seconds(),
		h.percentile(0.50)/1e3, h.percentile(0.99)/1e3, h.percentile(0.999)/1e3,
		float64(h.max)/1e6, h.over1ms)
	runtime.KeepAlive(table)
}
