#!/usr/bin/env python3
"""check_json.py -- validates the output of `tricolor-trace json`.

It must be JSON in the Chrome Trace Event object form, and what Perfetto
and chrome://tracing need of it: every event with a known phase and the
fields that phase requires, complete ("X") slices that nest on each
thread track, async task begins ("b") matched by ends ("e"), counters
with numeric values, and every thread track named.

    check_json.py FILE [--thread NAME]... [--counter NAME]... [--pauses N]
                       [--cycles N] [--logs N] [--tasks N] [--min-slices CAT=N]...

Exits 0 if the file passes every check, 1 with one line per problem.
"""
import argparse
import json
import sys
from collections import Counter, defaultdict

EPS = 1e-6  # microseconds: the tool prints ts and dur with 3 decimals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--thread", action="append", default=[], help="a thread name that must exist")
    ap.add_argument("--counter", action="append", default=[], help="a counter name that must exist")
    ap.add_argument("--pauses", type=int, help="stop-the-world slices on the GC track")
    ap.add_argument("--cycles", type=int, help="cycle slices on the GC track")
    ap.add_argument("--logs", type=int, help="log instant events")
    ap.add_argument("--tasks", type=int, help="async task begin/end pairs")
    ap.add_argument("--min-slices", action="append", default=[], metavar="CAT=N",
                    help="at least N X slices whose cat contains CAT")
    args = ap.parse_args()

    problems = []

    def bad(msg):
        problems.append(msg)

    with open(args.file, encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        print("not the object form: no traceEvents array")
        return 1
    events = doc["traceEvents"]

    names = {}          # tid -> thread name
    slices = defaultdict(list)  # tid -> [(start, end, name)]
    asyncs = defaultdict(list)  # (cat, id, name) -> [ph, ts]
    counters = Counter()
    logs = 0
    cats = Counter()
    for i, e in enumerate(events):
        where = "event %d" % i
        if not isinstance(e, dict):
            bad(where + ": not an object")
            continue
        ph = e.get("ph")
        if ph not in ("M", "X", "C", "i", "b", "e"):
            bad(where + ": unexpected phase %r" % ph)
            continue
        if not isinstance(e.get("pid"), int) or not isinstance(e.get("name"), str):
            bad(where + ": pid and name are required")
            continue
        if ph == "M":
            if e["name"] == "thread_name":
                names[e.get("tid")] = e["args"]["name"]
            continue
        ts = e.get("ts")
        if not isinstance(ts, (int, float)) or ts < 0:
            bad(where + ": bad ts %r" % ts)
            continue
        if ph == "X":
            dur = e.get("dur")
            if not isinstance(dur, (int, float)) or dur < 0:
                bad(where + ": bad dur %r" % dur)
                continue
            slices[e.get("tid")].append((ts, ts + dur, e["name"]))
            for c in e.get("cat", "").split(","):
                cats[c] += 1
        elif ph == "C":
            vals = e.get("args", {})
            if not vals or not all(isinstance(v, (int, float)) for v in vals.values()):
                bad(where + ": a counter needs numeric args")
            counters[e["name"]] += 1
        elif ph == "i":
            if e.get("cat") == "log":
                logs += 1
            if e.get("tid") not in names:
                bad(where + ": instant on an unnamed track %r" % e.get("tid"))
        else:
            if "id" not in e:
                bad(where + ": async event without an id")
            asyncs[(e.get("cat"), e.get("id"), e["name"])].append((ph, ts))

    for tid, v in slices.items():
        if tid not in names:
            bad("slices on the unnamed track %r" % tid)
        v.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for start, end, name in v:
            while stack and stack[-1][1] <= start + EPS:
                stack.pop()
            if stack and end > stack[-1][1] + EPS:
                bad("track %r: %r [%g, %g] overlaps %r [%g, %g] without nesting"
                    % (names.get(tid, tid), name, start, end, stack[-1][2], stack[-1][0], stack[-1][1]))
            stack.append((start, end, name))

    pairs = 0
    for key, v in asyncs.items():
        kinds = Counter(ph for ph, _ in v)
        if kinds["b"] != kinds["e"]:
            bad("async %r: %d begins, %d ends" % (key, kinds["b"], kinds["e"]))
        b = sorted(ts for ph, ts in v if ph == "b")
        e = sorted(ts for ph, ts in v if ph == "e")
        if any(x > y + EPS for x, y in zip(b, e)):
            bad("async %r ends before it begins" % (key,))
        pairs += min(kinds["b"], kinds["e"])

    have = set(names.values())
    for want in ["GC", "GC phases"] + args.thread:
        if want not in have:
            bad("no track named %r (tracks: %s)" % (want, sorted(have)))
    for want in args.counter:
        if counters[want] == 0:
            bad("no counter %r (counters: %s)" % (want, sorted(counters)))
    gc_tid = next((t for t, n in names.items() if n == "GC"), None)
    gc_slices = slices.get(gc_tid, [])
    npauses = sum(1 for s in gc_slices if s[2].startswith("STW") or s[2] == "stop-the-world")
    ncycles = sum(1 for s in gc_slices if s[2].startswith("GC "))
    for what, got, want in (("pauses", npauses, args.pauses), ("cycles", ncycles, args.cycles),
                            ("logs", logs, args.logs), ("tasks", pairs, args.tasks)):
        if want is not None and got != want:
            bad("%s: %d, expected %d" % (what, got, want))
    for spec in args.min_slices:
        cat, n = spec.split("=")
        if cats[cat] < int(n):
            bad("%d slices of category %r, expected at least %s" % (cats[cat], cat, n))

    for p in problems[:40]:
        print(p)
    if problems:
        print("%s: %d problems" % (args.file, len(problems)))
        return 1
    print("%s: ok: %d events, %d tracks, %d pauses, %d cycles, %d tasks, %d logs, counters %s"
          % (args.file, len(events), len(names), npauses, ncycles, pairs, logs, dict(counters)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
