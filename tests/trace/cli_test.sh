#!/bin/sh
# tricolor-trace from the command line: `summary` on hand-built traces whose
# figures are worked out in tests/trace/trace_examples.h, `json` through
# tests/trace/check_json.py (valid JSON, nesting tracks, the expected tracks,
# counters, pauses, tasks and logs), `html` for its parts (Chromium checks
# the drawing: html_test.sh), errors with their byte offsets, and all three
# commands on real traces recorded by tests/trace/trace_record.c.
set -eu
BUILD=${1:-build}
tool=$BUILD/bin/tricolor-trace
dir=$BUILD/tests/trace_cli
rm -rf "$dir"
mkdir -p "$dir"
"$BUILD/tests/trace_synth" "$dir"

fail() { echo "FAIL: $*"; exit 1; }
# has FILE TEXT: FILE contains the line fragment TEXT.
has() { grep -qF -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "$1 lacks: $2"; }; }

# ---- summary on known inputs -------------------------------------------------
"$tool" summary "$dir/basic.trace" > "$dir/basic.txt"
has "$dir/basic.txt" "GC cycles: 2 (2 complete, 1 forced)"
has "$dir/basic.txt" "stop-the-world: 3 pauses, total 7.000 ms; p50 2.000 ms, p99 4.000 ms, max 4.000 ms"
has "$dir/basic.txt" "GC CPU share: 2.2% of 2 processors"
has "$dir/basic.txt" "MMU:  1 ms 0.0%  10 ms 45.0%  100 ms 88.5%  1 s 97.8%*"
has "$dir/basic.txt" "mark assists: 10.000 ms, 64.0 KiB scanned"
has "$dir/basic.txt" "tasks: 1 (1 ended), regions: 2, logs: 2"
has "$dir/basic.txt" "     2 main                 mutator      900.000     100.000      10.000"
has "$dir/basic.txt" "     4 mark worker          runtime       20.000       0.000       0.000      20.000"
! grep -q "^   cycle" "$dir/basic.txt" || fail "the cycle table without -v"

"$tool" summary -v -p 1 "$dir/basic.trace" > "$dir/basic-v.txt"
has "$dir/basic-v.txt" "GC CPU share: 3.7% of 1 processor"
has "$dir/basic-v.txt" "MMU:  1 ms 0.0%  10 ms 0.0%  100 ms 79.0%  1 s 96.3%*"
has "$dir/basic-v.txt" "      2       300.000      10.000    yes      1       4.000       4.000"

"$tool" summary "$dir/pauses.trace" > "$dir/pauses.txt"
has "$dir/pauses.txt" "stop-the-world: 100 pauses, total 5.050 ms; p50 0.050 ms, p99 0.099 ms, max 0.100 ms"
has "$dir/pauses.txt" "MMU:  1 ms 90.0%"
has "$dir/pauses.txt" "GC CPU share: 5.0% of 1 processor"

"$tool" summary "$dir/edges.trace" > "$dir/edges.txt"
has "$dir/edges.txt" "GC cycles: 2 (0 complete, 0 forced)"
has "$dir/edges.txt" "tasks: 2 (1 ended), regions: 3, logs: 0"
has "$dir/edges.txt" "GC CPU share: 9.0% of 1 processor"

"$tool" summary - < "$dir/empty.trace" > "$dir/empty.txt"
has "$dir/empty.txt" "GC cycles: 0 (0 complete, 0 forced)"

# ---- json ----------------------------------------------------------------------
check_json() { python3 tests/trace/check_json.py "$@" || fail "json check: $*"; }
"$tool" json "$dir/basic.trace" > "$dir/basic.json"
check_json "$dir/basic.json" --thread "gc controller" --thread main --thread worker --thread "mark worker" \
    --counter "heap allocated" --counter "heap goal" --pauses 3 --cycles 2 --logs 2 --tasks 1 \
    --min-slices assist=1 --min-slices mark=1 --min-slices sweep=1 --min-slices blocking=1 \
    --min-slices region=2 --min-slices phase=5
"$tool" json -o "$dir/workload.json" "$dir/workload.trace"
check_json "$dir/workload.json" --thread "mutator 1" --thread "mutator 3" --counter "heap allocated" \
    --counter "heap goal" --pauses 38 --cycles 19 --logs 18 --tasks 440
