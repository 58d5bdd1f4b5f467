#!/bin/sh
# The html report in a real headless Chromium: the page must draw (its
# script sets data-rendered="ok" on <body> when done, "error" on an
# exception), with the SVG elements the data calls for -- one bar per pause,
# one band per cycle, the heap and goal lines, the MMU curve and its marks --
# and log nothing to the console.  A screenshot is kept next to the page.
# Exits 77 (tests/run.sh: SKIP) when no Chromium is installed.
set -eu
BUILD=${1:-build}
tool=$BUILD/bin/tricolor-trace
dir=$BUILD/tests/trace_html
chrome=
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" > /dev/null 2>&1; then chrome=$c; break; fi
done
if [ -z "$chrome" ]; then
    echo "skipped: chromium is not installed (Debian: apt-get install chromium)"
    exit 77
fi
rm -rf "$dir"
mkdir -p "$dir/profile"
"$BUILD/tests/trace_synth" "$dir"
"$BUILD/tests/trace_record" "$dir/real.trace"

fail() { echo "FAIL: $*"; exit 1; }

# The flags keep a headless Chromium off the network and quiet, as root too.
run_chrome() {
    timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --user-data-dir="$dir/profile" --enable-logging=stderr --v=0 "$@"
}

# count FILE PATTERN: how many times PATTERN occurs in FILE.
count() { grep -o -- "$2" "$1" | wc -l | tr -d ' '; }

# check NAME PAUSES CYCLES MARKS: draws NAME.trace, checks the DOM Chromium built.
check() {
    name=$1 pauses=$2 cycles=$3 marks=$4
    page=$dir/$name.html dom=$dir/$name.dom.html log=$dir/$name.chrome.log
    "$tool" html -o "$page" "$dir/$name.trace"
    run_chrome --dump-dom "file://$(pwd)/$page" > "$dom" 2> "$log" || fail "$name: chromium failed (log: $log)"
    body=$(grep -o '<body[^>]*>' "$dom" | head -n 1)
    [ "$body" = '<body data-rendered="ok">' ] || { grep -A2 'id="error"' "$dom" | head -5; fail "$name: the page did not draw: $body"; }
    if grep 'CONSOLE' "$log"; then fail "$name: console messages (log: $log)"; fi
    [ "$(count "$dom" '<svg class="chart"')" -eq 3 ] || fail "$name: expected 3 charts"
    [ "$(count "$dom" '<rect class="pause"')" -eq "$pauses" ] || fail "$name: expected $pauses pause bars"
    [ "$(count "$dom" '<rect class="cycle"')" -eq "$cycles" ] || fail "$name: expected $cycles cycle bands"
    [ "$(count "$dom" '<circle class="mmu-mark"')" -eq "$marks" ] || fail "$name: expected $marks MMU marks"
    [ "$(count "$dom" '<circle class="mmu-point"')" -ge 10 ] || fail "$name: too few MMU points"
    for c in heap-alloc heap-goal mmu-line; do
        grep -q "<path class=\"$c\" d=\"M[0-9]" "$dom" || fail "$name: no $c path"
    done
    echo "$name: drawn: $pauses pauses, $cycles cycles, $marks MMU marks"
}

check workload 38 19 4
# A real trace: as many pause bars and cycle bands as the summary counts.
"$tool" summary "$dir/real.trace" > "$dir/real.txt"
pauses=$(awk '/^stop-the-world: / { print $2 }' "$dir/real.txt")
cycles=$(awk '/^GC cycles: / { print $3 }' "$dir/real.txt")
# MMU marks: the standard windows (1 ms .. 1 s) no longer than the trace
marks=$(awk '/^trace: / { for (i = 1; i <= NF; i++) if ($i == "s,") d = $(i - 1) }
             END { n = 0; split("0.001 0.01 0.1 1", w, " "); for (i in w) if (w[i] + 0 <= d + 0) n++; print n }' "$dir/real.txt")
check real "$pauses" "$cycles" "$marks"

run_chrome --hide-scrollbars --window-size=1280,2300 --screenshot="$dir/workload.png" \
    "file://$(pwd)/$dir/workload.html" > /dev/null 2>&1 || fail "no screenshot"
[ "$(wc -c < "$dir/workload.png")" -gt 20000 ] || fail "the screenshot is blank"
echo "html: ok (screenshot: $dir/workload.png)"
