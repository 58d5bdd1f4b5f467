#!/usr/bin/env python3
"""run_suite.py -- runs the cross-system benchmark suite and writes its reports.

What it does (bench/README.md, "The cross-system suite", has the long form):

1. runs the microbenchmarks bench/alloc, bench/barrier and bench/page_heap
   once and keeps their output;
2. runs every workload (gcbench, binary-trees on 1 and 2 threads, latency)
   on every system (tricolor, tricolor-stw, bdwgc, bdwgc-par, bdwgc-incr,
   malloc, mimalloc, go): a first round of everything, then more rounds --
   the workload with the fewest rounds first, the cheaper on a tie, each at
   most --max-runs times -- as long as the time budget allows (a round
   starts only if its longest round so far still fits).  A round runs one
   workload on all systems in turn, so systems are interleaved and a slow
   stretch of the machine hits all of them;
3. parses the one RESULT line each program prints (bench/suite/suite.h),
   takes per-column medians over the runs that succeeded, and prints one
   markdown table per workload;
4. writes <out>/<workload>.md, .csv (the table), -runs.csv (every run) and
   .svg (time, memory, pauses and, for latency, operation latency per
   system), the microbenchmarks' <name>.md, and <out>/README.md with all
   of it.

A program that is missing (its system is not installed) is reported as
skipped; one that crashes, fails its own checks or exceeds the timeout is
reported with its exit status and the last line it printed on stderr, and
the suite goes on.  The environment of every run is the caller's without
the settings that would change a system's behaviour (TRICOLOR, GOGC,
GOMAXPROCS, GODEBUG, GOMEMLIMIT and bdwgc's GC_*), plus what the system's
configuration sets (TRICOLOR=stw=1 for tricolor-stw).

Usage: bench/run_suite.py [--build DIR] [--quick | --smoke] [--out DIR]
                          [--budget SECONDS] [--max-runs N] [--timeout SECONDS]
                          [--only NAME,...] [--systems NAME,...] [--cc CC] [--source TEXT]
Exit status: 1 if a tricolor program never succeeded, a microbenchmark
failed, or (with --smoke) any program failed; 0 otherwise -- a competitor
that fails a full-size workload (bdwgc's incremental mode on 1 GiB, say) is
a result, shown in its table; 2 on bad usage.
"""

import argparse
import csv
import datetime
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# label -> (binary suffix, extra arguments, extra environment, what it is)
SYSTEMS = {
    "tricolor": ("tricolor", [], {}, "tricolor, concurrent (defaults)"),
    "tricolor-stw": ("tricolor", [], {"TRICOLOR": "stw=1"}, "tricolor, TRICOLOR=stw=1: whole cycles with the world stopped"),
    "bdwgc": ("bdwgc", [], {}, "bdwgc (Debian libgc), GC_INIT only: marker threads start with the program's first thread"),
    "bdwgc-par": ("bdwgc", ["--gc", "par"], {}, "bdwgc, GC_set_markers_count(CPUs) + GC_start_mark_threads: parallel marking from the start"),
    "bdwgc-incr": ("bdwgc", ["--gc", "incr"], {}, "bdwgc, GC_enable_incremental: mostly-concurrent incremental mode"),
    "malloc": ("malloc", [], {}, "glibc malloc, every object freed by hand"),
    "mimalloc": ("mimalloc", [], {}, "mimalloc (Debian libmimalloc), every object freed by hand"),
    "go": ("go", [], {}, "Go (Debian golang-go), GOGC=100, GOMAXPROCS = CPUs"),
}

SKIP_REASON = {
    "bdwgc": "bdwgc programs not built (install libgc-dev)",
    "mimalloc": "mimalloc programs not built (install libmimalloc-dev)",
    "go": "Go programs not built (install golang-go)",
}

