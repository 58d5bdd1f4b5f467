#!/bin/sh
# tool_test.sh -- tricolor-heapdump on known inputs.
#
#   sh tests/heapdump/tool_test.sh [BUILD]            run (from the repository root)
#   sh tests/heapdump/tool_test.sh [BUILD] --update   rewrite tests/heapdump/expected/
#
# 1. known_old.tchd and known_new.tchd (synthetic dumps at fixed addresses,
#    see gen_known.c) must be what gen_known writes today;
# 2. summary, path (one address per kind of root, interior addresses,
#    unreachable objects, no object) and diff on them must print exactly
#    tests/heapdump/expected/NAME.txt (stdout, then "exit: N");
# 3. malformed, truncated and missing files, and usage errors, must give
#    their exit status and a message (with the offset, for bad files);
# 4. a real dump written by heapdump_test goes through all three commands;
# 5. so do the two dumps of examples/leak.
set -u
BUILD=${1:-build}
UPDATE=${2:-}
TOOL=$BUILD/bin/tricolor-heapdump
DIR=tests/heapdump
EXP=$DIR/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect NAME ARGS...: stdout and the exit status must match expected/NAME.txt.
expect() {
    name=$1
    shift
    "$TOOL" "$@" >"$tmp/out" 2>"$tmp/err"
    echo "exit: $?" >>"$tmp/out"
    if [ "$UPDATE" = --update ]; then
        cp "$tmp/out" "$EXP/$name.txt"
    elif ! cmp -s "$tmp/out" "$EXP/$name.txt"; then
        fail "$name: tricolor-heapdump $* differs from $EXP/$name.txt:"
        diff "$EXP/$name.txt" "$tmp/out" | head -20
    fi
}

# expect_error NAME STATUS PATTERN ARGS...: that exit status, PATTERN in stderr.
expect_error() {
    name=$1 status=$2 pattern=$3
    shift 3
    "$TOOL" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" -eq "$status" ] || fail "$name: exit $got, expected $status"
    grep -q -- "$pattern" "$tmp/err" || { fail "$name: stderr lacks '$pattern':"; cat "$tmp/err"; }
}

[ -x "$TOOL" ] || { echo "no $TOOL: build it first (make)"; exit 1; }

# 1. The committed dumps are the generator's.
"$BUILD/tests/heapdump_gen_known" "$tmp" || fail "gen_known failed"
for f in known_old.tchd known_new.tchd; do
    cmp -s "$tmp/$f" "$DIR/$f" || fail "$DIR/$f is not what gen_known writes (regenerate it)"
done

# 2. Output on known inputs.
mkdir -p "$EXP"
OLD=$DIR/known_old.tchd
NEW=$DIR/known_new.tchd
expect summary_old summary "$OLD"
expect summary_new_top2 summary -n 2 "$NEW"
expect diff diff "$OLD" "$NEW"
expect diff_top1 diff -n 1 "$OLD" "$NEW"
expect diff_reversed diff "$NEW" "$OLD"
expect path_registered path "$OLD" 0xc000030000
expect path_scan_function path "$OLD" 0xc000020018
expect path_stack_interior path "$OLD" 0xc000010050
expect path_register path "$OLD" c000020000
expect path_finalizer_arg path "$OLD" 0xc000020020
expect path_finalizer_referent path "$OLD" 0xc0000100c0
expect path_queued path "$OLD" 0xc000010100
expect path_weak_handle path "$OLD" 0xc000040000
expect path_weakly_held path "$OLD" 0xc0000100e0
expect path_garbage path "$OLD" 0xc000010060
expect path_no_object path "$OLD" 0xc000000000
expect path_new_chain path "$NEW" 0xc0000500a0

