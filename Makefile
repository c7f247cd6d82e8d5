# xicept — build, test, demo, bench.  `make help` lists the targets.
#
# Sources are found by wildcard: library code in registry/ and user/ (the CLI
# in user/cli/), BPF programs in bpf/ (rules in bpf/bpf.mk), tests in tests/.
# Everything generated goes to $(BUILD), which git ignores.

SHELL    := /bin/bash
CC       := clang
AR       ?= ar
BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
BINDIR   ?= $(PREFIX)/sbin
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
CFLAGS   ?= -O2 -gdwarf-4   # valgrind 3.19 cannot read the DWARF 5 that clang 14 emits by default
XCFLAGS  := -std=gnu11 -fPIC $(WARN) -Iinclude -I. -I$(BUILD)/gen -D_GNU_SOURCE
LIBS     := -lbpf -lxdp -lelf -lz -lurcu-bp -ljansson -lpcap -lpthread -lm
TESTLIBS := -lcmocka $(LIBS)

ASAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN     := -fsanitize=thread -fno-omit-frame-pointer
FUZZ     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

LIB_SRCS := $(sort $(wildcard registry/*.c user/*.c))
CLI_SRCS := $(sort $(wildcard user/cli/*.c))
TOOL_SRCS:= $(sort $(wildcard scripts/tools/*.c))
HDRS     := $(wildcard include/xicept/*.h registry/*.h user/*.h user/cli/*.h)
TEST_HDRS:= $(wildcard tests/*/*.h)

UNIT_TESTS  := $(sort $(wildcard tests/registry/test_*.c tests/user/test_*.c))
BPF_TESTS   := $(sort $(wildcard tests/bpf/test_*.c))
TSAN_TESTS  := $(sort $(wildcard tests/*/tsan_*.c))
SHARED_TESTS:= $(sort $(wildcard tests/*/shared_*.c))
FUZZERS     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
INTEGRATION := $(sort $(wildcard tests/integration/t[0-9]*.sh))

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

BPF_SKELS :=
include bpf/bpf.mk

LIB_OBJS      := $(call obj,obj,$(LIB_SRCS))
LIB_OBJS_ASAN := $(call obj,asan,$(LIB_SRCS))
LIB_OBJS_TSAN := $(call obj,tsan,$(LIB_SRCS))
LIB_OBJS_FUZZ := $(call obj,fuzz,$(LIB_SRCS))

LIB_A      := $(BUILD)/libxicept.a
LIB_SO     := $(BUILD)/libxicept.so
LIB_A_ASAN := $(BUILD)/asan/libxicept.a
LIB_A_TSAN := $(BUILD)/tsan/libxicept.a
LIB_A_FUZZ := $(BUILD)/fuzz/libxicept.a
CLI        := $(BUILD)/xicept
TOOLS      := $(patsubst scripts/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

UNIT_BINS      := $(patsubst %.c,$(BUILD)/bin/%,$(UNIT_TESTS))
UNIT_BINS_ASAN := $(patsubst %.c,$(BUILD)/asan/bin/%,$(UNIT_TESTS))
BPF_BINS       := $(patsubst %.c,$(BUILD)/bin/%,$(BPF_TESTS))
BPF_BINS_ASAN  := $(patsubst %.c,$(BUILD)/asan/bin/%,$(BPF_TESTS))
TSAN_BINS      := $(patsubst %.c,$(BUILD)/tsan/bin/%,$(TSAN_TESTS))
SHARED_BINS    := $(patsubst %.c,$(BUILD)/bin/%,$(SHARED_TESTS))
FUZZ_BINS      := $(patsubst %.c,$(BUILD)/fuzz/bin/%,$(FUZZERS))

FUZZ_SECONDS ?= 300
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible

.PHONY: all deps lib cli tools bpf test test-unit test-asan test-valgrind test-tsan test-shared \
        test-bpf test-fuzz test-integration fuzz demo bench bench-bpf bench-user install clean help

all: lib cli tools

help:
	@echo "make            build libxicept.a, libxicept.so, the xicept CLI and the BPF objects"
	@echo "make demo       live demo on a veth testbed (installs what is missing)"
	@echo "make test       every test: unit (plain, ASan+UBSan, valgrind), TSan, BPF, fuzz, integration"
	@echo "make bench      benchmarks (bench-bpf and the userspace chain)"
	@echo "make fuzz       run the parser fuzzers for FUZZ_SECONDS (default 300) each"
	@echo "make install    PREFIX=/usr/local DESTDIR= : headers, libraries, xicept.pc, CLI"
	@echo "make deps       install Debian packages the project needs"

deps:
	@bash scripts/deps.sh

lib: $(LIB_A) $(LIB_SO)
cli: $(CLI)
tools: $(TOOLS)
bpf: $(BPF_SKELS)

# Library objects include the generated skeletons, so they wait for them.
$(BUILD)/obj/%.o: %.c $(HDRS) $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) -c $< -o $@
$(BUILD)/asan/%.o: %.c $(HDRS) $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(ASAN) $(XCFLAGS) -c $< -o $@
$(BUILD)/tsan/%.o: %.c $(HDRS) $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(TSAN) $(XCFLAGS) -c $< -o $@
$(BUILD)/fuzz/%.o: %.c $(HDRS) $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(FUZZ) $(XCFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libxicept.so.0 -o $@ $^ $(LIBS)
	ln -sf libxicept.so $(BUILD)/libxicept.so.0
$(LIB_A_ASAN): $(LIB_OBJS_ASAN)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB_A_TSAN): $(LIB_OBJS_TSAN)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB_A_FUZZ): $(LIB_OBJS_FUZZ)
	rm -f $@ && $(AR) rcs $@ $^

