# tools/heapdump/heapdump.mk -- the heap dump reader tricolor-heapdump,
# its tests and its fuzz target; included by the Makefile.
#
#   $(BUILD)/bin/tricolor-heapdump   built by `make`, installed by `make install`
#   make test                        also runs heapdump_test (the runtime's writer
#                                    against the parser), heapdump_corpus_test (the
#                                    fuzz corpus replayed, truncated and mutated)
#                                    and tests/heapdump/tool_test.sh (the tool's
#                                    output on known dumps)
#   make fuzz-heapdump               libFuzzer on the parser for FUZZ_TIME seconds
#                                    (default 60; clang, FUZZ_CC to change it)
#
# The reader needs no part of the library: it builds from tools/heapdump/
# and the format's constants in src/dump/heapdump_format.h.

HD_DIR      := tools/heapdump
HD_LIB_SRCS := $(HD_DIR)/hd_parse.c $(HD_DIR)/hd_query.c
HD_HDRS     := $(HD_DIR)/hd_parse.h $(HD_DIR)/hd_query.h src/dump/heapdump_format.h
HD_TOOL     := $(BUILD)/bin/tricolor-heapdump
HD_CFLAGS    = $(CFLAGS_BASE) -Isrc -I$(HD_DIR) $(EXTRA_CFLAGS)
HD_TESTS    := $(BUILD)/tests/heapdump_test $(BUILD)/tests/heapdump_corpus_test $(BUILD)/tests/heapdump_gen_known

TOOLS += $(HD_TOOL)
all: $(HD_TOOL)
tests: $(HD_TOOL) $(HD_TESTS)
install: $(HD_TOOL)

$(HD_TOOL): $(HD_DIR)/tricolor_heapdump.c $(HD_LIB_SRCS) $(HD_HDRS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HD_CFLAGS) $(HD_DIR)/tricolor_heapdump.c $(HD_LIB_SRCS) -o $@

# The runtime's writer read back by the tool's parser (internals: -Isrc).
$(BUILD)/tests/heapdump_test: tests/heapdump/heapdump_test.c $(HD_LIB_SRCS) $(HD_HDRS) $(LIB_INT) $(FLAGS_STAMP) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -I$(HD_DIR) $< $(HD_LIB_SRCS) $(LIB_INT) -o $@ $(LDLIBS)

$(BUILD)/tests/heapdump_corpus_test: tests/fuzz/heapdump_corpus_test.c tests/fuzz/heapdump_fuzz.c $(HD_LIB_SRCS) $(HD_HDRS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HD_CFLAGS) tests/fuzz/heapdump_corpus_test.c tests/fuzz/heapdump_fuzz.c $(HD_LIB_SRCS) -o $@

# Not a test itself (no _test suffix): tool_test.sh runs it.
$(BUILD)/tests/heapdump_gen_known: tests/heapdump/gen_known.c src/dump/heapdump_format.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HD_CFLAGS) $< -o $@

FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
HD_FUZZ   := $(BUILD)/fuzz/heapdump_fuzz
.PHONY: fuzz-heapdump
$(HD_FUZZ): tests/fuzz/heapdump_fuzz.c $(HD_LIB_SRCS) $(HD_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -g -O1 $(WARN) -D_GNU_SOURCE -Isrc -I$(HD_DIR) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    tests/fuzz/heapdump_fuzz.c $(HD_LIB_SRCS) -o $@

# New inputs go to $(BUILD)/fuzz/corpus; the committed corpus is only read.
# Crashes are written to $(BUILD)/fuzz/crash-*: replay one with
# `$(HD_FUZZ) FILE`, fix, and add the file to tests/fuzz/corpus/heapdump/.
fuzz-heapdump: $(HD_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus
	$(HD_FUZZ) -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus tests/fuzz/corpus/heapdump

# make test-tsan runs heapdump_test too (dumps while other threads allocate).
TSAN_TESTS += heapdump_test