"$tool" json "$dir/edges.trace" > "$dir/edges.json"
check_json "$dir/edges.json" --thread m --thread "thread 1" --pauses 1 --cycles 2 --tasks 2
has "$dir/edges.json" '"began_before_trace":true'
has "$dir/edges.json" '"open_at_trace_end":true'

# ---- html (drawn and checked in Chromium by html_test.sh) --------------------------
"$tool" html -o "$dir/basic.html" "$dir/basic.trace"
has "$dir/basic.html" '<script type="application/json" id="trace-data">'
has "$dir/basic.html" '<figure id="mmu">'
has "$dir/basic.html" '<div class="value">4.000 ms</div>'
! grep -qiE '(src|href)="?(https?:)?//' "$dir/basic.html" || fail "the page refers to the network"

# ---- events ----------------------------------------------------------------------
"$tool" events "$dir/basic.trace" > "$dir/basic.events"
[ "$(wc -l < "$dir/basic.events")" -eq 48 ] || fail "events: expected 48 lines"
has "$dir/basic.events" '200.000000 ms  thread 1 (gc controller)  STW_BEGIN "mark termination"'
has "$dir/basic.events" '262.000000 ms  thread 3 (worker)  SWEEP_END 10 4'

# ---- errors ----------------------------------------------------------------------
head -c 100 "$dir/basic.trace" > "$dir/cut.trace"
if "$tool" summary "$dir/cut.trace" > /dev/null 2> "$dir/cut.err"; then fail "a truncated trace was accepted"; fi
has "$dir/cut.err" "cut.trace: offset "
has "$dir/cut.err" "truncated"
printf 'TCTRACE\000\002\000\000\000\000\000\000\000' > "$dir/v2.trace"
set +e
"$tool" json "$dir/v2.trace" > /dev/null 2> "$dir/v2.err"; rc=$?
"$tool" frobnicate "$dir/basic.trace" > /dev/null 2>&1; usage_rc=$?
"$tool" summary -p 0 "$dir/basic.trace" > /dev/null 2>&1; p0_rc=$?
"$tool" summary "$dir/missing.trace" > /dev/null 2> "$dir/missing.err"; missing_rc=$?
set -e
[ "$rc" -eq 1 ] || fail "version 2: exit status $rc"
has "$dir/v2.err" "offset 8: trace format version 2; this reader knows version 1"
[ "$usage_rc" -eq 2 ] || fail "an unknown command: exit status $usage_rc"
[ "$p0_rc" -eq 2 ] || fail "-p 0: exit status $p0_rc"
[ "$missing_rc" -eq 1 ] || fail "a missing file: exit status $missing_rc"
has "$dir/missing.err" "cannot open"

# ---- real traces from the runtime ---------------------------------------------------
for mode in file reader; do
    real=$dir/real-$mode.trace
    if [ $mode = file ]; then "$BUILD/tests/trace_record" "$real"; else "$BUILD/tests/trace_record" "$real" --reader; fi
    "$tool" summary -v "$real" > "$dir/real-$mode.txt"
    has "$dir/real-$mode.txt" "gc controller"
    has "$dir/real-$mode.txt" "tasks: 36 (36 ended), regions: 36, logs: 11"
    # at least the trace start and stop, and two per cycle
    awk '/^stop-the-world: / { if ($2 + 0 < 4) exit 1 }' "$dir/real-$mode.txt" || fail "too few pauses in $real"
    awk '/^GC cycles: / { if ($3 + 0 < 2) exit 1 }' "$dir/real-$mode.txt" || fail "too few cycles in $real"
    "$tool" json -o "$dir/real-$mode.json" "$real"
    check_json "$dir/real-$mode.json" --thread "gc controller" --counter "heap allocated" --counter "heap goal" \
        --logs 11 --tasks 36 --min-slices stw=4 --min-slices phase=4 --min-slices region=36 --min-slices blocking=1
    "$tool" html -o "$dir/real-$mode.html" "$real"
    has "$dir/real-$mode.html" '<h2>Minimum mutator utilization</h2>'
done
echo "cli: ok"
