# bench/suite.mk -- the cross-system benchmark suite (bench/README.md,
# "The cross-system suite"), included by the Makefile.
#
#   make bench              build everything, run the full suite (< 15 min on 2 CPUs)
#   make bench QUICK=1      the same at smaller sizes (< 2 min)
#   make bench-smoke        build every program, run each once at a tiny size (CI)
#   make bench-programs     only build the suite's programs
#
# Every workload in bench/suite/ is one C file compiled once per system --
# $(BUILD)/bench/<workload>_<system> for system = tricolor, malloc,
# mimalloc, bdwgc -- plus the same algorithm in Go, <workload>_go.  The
# tricolor programs link libtricolor.a through the public header only.
# bdwgc (libgc-dev), mimalloc (libmimalloc-dev) and Go (golang-go) are
# optional: what is missing is skipped with a message, and the runner
# (bench/run_suite.py) reports those systems as skipped.  Whether each is
# present is tested when bench-programs runs, not when make reads this
# file, so other targets pay nothing for it.

SUITE_WORKLOADS := gcbench binarytrees latency
SUITE_DIR       := bench/suite
SUITE_OUT       := $(BUILD)/bench
SUITE_CFLAGS     = $(CFLAGS_BASE) -I$(SUITE_DIR) $(EXTRA_CFLAGS)
SUITE_DEPS      := $(SUITE_DIR)/suite.c $(wildcard $(SUITE_DIR)/*.h) bench/suite.mk

SUITE_TRICOLOR := $(SUITE_WORKLOADS:%=$(SUITE_OUT)/%_tricolor)
SUITE_MALLOC   := $(SUITE_WORKLOADS:%=$(SUITE_OUT)/%_malloc)
SUITE_MIMALLOC := $(SUITE_WORKLOADS:%=$(SUITE_OUT)/%_mimalloc)
SUITE_BDWGC    := $(SUITE_WORKLOADS:%=$(SUITE_OUT)/%_bdwgc)
SUITE_GO       := $(SUITE_WORKLOADS:%=$(SUITE_OUT)/%_go)

GO ?= go
# A plain `go build` of the workload and common.go: no module, no network,
# the build cache under the build directory.
SUITE_GOENV = GOCACHE=$(abspath $(SUITE_OUT))/go-cache GOPATH=$(abspath $(SUITE_OUT))/go-path \
              GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0

SUITE_RUN = python3 bench/run_suite.py --build $(BUILD) --cc "$(CC)"

.PHONY: bench-programs bench-smoke

$(SUITE_OUT)/%_tricolor: $(SUITE_DIR)/%.c $(SUITE_DIR)/sys_tricolor.c $(SUITE_DEPS) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SUITE_CFLAGS) -DSYS_TRICOLOR $< $(SUITE_DIR)/sys_tricolor.c $(SUITE_DIR)/suite.c \
	    $(LIB_A) -o $@ $(LDLIBS)

$(SUITE_OUT)/%_malloc: $(SUITE_DIR)/%.c $(SUITE_DIR)/sys_manual.c $(SUITE_DEPS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SUITE_CFLAGS) -DSYS_MALLOC $< $(SUITE_DIR)/sys_manual.c $(SUITE_DIR)/suite.c -o $@ $(LDLIBS)

$(SUITE_OUT)/%_mimalloc: $(SUITE_DIR)/%.c $(SUITE_DIR)/sys_manual.c $(SUITE_DEPS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SUITE_CFLAGS) -DSYS_MIMALLOC $< $(SUITE_DIR)/sys_manual.c $(SUITE_DIR)/suite.c \
	    -lmimalloc -o $@ $(LDLIBS)

$(SUITE_OUT)/%_bdwgc: $(SUITE_DIR)/%.c $(SUITE_DIR)/sys_bdwgc.c $(SUITE_DEPS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SUITE_CFLAGS) -DSYS_BDWGC $< $(SUITE_DIR)/sys_bdwgc.c $(SUITE_DIR)/suite.c -lgc -o $@ $(LDLIBS)

$(SUITE_OUT)/%_go: $(SUITE_DIR)/go/%.go $(SUITE_DIR)/go/common.go
	@mkdir -p $(dir $@)
	$(SUITE_GOENV) $(GO) build -o $@ $(SUITE_DIR)/go/common.go $<

# The optional systems: each is built only if its header (or the go
# command) is there.  A compile error in a present system still fails.
bench-programs: $(SUITE_TRICOLOR) $(SUITE_MALLOC)
	@if echo '#include <mimalloc.h>' | $(CC) -E -x c - >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(SUITE_MIMALLOC); \
	else echo "bench: mimalloc.h not found (install libmimalloc-dev): skipping the mimalloc programs"; fi
	@if echo '#include <gc.h>' | $(CC) -E -x c - >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(SUITE_BDWGC); \
	else echo "bench: gc.h not found (install libgc-dev): skipping the bdwgc programs"; fi
	@if command -v $(GO) >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(SUITE_GO); \
	else echo "bench: no '$(GO)' command (install golang-go): skipping the Go programs"; fi

# Every program once at a tiny size, results under $(BUILD)/bench/smoke.
bench-smoke: benches bench-programs
	$(SUITE_RUN) --smoke
