#!/bin/sh
# Instructions per allocation, counted by callgrind inside bench/alloc's
# allocation loop (one thread; the loop also stores the pointer and one byte
# per object, the same for every system).  Unlike wall time this excludes the
# kernel's page faults and does not move with the machine's load, so it
# compares the allocators' own code paths.
#
#   bench/alloc_instructions.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
bin=$BUILD/bench/alloc
command -v valgrind >/dev/null || { echo "alloc_instructions: valgrind is not installed" >&2; exit 2; }
[ -x "$bin" ] || { echo "alloc_instructions: $bin not built (make benches)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| size | tricolor instr/alloc | malloc instr/alloc | mimalloc instr/alloc | tricolor/mimalloc |"
echo "|---:|---:|---:|---:|---:|"
for size in 16 64 256 1024 4096 32768 102400; do
    line="| $size B"
    for sys in tricolor malloc mimalloc; do
        out=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$sys.$size" \
              --toggle-collect='alloc_loop' "$bin" --one "$sys" "$size" --budget-mib 4 2>"$tmp/err")
        n=$(echo "$out" | sed -n 's/.*: \([0-9]*\) allocations.*/\1/p')
        ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.$sys.$size")
        [ -n "$n" ] && [ -n "$ir" ] || { cat "$tmp/err" >&2; exit 1; }
        per=$(awk -v a="$ir" -v b="$n" 'BEGIN { printf "%.1f", a / b }')
        eval "v_$sys=$per"
        line="$line | $per"
    done
    ratio=$(awk -v a="$v_tricolor" -v b="$v_mimalloc" 'BEGIN { printf "%.2f", a / b }')
    echo "$line | $ratio |"
done
