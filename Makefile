# tricolor -- build, test, install.
#
#   make               libtricolor.a and libtricolor.so in build/lib
#   make test          every test, ending with "N passed, N failed"
#   make test-asan     the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo          build everything and run the demo workload
#   make bench         build and run the benchmarks in bench/
#   make install PREFIX=/usr/local
#
# CC=clang works as well as gcc.  BUILD selects the output directory.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O2
VERSION := 0.1.0

WARN    := -Wall -Wextra -Werror
CFLAGS_BASE := -std=c11 $(OPT) -g $(WARN) -D_GNU_SOURCE -pthread -Iinclude
LIB_CFLAGS  := $(CFLAGS_BASE) -fPIC -fvisibility=hidden $(EXTRA_CFLAGS)
TEST_CFLAGS := $(CFLAGS_BASE) -Isrc -Itests/support $(EXTRA_CFLAGS)
LDLIBS  := -pthread

SRCS    := $(sort $(wildcard src/*.c src/*/*.c))
OBJS    := $(SRCS:%.c=$(BUILD)/obj/%.o)
DEPS    := $(OBJS:.o=.d)

LIB_A   := $(BUILD)/lib/libtricolor.a
LIB_SO  := $(BUILD)/lib/libtricolor.so
LIB_INT := $(BUILD)/lib/libtricolor_internal.a