$(CLI): $(call obj,obj,$(CLI_SRCS)) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# Test and demo tools (RTP senders and sinks), one program per file.
$(BUILD)/tools/%: scripts/tools/%.c $(LIB_A) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $< $(LIB_A) $(LIBS)

# Tests link the static library: that also proves self-registration survives
# a static link. Each tests/<dir>/test_x.c is one program.
$(BUILD)/bin/tests/%: tests/%.c $(LIB_A) $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) -Itests -o $@ $< $(LIB_A) $(TESTLIBS)
$(BUILD)/asan/bin/tests/%: tests/%.c $(LIB_A_ASAN) $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(ASAN) $(XCFLAGS) -Itests -o $@ $< $(LIB_A_ASAN) $(TESTLIBS)
$(BUILD)/tsan/bin/tests/%: tests/%.c $(LIB_A_TSAN) $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(TSAN) $(XCFLAGS) -Itests -o $@ $< $(LIB_A_TSAN) $(TESTLIBS)
$(BUILD)/fuzz/bin/tests/%: tests/%.c $(LIB_A_FUZZ) $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) -O1 -g -fsanitize=fuzzer,address,undefined $(XCFLAGS) -o $@ $< $(LIB_A_FUZZ) $(LIBS)
# shared_*.c: the same, against libxicept.so (a static pattern rule, so it
# wins over the generic one above).
$(SHARED_BINS): $(BUILD)/bin/tests/%: tests/%.c $(LIB_SO) $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) -Itests -o $@ $< -L$(BUILD) -Wl,-rpath,$(abspath $(BUILD)) -l:libxicept.so $(TESTLIBS)

# ---- tests ----

test: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(BUILD)
	@set -o pipefail; $(MAKE) --no-print-directory test-unit test-asan test-valgrind test-tsan \
	    test-shared test-bpf test-fuzz test-integration 2>&1 | tee $(BUILD)/test.log; \
	  rc=$$?; bash scripts/test-summary.sh $(BUILD)/test.log; exit $$rc

define run_each
	@set -e; for t in $(1); do echo "== $(2)$$t"; $(3) $$t; done
endef

test-unit: $(UNIT_BINS)
	$(call run_each,$^,,)
test-asan: $(UNIT_BINS_ASAN) $(BPF_BINS_ASAN)
	$(call run_each,$^,[asan+ubsan] ,env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1)
test-valgrind: $(UNIT_BINS)
	$(call run_each,$^,[valgrind] ,$(VALGRIND))
test-tsan: $(TSAN_BINS)
	$(call run_each,$^,[tsan] ,env TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1)
test-shared: $(SHARED_BINS)
	$(call run_each,$^,[shared] ,)
test-bpf: $(BPF_BINS)
	$(call run_each,$^,[bpf] ,)
test-fuzz: $(FUZZ_BINS)
	$(call run_each,$^,[fuzz 10s] ,scripts/run-fuzzer.sh 10)
fuzz: $(FUZZ_BINS)
	$(call run_each,$^,[fuzz $(FUZZ_SECONDS)s] ,scripts/run-fuzzer.sh $(FUZZ_SECONDS))
test-integration: all
	$(call run_each,$(INTEGRATION),[integration] ,bash)

# ---- demo and benchmarks ----

demo: deps
	@$(MAKE) --no-print-directory all
	bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all bench-bpf bench-user

# The userspace chain against pion/interceptor doing the same work.
bench-user: $(BUILD)/bin/tests/user/bench_user
	bash scripts/bench/bench-user.sh $(BUILD)/bin/tests/user/bench_user

# ---- install ----

$(BUILD)/xicept.pc: scripts/xicept.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

install: all $(BUILD)/xicept.pc
	install -d $(DESTDIR)$(INCDIR)/xicept $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(BINDIR)
	install -m 0644 include/xicept/*.h $(DESTDIR)$(INCDIR)/xicept/
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libxicept.a
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libxicept.so.$(VERSION)
	ln -sf libxicept.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libxicept.so.0
	ln -sf libxicept.so.0 $(DESTDIR)$(LIBDIR)/libxicept.so
	install -m 0644 $(BUILD)/xicept.pc $(DESTDIR)$(LIBDIR)/pkgconfig/xicept.pc
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/xicept

clean:
	rm -rf $(BUILD)
