#!/bin/sh
# Runs every test program built into $BUILD/tests and the bench smoke runs,
# then prints the summary line "N passed, N failed".  A test that exits 77
# is skipped (its last line says why) and counted in neither.
BUILD=${BUILD:-build}
passed=0
failed=0
failed_names=""
run() {
    name=$1; shift
    log="$BUILD/tests/$name.log"
    if timeout 600 "$@" >"$log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    elif [ $? -eq 77 ]; then
        echo "SKIP $name: $(tail -n 1 "$log")"
    else
        echo "FAIL $name (log: $log)"
        sed 's/^/    /' "$log" | tail -n 40
        failed=$((failed + 1))
        failed_names="$failed_names $name"
    fi
}
for t in "$BUILD"/tests/*_test; do
    [ -x "$t" ] || continue
    run "$(basename "$t")" "$t"
done
run exported_symbols sh tests/check_exports.sh "$BUILD/lib/libtricolor.so" "$BUILD/lib/libtricolor.a"
run demo_smoke "$BUILD/examples/demo" --quick
run hello_example "$BUILD/examples/hello"
run readme_example sh tests/readme_example.sh "$BUILD"
run trace_tool sh tests/trace/cli_test.sh "$BUILD"
run trace_html_chromium sh tests/trace/html_test.sh "$BUILD"
run heapdump_tool sh tests/heapdump/tool_test.sh "$BUILD"
run bench_alloc_smoke "$BUILD/bench/alloc" --quick
run bench_page_heap_smoke "$BUILD/bench/page_heap" --quick
run bench_gc_pause_smoke "$BUILD/bench/gc_pause" --quick
run bench_barrier_smoke "$BUILD/bench/barrier" --quick
run bench_memlimit_smoke "$BUILD/bench/memlimit" --quick
run bench_trace_overhead_smoke "$BUILD/bench/trace_overhead" --quick
echo
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
