// gcbench.go -- GCBench (Ellis, Kovac, Boehm) in Go: the algorithm of
// bench/suite/gcbench.c, step for step (see its header comment for what
// it measures and how results are verified).  The runtime collects; the
// program only drops its references.
//
//	gcbench_go [--reps N] [--stretch-depth N] [--long-depth N]
//	           [--min-depth N] [--max-depth N] [--array N]
package main

import (
	"flag"
	"fmt"
	"os"
)

type gnode struct {
	left, right *gnode
	i, j        int32 // i: the node's height (leaves 0); j: unused, as in GCBench
}

var nodesMade uint64

func newNode(left, right *gnode, height int) *gnode {
	nodesMade++
	return &gnode{left: left, right: right, i: int32(height)}
}

func treeSize(depth int) uint64 { return (uint64(1) << uint(depth+1)) - 1 }

func populate(depth int, node *gnode) {
	if depth <= 0 {
		return
	}
	depth--
	node.left = newNode(nil, nil, depth)
	node.right = newNode(nil, nil, depth)
	populate(depth, node.left)
	populate(depth, node.right)
}

func makeTree(depth int) *gnode {
	if depth <= 0 {
		return newNode(nil, nil, 0)
	}
	left := makeTree(depth - 1)
	right := makeTree(depth - 1)
	return newNode(left, right, depth)
}

func checkTree(n *gnode, height int) uint64 {
	if n == nil || int(n.i) != height || n.j != 0 {
		return 0
	}
	if height == 0 {
		if n.left == nil && n.right == nil {
			return 1
		}
		return 0
	}
	l, r := checkTree(n.left, height-1), checkTree(n.right, height-1)
	if l == 0 || r == 0 {
		return 0
	}
	return 1 + l + r
}

func expectTree(t *gnode, depth int, what string) {
	if checkTree(t, depth) != treeSize(depth) {
		die("%s of depth %d is damaged", what, depth)
	}
}

func numIters(depth, stretchDepth int) uint64 {
	return 2 * treeSize(stretchDepth) / treeSize(depth)
}

func timeConstruction(depth, stretchDepth int) {
	iters := numIters(depth, stretchDepth)
	for k := uint64(0); k < iters; k++ {
		t := newNode(nil, nil, depth)
		populate(depth, t)
		if k == iters-1 {
			expectTree(t, depth, "top-down tree")
		}
	}
	for k := uint64(0); k < iters; k++ {
		t := makeTree(depth)
		if k == iters-1 {
			expectTree(t, depth, "bottom-up tree")
		}
	}
}

func main() {
	prog = "gcbench_go"
	reps := flag.Int("reps", 1, "times the short-lived depth loop runs")
	stretchDepth := flag.Int("stretch-depth", 18, "depth of the stretch tree")
	longDepth := flag.Int("long-depth", 16, "depth of the long-lived tree")
	minDepth := flag.Int("min-depth", 4, "smallest short-lived depth")
	maxDepth := flag.Int("max-depth", 16, "largest short-lived depth (step 2)")
	arraySize := flag.Int("array", 500000, "doubles in the long-lived array")
	flag.Parse()
	if flag.NArg() != 0 || *reps < 1 || *minDepth < 1 || *minDepth > *maxDepth ||
		*maxDepth > *stretchDepth || *stretchDepth > 30 || *longDepth < 1 || *longDepth > 30 ||
		*arraySize < 2002 {
		flag.Usage()
		os.Exit(2)
	}
	sampler := startSampler()
	fmt.Printf("gcbench on go: stretch depth %d, long-lived depth %d, array %d, depths %d..%d x %d\n",
		*stretchDepth, *longDepth, *arraySize, *minDepth, *maxDepth, *reps)

	stretch := makeTree(*stretchDepth)
	expectTree(stretch, *stretchDepth, "stretch tree")
	stretch = nil

	longLived := newNode(nil, nil, *longDepth)
	populate(*longDepth, longLived)
	array := make([]float64, *arraySize)
	for k := 1; k < *arraySize/2; k++ {
		array[k] = 1.0 / float64(k)
	}

	for r := 0; r < *reps; r++ {
		for d := *minDepth; d <= *maxDepth; d += 2 {
			timeConstruction(d, *stretchDepth)
		}
	}

	expectTree(longLived, *longDepth, "long-lived tree")
	half := *arraySize/2 - 1
	if array[1000] != 1.0/1000.0 || array[half] != 1.0/float64(half) {
		die("the long-lived array is damaged")
	}
	expected := treeSize(*stretchDepth) + treeSize(*longDepth)
	for d := *minDepth; d <= *maxDepth; d += 2 {
		expected += uint64(*reps) * 2 * numIters(d, *stretchDepth) * treeSize(d)
	}
	if nodesMade != expected {
		die("made %d nodes, expected %d", nodesMade, expected)
	}

	resultBegin("gcbench", 1, sampler)
	fmt.Printf(" nodes=%d\n", nodesMade)
}