UNIT_SRCS  := $(sort $(wildcard tests/unit/*_test.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
API_SRCS   := $(sort $(wildcard tests/api/*_test.c))
API_BINS   := $(API_SRCS:tests/api/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

.PHONY: all lib test test-asan test-tsan demo bench install clean tests examples benches

all: lib examples benches
lib: $(LIB_A) $(LIB_SO)
tests: $(UNIT_BINS) $(API_BINS) $(BUILD)/tests/shared_link_test
examples: $(EXAMPLE_BINS)
benches: $(BENCH_BINS)

# Everything compiled depends on the flags it was compiled with: changing
# CC, OPT or EXTRA_CFLAGS for a build directory rebuilds it.
FLAGS_STAMP := $(BUILD)/.flags
RUNTIME_SECTIONS := --rename-section .data=tricolor_data --rename-section .data.rel.local=tricolor_data \
                    --rename-section .bss=tricolor_bss
FLAGS_NOW := $(CC) $(LIB_CFLAGS) $(TEST_CFLAGS) $(RUNTIME_SECTIONS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
.PHONY: FORCE
FORCE:

# The runtime's own writable data (free lists, arena index, bitmaps,
# statistics) moves to sections of its own, which the collector's scan of
# global data skips (src/gc/roots.c): runtime metadata is never a root,
# and its words would otherwise hold objects alive by coincidence.
$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@
	objcopy $(RUNTIME_SECTIONS) $@

-include $(DEPS)

# The static library is one relocatable object whose non-API symbols are
# made local, so a program's own span_alloc never collides with ours.
$(LIB_A): $(OBJS)
	@mkdir -p $(dir $@)
	ld -r -o $(BUILD)/lib/tricolor.o $(OBJS)
	objcopy --localize-hidden $(BUILD)/lib/tricolor.o
	rm -f $@ && ar rcs $@ $(BUILD)/lib/tricolor.o

$(LIB_SO): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libtricolor.so.0 $(EXTRA_CFLAGS) -o $@ $(OBJS) $(LDLIBS)
	ln -sf libtricolor.so $(BUILD)/lib/libtricolor.so.0

# Unit tests see the internals: they link the objects unlocalised.
$(LIB_INT): $(OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(OBJS)

$(BUILD)/tests/%_test: tests/unit/%_test.c $(LIB_INT) $(FLAGS_STAMP) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< $(LIB_INT) -o $@ $(LDLIBS)

# API tests use only the public header and the static library.
$(BUILD)/tests/%_test: tests/api/%_test.c $(LIB_A) $(FLAGS_STAMP) tests/support/test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -Itests/support $(EXTRA_CFLAGS) $< $(LIB_A) -o $@ $(LDLIBS)

# The same symbol-collision test against the shared library.
$(BUILD)/tests/shared_link_test: tests/api/symbols_test.c $(LIB_SO) $(FLAGS_STAMP) tests/support/test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -Itests/support $(EXTRA_CFLAGS) $< -L$(BUILD)/lib -Wl,-rpath,$(abspath $(BUILD)/lib) -ltricolor -o $@ $(LDLIBS)

$(BUILD)/examples/%: examples/%.c $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(EXTRA_CFLAGS) $< $(LIB_A) -o $@ $(LDLIBS)

$(BUILD)/bench/page_heap: bench/page_heap.c $(LIB_INT) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< $(LIB_INT) -o $@ $(LDLIBS)

# Other benchmarks may use internals (-Isrc, the unlocalised archive).
$(BUILD)/bench/%: bench/%.c $(LIB_INT) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< $(LIB_INT) -o $@ $(LDLIBS)

$(BUILD)/bench/alloc: bench/alloc.c $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(EXTRA_CFLAGS) $< $(LIB_A) -o $@ -ldl $(LDLIBS)

test: lib tests examples benches
	@BUILD=$(BUILD) CC="$(CC)" EXAMPLE_CFLAGS="$(EXTRA_CFLAGS)" sh tests/run.sh

ASAN_FLAGS := -DTC_DEBUG=1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
test-asan:
	$(MAKE) BUILD=build-asan OPT=-O1 EXTRA_CFLAGS="$(ASAN_FLAGS)" test

# ThreadSanitizer over the tests where threads share the heap.
# safepoint_test forks, and the fork handler holds every runtime lock at
# once: more than TSan's deadlock detector can track (64), so that test
# runs with deadlock detection off (races are still reported), and with
# die_after_fork=0: its fork child starts the collector thread again.
TSAN_TESTS := threads_test mcache_test stats_test object_test allspans_test \
              gc_stress_test wbbuf_test checkmark_test safepoint_test \
              finalizer_test weak_test limiter_test scavenger_test trace_test
test-tsan:
	$(MAKE) BUILD=build-tsan OPT=-O1 EXTRA_CFLAGS="-fsanitize=thread" $(TSAN_TESTS:%=build-tsan/tests/%)
	@set -e; for t in $(TSAN_TESTS); do \
	    opts=halt_on_error=1; [ $$t = safepoint_test ] && opts="$$opts:detect_deadlocks=0:die_after_fork=0"; \
	    TSAN_OPTIONS=$$opts build-tsan/tests/$$t >build-tsan/tests/$$t.log 2>&1 \
	    && echo "PASS $$t (tsan)" || { echo "FAIL $$t (tsan)"; tail -40 build-tsan/tests/$$t.log; exit 1; }; done

demo: all
	$(BUILD)/examples/demo

# The benchmark suite: bench/suite.mk, bench/README.md.  QUICK=1: < 2 minutes.
include bench/suite.mk
bench: benches bench-programs
	$(SUITE_RUN) $(if $(filter 1 yes,$(QUICK)),--quick)

# tricolor-trace: the tool, its tests, make fuzz-trace (tools/trace/README.md).
include tools/trace/trace.mk

install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/tricolor.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libtricolor.so.$(VERSION)
	ln -sf libtricolor.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libtricolor.so.0
	ln -sf libtricolor.so.0 $(DESTDIR)$(PREFIX)/lib/libtricolor.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tricolor.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tricolor.pc
	for t in $(TOOLS); do install -m 755 $$t $(DESTDIR)$(PREFIX)/bin/; done

# tricolor-heapdump: the heap dump reader, its tests, make fuzz-heapdump.
include tools/heapdump/heapdump.mk

clean:
	rm -rf build build-asan build-tsan build-clang