# 3. Errors.
head -c 300 "$OLD" >"$tmp/truncated.tchd"
expect_error truncated 3 "offset .*truncated" summary "$tmp/truncated.tchd"
cp "$OLD" "$tmp/corrupt.tchd"
printf 'Z' | dd of="$tmp/corrupt.tchd" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_error corrupt 3 "offset " summary "$tmp/corrupt.tchd"
printf 'hello, world\n' >"$tmp/text"
expect_error not_a_dump 3 "not a tricolor heap dump" path "$tmp/text" 0x10
expect_error missing 3 "$tmp/missing" diff "$OLD" "$tmp/missing"
: >"$tmp/empty"
expect_error empty 3 "offset 0: truncated" summary "$tmp/empty"
expect_error no_command 2 "usage:"
expect_error unknown_command 2 "unknown command" frobnicate "$OLD"
expect_error bad_address 2 "not a hex address" path "$OLD" 0xnothex
expect_error summary_two 2 "summary takes one dump" summary "$OLD" "$NEW"
expect_error diff_one 2 "diff takes two dumps" diff "$OLD"
expect_error bad_count 2 "-n needs a count" summary -n lots "$OLD"
expect_error path_option 2 "unknown option" path -n 3 "$OLD" 0x10
"$TOOL" help >"$tmp/out" 2>&1 || fail "help: exit $?"
grep -q "exit status" "$tmp/out" || fail "help does not document the exit status"

# 4. A real dump.
if "$BUILD/tests/heapdump_test" "$tmp" >"$tmp/test.log" 2>&1; then
    real=$tmp/known_graph.tchd
    read -r deep garbage kept <"$tmp/known_graph.addr"
    "$TOOL" summary "$real" >"$tmp/out" || fail "real summary: exit $?"
    for want in "struct node" "tagged" "(tc_alloc_noscan)" "tc_weak_handle" "1 registered range"; do
        grep -qF "$want" "$tmp/out" || fail "real summary lacks '$want'"
    done
    "$TOOL" path "$real" "$deep" >"$tmp/out" || fail "real path to $deep: exit $?"
    grep -q "registered root" "$tmp/out" || fail "real path does not start at the registered root"
    grep -q "pointer #0 of its scan function" "$tmp/out" || fail "real path misses the scan function hop"
    "$TOOL" path "$real" "$garbage" >"$tmp/out"
    [ $? -eq 1 ] || fail "real path to garbage $garbage: expected exit 1"
    "$TOOL" path "$real" "$kept" >"$tmp/out" || fail "real path to $kept: exit $?"
    grep -q "finalizable object" "$tmp/out" || fail "real path to $kept is not through the finalizer"
    "$TOOL" diff "$real" "$real" >"$tmp/out" || fail "real diff: exit $?"
    grep -q "growth: 0 objects, 0 bytes" "$tmp/out" || fail "a dump differs from itself"
else
    fail "heapdump_test could not write a real dump:"
    tail -20 "$tmp/test.log"
fi

# 5. The leak example (public API only): the diff shows the leak, the path
#    leads from the global cache through the untyped bucket array.
if "$BUILD/examples/leak" "$tmp" >"$tmp/leak.log" 2>&1; then
    "$TOOL" diff "$tmp/before.tchd" "$tmp/after.tchd" >"$tmp/out" || fail "leak diff: exit $?"
    grep -Eq '^ +\+96000 +\+3000 .* struct entry$' "$tmp/out" || { fail "leak diff does not show 3000 more entries:"; cat "$tmp/out"; }
    addr=$(sed -n 's/.* value is at //p' "$tmp/leak.log")
    "$TOOL" path "$tmp/after.tchd" "$addr" >"$tmp/out" || fail "leak path to $addr: exit $?"
    grep -q "global data" "$tmp/out" && grep -q "struct cache" "$tmp/out" && grep -q "(tc_alloc) (2048 bytes)" "$tmp/out" ||
        { fail "leak path is not global -> cache -> buckets -> ...:"; cat "$tmp/out"; }
else
    fail "examples/leak failed:"
    cat "$tmp/leak.log"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failures"
    exit 1
fi
echo "tool_test: all checks passed"
