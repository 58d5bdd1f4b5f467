// binarytrees.go -- binary-trees (the Benchmarks Game algorithm) in Go: the
// algorithm of bench/suite/binarytrees.c, step for step (see its header
// comment).  With --threads T, T goroutines share the short-lived trees,
// goroutine w building the trees whose index i has i % T == w; the
// runtime runs them on GOMAXPROCS threads (the CPU count).
//
//	binarytrees_go [--depth N] [--threads T]
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
)

const minDepth = 4

type tnode struct {
	left, right *tnode
}

func bottomUpTree(depth int) *tnode {
	var left, right *tnode
	if depth > 0 {
		left = bottomUpTree(depth - 1)
		right = bottomUpTree(depth - 1)
	}
	return &tnode{left: left, right: right}
}

func itemCheck(n *tnode) uint64 {
	if n.left == nil {
		return 1
	}
	return 1 + itemCheck(n.left) + itemCheck(n.right)
}

func treeNodes(depth int) uint64 { return (uint64(1) << uint(depth+1)) - 1 }

func iterationsAt(depth, maxDepth int) uint64 { return uint64(1) << uint(maxDepth-depth+minDepth) }

func churn(depth int, iterations, first, step uint64) uint64 {
	var check uint64
	for i := first; i < iterations; i += step {
		check += itemCheck(bottomUpTree(depth))
	}
	return check
}

func main() {
	prog = "binarytrees_go"
	maxDepth := flag.Int("depth", 21, "maximum depth")
	threads := flag.Int("threads", 1, "goroutines building the short-lived trees")
	flag.Parse()
	if flag.NArg() != 0 || *maxDepth < minDepth+2 || *maxDepth > 28 || *threads < 1 || *threads > 64 {
		flag.Usage()
		os.Exit(2)
	}
	sampler := startSampler()
	failed := false

	c := itemCheck(bottomUpTree(*maxDepth + 1))
	fmt.Printf("stretch tree of depth %d\t check: %d\n", *maxDepth+1, c)
	failed = failed || c != treeNodes(*maxDepth+1)

	longLived := bottomUpTree(*maxDepth)

	check := make([]uint64, 32)
	if *threads == 1 {
		for d := minDepth; d <= *maxDepth; d += 2 {
			check[d] = churn(d, iterationsAt(d, *maxDepth), 0, 1)
		}
	} else {
		per := make([][]uint64, *threads)
		var wg sync.WaitGroup
		for t := 0; t < *threads; t++ {
			per[t] = make([]uint64, 32)
			wg.Add(1)
			go func(t int) {
				defer wg.Done()
				for d := minDepth; d <= *maxDepth; d += 2 {
					per[t][d] = churn(d, iterationsAt(d, *maxDepth), uint64(t), uint64(*threads))
				}
			}(t)
		}
		wg.Wait()
		for t := range per {
			for d := minDepth; d <= *maxDepth; d += 2 {
				check[d] += per[t][d]
			}
		}
	}
	for d := minDepth; d <= *maxDepth; d += 2 {
		iters := iterationsAt(d, *maxDepth)
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iters, d, check[d])
		failed = failed || check[d] != iters*treeNodes(d)
	}

	c = itemCheck(longLived)
	fmt.Printf("long lived tree of depth %d\t check: %d\n", *maxDepth, c)
	failed = failed || c != treeNodes(*maxDepth)
	if failed {
		die("a check differs from the exact node count")
	}

	resultBegin("binarytrees", *threads, sampler)
	fmt.Printf(" depth=%d\n", *maxDepth)
}