# name -> program, title, description, arguments per mode
WORKLOADS = {
    "gcbench": dict(
        program="gcbench",
        title="GCBench",
        about="Ellis, Kovac and Boehm's GCBench: a long-lived tree of depth 16 and an array of "
              "500,000 doubles stay live; a stretch tree of depth 18; short-lived trees of depth "
              "4 to 16 built top-down and bottom-up.",
        args={"full": ["--reps", "8"], "quick": ["--reps", "2"],
              "smoke": ["--stretch-depth", "12", "--long-depth", "10", "--max-depth", "10", "--array", "10000"]},
        threads=1),
    "binarytrees-1t": dict(
        program="binarytrees",
        title="binary-trees, 1 thread",
        about="The Benchmarks Game's binary-trees: a stretch tree, a long-lived tree, then "
              "2^(N-d+4) trees of each depth d = 4, 6, ..., N built, checked and dropped.",
        args={"full": ["--depth", "21"], "quick": ["--depth", "18"], "smoke": ["--depth", "10"]},
        threads=1),
    "binarytrees-2t": dict(
        program="binarytrees",
        title="binary-trees, 2 threads",
        about="The same, the short-lived trees shared by two threads (tricolor: attached with "
              "tc_thread_attach; Go: two goroutines).",
        args={"full": ["--depth", "21", "--threads", "2"], "quick": ["--depth", "18", "--threads", "2"],
              "smoke": ["--depth", "10", "--threads", "2"]},
        threads=2),
    "latency": dict(
        program="latency",
        title="latency",
        about="A live heap of small objects (slots holding chains of two 128-byte nodes) in which "
              "random entries are replaced one at a time; every replacement is timed.",
        args={"full": ["--live-mib", "1024", "--ops", "10000000"],
              "quick": ["--live-mib", "256", "--ops", "2000000"],
              "smoke": ["--live-mib", "8", "--ops", "100000"]},
        threads=1),
}

MICRO = {
    "alloc": dict(title="alloc: allocation cost, tricolor vs malloc vs mimalloc (collection off)",
                  args={"full": [], "quick": ["--quick"], "smoke": ["--quick"]}),
    "barrier": dict(title="barrier: write-barrier cost per pointer store",
                    args={"full": [], "quick": ["--quick"], "smoke": ["--quick"]}),
    "page_heap": dict(title="page_heap: span allocation on fragmented heaps of 64 MiB to 16 GiB",
                      args={"full": [], "quick": ["--quick"], "smoke": ["--quick"]}),
}

MODES = {
    # budget: seconds for the whole runner; timeout: per run; max_runs per workload
    "full": dict(budget=720, timeout=150, max_runs=5),
    "quick": dict(budget=70, timeout=60, max_runs=3),
    "smoke": dict(budget=0, timeout=30, max_runs=1),
}

SCRUB_ENV = ("TRICOLOR", "GOGC", "GOMAXPROCS", "GODEBUG", "GOMEMLIMIT")

# (key in the RESULT line, column heading, format)
COLUMNS = [
    ("wall_s", "wall s", "{:.2f}"),
    ("cpu_s", "CPU s", "{:.2f}"),
    ("rss_mib", "peak RSS MiB", "{:.0f}"),
    ("gcs", "GCs", "{:.0f}"),
    ("pause_max_ms", "max pause ms", "auto"),
    ("pause_p99_ms", "p99 pause ms", "auto"),
]
LATENCY_COLUMNS = [
    ("op_p50_us", "op p50 µs", "auto"),
    ("op_p99_us", "op p99 µs", "auto"),
    ("op_p999_us", "op p99.9 µs", "auto"),
    ("op_max_ms", "op max ms", "auto"),
]
NUMERIC = ["wall_s", "cpu_s", "rss_mib", "gcs", "pauses", "pauses_lost", "pause_max_ms", "pause_p99_ms",
           "pause_p50_ms", "pause_total_ms", "op_p50_us", "op_p99_us", "op_p999_us", "op_max_ms",
           "ops_over_1ms", "build_s", "run_s"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- Running programs ---------------------------------------------------------

def clean_env(extra):
    env = {k: v for k, v in os.environ.items()
           if k not in SCRUB_ENV and not k.startswith("GC_")}
    env.update(extra)
    return env


def busy_seconds():
    """CPU time all processes of the machine spent busy so far (from /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        ticks = [int(x) for x in fields[1:]]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def parse_result(stdout):
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            out = {}
            for k, v in fields.items():
                if k in NUMERIC:
                    out[k] = None if v == "na" else float(v)
                else:
                    out[k] = v
            return out
    return None


def describe_failure(returncode, stderr):
    last = [l for l in stderr.strip().splitlines() if l.strip()]
    tail = last[-1].strip() if last else ""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal %d" % -returncode
        what = "crashed (%s)" % name
    else:
        what = "failed (exit %d)" % returncode
    return what + (": " + tail[:160] if tail else "")


def run_program(cmd, env, timeout, logfile):
    """Runs cmd; returns (status, result dict or None, external wall, other load, note)."""
    busy0, t0 = busy_seconds(), time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
        timed_out = False
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        rc, timed_out = None, True
    wall = time.monotonic() - t0
    busy1 = busy_seconds()
    logfile.parent.mkdir(parents=True, exist_ok=True)
    logfile.write_text("$ %s\n--- stdout\n%s--- stderr\n%s" % (" ".join(cmd), out, err))
    if timed_out:
        return "timeout", None, wall, None, "timed out after %d s" % timeout
    res = parse_result(out)
    other = None
    if res is not None and busy0 is not None and busy1 is not None and wall >= 1.0:
        # CPUs kept busy by everything else while the program ran (clock
        # ticks: meaningless for runs much shorter than a second).
        other = max(0.0, (busy1 - busy0 - res.get("cpu_s", 0.0)) / wall)
    if rc != 0:
        return "failed", None, wall, other, describe_failure(rc, err)
    if res is None:
        return "failed", None, wall, other, "no RESULT line in the output"
    return "ok", res, wall, other, ""


# ---- Tables ---------------------------------------------------------------------

def median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs):
    """Per-column medians over the successful runs of one system."""
    ok = [r for r in runs if r["status"] == "ok"]
    row = {"runs": len(ok), "attempts": len(runs)}
    for key in NUMERIC:
        row[key] = median([r["result"].get(key) for r in ok])
    walls = [r["result"]["wall_s"] for r in ok]
    row["wall_spread"] = (max(walls) - min(walls)) / statistics.median(walls) if len(walls) > 1 else None
    row["other_load"] = median([r["other_load"] for r in ok])
    notes = []
    failures = [r for r in runs if r["status"] != "ok"]
    if failures:
        notes.append("%d of %d runs: %s" % (len(failures), len(runs), failures[-1]["note"]))
    lost = row.get("pauses_lost")
    if lost:
        notes.append("%d pauses not read (ring overrun)" % lost)
    if row["other_load"] is not None and row["other_load"] > 0.25:
        notes.append("other processes kept %.1f CPUs busy" % row["other_load"])
    row["notes"] = "; ".join(notes)
    return row


def fmt(value, spec):
    if value is None:
        return "-"
    if spec == "auto":
        if value >= 100:
            return "%.0f" % value
        if value >= 10:
            return "%.1f" % value
        if value >= 1:
            return "%.2f" % value
        return "%.3g" % value if value >= 0.001 else "%.1g" % value
    return spec.format(value)


def table_columns(name):
    return COLUMNS + (LATENCY_COLUMNS if name == "latency" else [])


def table_rows(name, rows):
    cols = table_columns(name)
    head = ["system"] + [c[1] for c in cols] + ["runs", "notes"]
    body = []
    for system, row in rows.items():
        if row.get("skipped"):
            body.append([system] + ["-"] * len(cols) + ["0", row["skipped"]])
            continue
        cells = [system] + [fmt(row.get(k), f) for k, _, f in cols]
        runs = "%d" % row["runs"]
        if row.get("wall_spread") is not None:
            runs += " (±%.0f%%)" % (50 * row["wall_spread"])
        body.append(cells + [runs, row["notes"]])
    return head, body


def markdown_table(head, body):
    align = ["---"] + ["---:"] * (len(head) - 3) + ["---:", "---"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


# ---- Pictures ---------------------------------------------------------------------

PALETTE = ["#1f77b4", "#9ecae1", "#d62728", "#ff9896", "#2ca02c", "#98df8a"]


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def num(v):
    """A short label: 3 significant digits, k and M for the large, no exponent."""
    if v >= 1e6:
        return "%.3gM" % (v / 1e6)
    if v >= 1e4:
        return "%.3gk" % (v / 1e3)
    if v >= 100:
        return "%.0f" % v
    if v >= 1:
        return "%.3g" % v
    return ("%.2g" % v) if v >= 0.001 else ("%.1g" % v)


def linear_ticks(vmax):
    """0 and 3 to 6 round steps (1, 2, 2.5 or 5 times a power of ten) up to at least vmax."""
    if vmax <= 0:
        return [0, 1]
    raw = vmax / 4
    e = 10 ** math.floor(math.log10(raw))
    step = next(m * e for m in (1, 2, 2.5, 5, 10) if m * e >= raw)
    n = int(math.ceil(vmax / step - 1e-9))
    return [i * step for i in range(n + 1)]


def svg_panel(x0, y0, width, systems, rows, series, title, log_scale, group_h):
    """One bar panel: for each system a group of bars, one per series (key,
    label), group_h pixels apart so that every panel lines up with the labels."""
    out = []
    bar_h = 9
    plot_h = group_h * len(systems)
    values = [rows[s][k] for s in systems for k, _ in series
              if not rows[s].get("skipped") and rows[s].get(k)]
    out.append('<text x="%d" y="%d" class="t">%s</text>' % (x0, y0 - 26, esc(title)))
    lx = x0
    for i, (_, label) in enumerate(series):
        out.append('<rect x="%d" y="%d" width="10" height="8" fill="%s"/>' % (lx, y0 - 18, PALETTE[i]))
        out.append('<text x="%d" y="%d" class="s">%s</text>' % (lx + 13, y0 - 11, esc(label)))
        lx += 13 + 6 * len(label) + 12
    if not values:
        out.append('<text x="%d" y="%d" class="s">no data</text>' % (x0, y0 + 14))
        return out
    if log_scale:
        lo = 10 ** math.floor(math.log10(min(values)))
        hi = 10 ** math.ceil(math.log10(max(values)))
        if hi <= lo:
            hi = lo * 10
        decades = int(round(math.log10(hi / lo)))

        def scale(v):
            return (math.log10(max(v, lo)) - math.log10(lo)) / decades * width
        ticks = [lo * 10 ** i for i in range(decades + 1)]
    else:
        ticks = linear_ticks(max(values))
        hi = ticks[-1]

        def scale(v):
            return v / hi * width
    every = 2 if len(ticks) > 6 else 1
    for ti, t in enumerate(ticks):
        x = x0 + scale(t)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="g"/>' % (x, y0, x, y0 + plot_h))
        if ti % every == 0:
            out.append('<text x="%.1f" y="%d" class="s" text-anchor="middle">%s</text>'
                       % (x, y0 + plot_h + 12, esc(num(t) if t else "0")))
    for gi, s in enumerate(systems):
        gy = y0 + gi * group_h + 4
        if rows[s].get("skipped") or not rows[s].get("runs"):
            what = "skipped" if rows[s].get("skipped") else "failed: see the table"
            out.append('<text x="%d" y="%.1f" class="s">%s</text>' % (x0 + 2, gy + bar_h, what))
            continue
        if all(rows[s].get(key) is None for key, _ in series):
            out.append('<text x="%d" y="%.1f" class="s">n/a</text>' % (x0 + 2, gy + bar_h))
            continue
        for i, (key, _) in enumerate(series):
            y = gy + i * bar_h
            v = rows[s].get(key)
            if v is None or (log_scale and v <= 0):
                out.append('<text x="%d" y="%.1f" class="s">%s</text>'
                           % (x0 + 2, y + bar_h - 1.5, "-" if v is None else "0"))
                continue
            w = max(1.0, scale(v))
            out.append('<rect x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"/>'
                       % (x0, y, w, bar_h - 1, PALETTE[i]))
            out.append('<text x="%.1f" y="%.1f" class="s">%s</text>'
                       % (x0 + w + 3, y + bar_h - 1.5, esc(num(v))))
    return out


def write_svg(path, name, title, rows):
    """Bar charts of one workload's medians, one row of bars per system."""
    systems = list(rows)
    panels = [
        ([("wall_s", "wall"), ("cpu_s", "CPU")], "time, s", False),
        ([("rss_mib", "peak RSS")], "memory, MiB", False),
        ([("pause_max_ms", "max"), ("pause_p99_ms", "p99")], "GC pause per cycle, ms (log)", True),
    ]
    if name == "latency":
        for r in rows.values():
            if r.get("op_max_ms") is not None:
                r["op_max_us"] = r["op_max_ms"] * 1000
        panels.append(([("op_p99_us", "p99"), ("op_p999_us", "p99.9"), ("op_max_us", "max")],
                       "operation latency, µs (log)", True))
    label_w, panel_w, panel_gap = 100, 250, 80
    nseries = max(len(p[0]) for p in panels)
    group_h = 9 * nseries + 8
    y0 = 64
    width = label_w + len(panels) * (panel_w + panel_gap)
    height = y0 + group_h * len(systems) + 24
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
           % (width, height, width, height),
           '<style>text{font-family:sans-serif;fill:#222}.t{font-size:13px;font-weight:bold}'
           '.s{font-size:10px}.l{font-size:11px}.g{stroke:#ddd;stroke-width:1}</style>',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="8" y="18" class="t">%s</text>' % esc(title)]
    for si, s in enumerate(systems):
        out.append('<text x="%d" y="%.1f" class="l" text-anchor="end">%s</text>'
                   % (label_w - 10, y0 + si * group_h + group_h / 2 + 2, esc(s)))
    for pi, (series, ptitle, log_scale) in enumerate(panels):
        out += svg_panel(label_w + pi * (panel_w + panel_gap), y0, panel_w, systems, rows, series,
                         ptitle, log_scale, group_h)
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


# ---- Microbenchmarks ----------------------------------------------------------------

def output_to_markdown(text):
    """Tables stay tables; everything else goes into text blocks."""
    out, block = [], []

    def flush():
        while block and not block[-1].strip():
            block.pop()
        if block:
            out.append("```text\n" + "\n".join(block) + "\n```")
        block.clear()

    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|"):
            flush()
            tbl = []
            while i < len(lines) and lines[i].startswith("|"):
                tbl.append(lines[i])
                i += 1
            out.append("\n".join(tbl))
        else:
            if lines[i].strip() or block:
                block.append(lines[i])
            i += 1
    flush()
    return "\n\n".join(out)


# ---- Environment ---------------------------------------------------------------------

def first_line(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
        return p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "not found"


def dpkg_version(pkg):
    v = first_line(["dpkg-query", "-W", "-f", "${Version}", pkg])
    return v if v and "no packages" not in v and v != "not found" else "not installed"


def machine_facts(cc):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = [l for l in open("/proc/meminfo") if l.startswith("MemTotal")][0].split()[1]
        mem = "%.0f GiB" % (int(mem) / 2 ** 20)
    except (OSError, IndexError):
        mem = "?"
    return [
        ("machine", "%s, %d CPUs, %s RAM, Linux %s" % (cpu, os.cpu_count() or 0, mem, platform.release())),
        ("C compiler", first_line([cc, "--version"])),
        ("glibc", os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else "?"),
        ("bdwgc", "libgc1 " + dpkg_version("libgc1")),
        ("mimalloc", "libmimalloc2.0 " + dpkg_version("libmimalloc2.0")),
        ("Go", first_line(["go", "version"])),
    ]


def source_id(given):
    if given:
        return given
    d = first_line(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    return "commit " + d if d not in ("?", "not found") and "fatal" not in d else "unknown (not a git checkout)"


# ---- Main -----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="Run the cross-system benchmark suite (bench/README.md).")
    ap.add_argument("--build", default="build", help="the build directory (default: build)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes, under 2 minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, every program once")
    ap.add_argument("--out", help="report directory (default: bench/results, bench/results/quick, "
                                  "or BUILD/bench/smoke)")
    ap.add_argument("--budget", type=float, help="seconds for the whole run; more rounds only while they fit")
    ap.add_argument("--max-runs", type=int, help="runs per workload and system at most")
    ap.add_argument("--timeout", type=float, help="seconds per run before it is killed")
    ap.add_argument("--only", help="comma-separated workloads and microbenchmarks to run")
    ap.add_argument("--systems", help="comma-separated systems to run")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="the C compiler, for the report")
    ap.add_argument("--source", default=os.environ.get("BENCH_SOURCE"),
                    help="what was measured, for the report (default: $BENCH_SOURCE, else git describe)")
    args = ap.parse_args()

    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(MODES[mode_name])
    for key in ("budget", "max_runs", "timeout"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    build = Path(args.build)
    if not build.is_absolute():
        build = ROOT / build
    bindir = build / "bench"
    if args.out:
        out = Path(args.out)
    elif mode_name == "smoke":
        out = bindir / "smoke"
    else:
        out = ROOT / "bench" / "results" / ("quick" if mode_name == "quick" else "")
    out.mkdir(parents=True, exist_ok=True)
    logdir = bindir / "logs" / mode_name

    only = set(args.only.split(",")) if args.only else None
    systems = args.systems.split(",") if args.systems else list(SYSTEMS)
    for s in systems:
        if s not in SYSTEMS:
            ap.error("unknown system %r (known: %s)" % (s, ", ".join(SYSTEMS)))
    if only:
        for n in only:
            if n not in WORKLOADS and n not in MICRO:
                ap.error("unknown workload %r (known: %s)" % (n, ", ".join(list(WORKLOADS) + list(MICRO))))
    workloads = [w for w in WORKLOADS if not only or w in only]
    micros = [m for m in MICRO if not only or m in only]

    t_start = time.monotonic()
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    log("bench: %s mode, budget %s, timeout %d s per run, up to %d runs; reports in %s"
        % (mode_name, "%d s" % cfg["budget"] if cfg["budget"] else "none", cfg["timeout"], cfg["max_runs"], out))
    failed_any = False
    load_start = os.getloadavg()[0]
    if load_start > 0.5:
        log("bench: warning: load average %.1f: other processes are running, results will be noisy"
            % load_start)

    # 1. Microbenchmarks.
    micro_out = {}
    for m in micros:
        exe = bindir / m
        if not exe.exists():
            micro_out[m] = "skipped: %s not built" % exe
            log("bench: %s skipped (not built)" % m)
            continue
        cmd = [str(exe)] + MICRO[m]["args"][mode_name]
        log("bench: %s" % " ".join(cmd))
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, env=clean_env({}), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=max(cfg["timeout"], 120))
            text = p.stdout
            if p.returncode != 0:
                text += "\n" + describe_failure(p.returncode, p.stderr)
                failed_any = True
        except subprocess.TimeoutExpired:
            text, failed_any = "timed out", True
        micro_out[m] = text.rstrip() + "\n\n(%s, %.1f s)" % (" ".join(["bench/" + m] + cmd[1:]), time.monotonic() - t0)

    # 2. Workloads, round by round.
    runs = {w: {s: [] for s in systems} for w in workloads}
    skipped = {}
    for s in systems:
        exe_suffix = SYSTEMS[s][0]
        missing = [w for w in workloads if not (bindir / ("%s_%s" % (WORKLOADS[w]["program"], exe_suffix))).exists()]
        if missing:
            skipped[s] = SKIP_REASON.get(exe_suffix, "program not built")
            log("bench: %s skipped: %s" % (s, skipped[s]))
    active = [s for s in systems if s not in skipped]
    round_cost = {}
    rounds_done = {w: 0 for w in workloads}

    def run_round(w):
        spec = WORKLOADS[w]
        n = rounds_done[w]
        order = active[n % len(active):] + active[:n % len(active)] if active else []
        t0 = time.monotonic()
        for s in order:
            suffix, extra_args, extra_env, _ = SYSTEMS[s]
            cmd = [str(bindir / ("%s_%s" % (spec["program"], suffix)))] + extra_args + spec["args"][mode_name]
            status, res, wall, other, note = run_program(
                cmd, clean_env(extra_env), cfg["timeout"], logdir / ("%s-%s-%d.log" % (w, s, n + 1)))
            runs[w][s].append(dict(status=status, result=res, ext_wall=wall, other_load=other, note=note,
                                   cmd=" ".join(("%s=%s " % kv for kv in extra_env.items())) +
                                   " ".join([Path(cmd[0]).name] + cmd[1:])))
            log("bench: %-15s %-13s run %d: %s" % (w, s, n + 1,
                ("%.2f s" % res["wall_s"]) if status == "ok" else "%s %s" % (status, note)))
        rounds_done[w] += 1
        cost = time.monotonic() - t0
        round_cost[w] = max(round_cost.get(w, 0), cost)

    for w in workloads:
        run_round(w)
    while cfg["budget"]:
        left = cfg["budget"] - (time.monotonic() - t_start)
        candidates = [w for w in workloads if rounds_done[w] < cfg["max_runs"] and round_cost[w] * 1.1 < left]
        if not candidates:
            break
        run_round(min(candidates, key=lambda w: (rounds_done[w], round_cost[w])))

    # 3. Tables, pictures, CSV.
    elapsed = time.monotonic() - t_start
    facts = machine_facts(args.cc)
    sections = []
    printed = []
    for w in workloads:
        spec = WORKLOADS[w]
        rows = {}
        for s in systems:
            if s in skipped:
                rows[s] = {"skipped": "skipped: " + skipped[s]}
                continue
            rows[s] = summarize(runs[w][s])
            # A competitor that cannot run a workload is a finding, reported
            # in the table; tricolor failing, or anything failing at smoke
            # size, fails the suite.
            if rows[s]["runs"] == 0 and (mode_name == "smoke" or s.startswith("tricolor")):
                failed_any = True
        head, body = table_rows(w, rows)
        table = markdown_table(head, body)
        cmdline = "%s_<system> %s" % (spec["program"], " ".join(spec["args"][mode_name]))
        body_md = ("%s\n\nCommand: `%s` (bdwgc-par and bdwgc-incr add `--gc par` or `--gc incr`; "
                   "tricolor-stw runs with `TRICOLOR=stw=1`).  Medians over the runs; after the run count, "
                   "half the spread of the wall times.\n\n%s\n\n![%s](%s.svg)\n"
                   % (spec["about"], cmdline, table, spec["title"], w))
        (out / ("%s.md" % w)).write_text("# %s (%s mode)\n\n%s" % (spec["title"], mode_name, body_md))
        with open(out / ("%s.csv" % w), "w", newline="") as f:
            cw = csv.writer(f)
            cw.writerow(head)
            cw.writerows(body)
        with open(out / ("%s-runs.csv" % w), "w", newline="") as f:
            cw = csv.writer(f)
            cw.writerow(["workload", "system", "run", "status", "ext_wall_s", "other_load"] + NUMERIC +
                        ["note", "command"])
            for s in systems:
                for i, r in enumerate(runs[w][s]):
                    res = r["result"] or {}
                    cw.writerow([w, s, i + 1, r["status"], "%.3f" % r["ext_wall"],
                                 "" if r["other_load"] is None else "%.2f" % r["other_load"]] +
                                ["" if res.get(k) is None else res[k] for k in NUMERIC] + [r["note"], r["cmd"]])
        write_svg(out / ("%s.svg" % w), w, "%s (%s mode): medians per system" % (spec["title"], mode_name), rows)
        sections.append("## %s\n\n%s" % (spec["title"], body_md))
        printed.append("## %s\n\n%s\n" % (spec["title"], table))

    for m in micros:
        body_md = output_to_markdown(micro_out[m])
        (out / ("%s.md" % m)).write_text("# %s\n\n%s\n" % (MICRO[m]["title"], body_md))
        sections.append("## %s\n\n%s\n" % (MICRO[m]["title"], body_md))
        printed.append("## %s\n\n%s\n" % (MICRO[m]["title"], body_md))

    command = "make bench" + {"full": "", "quick": " QUICK=1", "smoke": "-smoke"}[mode_name]
    readme = ["# Benchmark results (%s mode)\n" % mode_name,
              "Made by `%s` (bench/run_suite.py) on %s; the runner took %.0f s.  bench/README.md explains "
              "the workloads, the systems and every column.\n" % (command, started, elapsed)]
    facts += [("source", source_id(args.source)),
              ("load average", "%.1f at the start, %.1f at the end (1-minute; 0 on a quiet machine)"
               % (load_start, os.getloadavg()[0]))]
    readme.append("\n".join("- %s: %s" % kv for kv in facts) + "\n")
    readme.append("Systems:\n\n" + "\n".join(
        "- **%s**: %s%s" % (s, SYSTEMS[s][3], " -- *skipped: %s*" % skipped[s] if s in skipped else "")
        for s in systems) + "\n")
    readme.append("Columns: wall and CPU time (user + system, all threads) of the whole process, peak "
                  "resident memory (VmHWM), GC cycles, and the longest and the 99th-percentile pause: the "
                  "stop-the-world time of one cycle as the system itself reports it.  For latency, also the "
                  "distribution of single operations.  `-`: the system has no such figure.\n")
    readme += sections
    (out / "README.md").write_text("\n".join(readme))

    print("\n".join(printed))
    print("bench: %s mode took %.0f s; reports in %s" % (mode_name, elapsed, os.path.relpath(out, os.getcwd())))
    return 1 if failed_any else 0


if __name__ == "__main__":
    sys.exit(main())
