# xicept — build, test, demo, bench.  `make help` lists the targets.
#
# Sources are found by name: library code is every .c under registry/ and
# user/ but the CLI (user/cli/); BPF programs are bpf/*.bpf.c and each
# interceptor's <name>.bpf.c (rules in bpf/bpf.mk); tests mirror the tree
# under tests/. Adding a file needs no edit here.
# Everything generated goes to $(BUILD), which git ignores.

SHELL    := /bin/bash
# bpf/bpf.mk, included below, defines targets of its own: the goal of a bare
# `make` must not depend on which rule happens to come first.
.DEFAULT_GOAL := all
# A recipe that fails midway must not leave a target that looks up to date.
.DELETE_ON_ERROR:
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
XCFLAGS  := -std=gnu11 -fPIC $(WARN) -Iinclude -I. -I$(BUILD)/gen -D_GNU_SOURCE \
            -DXI_PLUGIN_DIR='"$(LIBDIR)/xicept/plugins"' -DXI_LIB_VERSION='"$(VERSION)"'
# Each compile writes the headers it read to a .d file beside its output;
# -MP adds an empty rule per header so a deleted header does not break make.
DEPFLAGS  = -MMD -MP -MF $@.d -MT $@
# Library (and CLI) objects export only what include/xicept/export.h marks
# XI_API; scripts/libxicept.map versions those in libxicept.so.
LIB_CFLAGS := -fvisibility=hidden
LIB_MAP  := scripts/libxicept.map
# libnl-route-3: the engine's veth pair over rtnetlink (user/engine/veth.c).
NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
NL_LIBS  := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3)
XCFLAGS  += $(NL_CFLAGS)
LIBS     := -lbpf -lxdp -lelf -lz -lurcu-bp -ljansson -lpcap -lsrtp2 -lcrypto $(NL_LIBS) -lpthread -lm
TESTLIBS := -lcmocka $(LIBS)
CLI_LIBS := -lmicrohttpd     # run --listen (user/cli/listen.c)

ASAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN     := -fsanitize=thread -fno-omit-frame-pointer
FUZZ     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

find_src = $(sort $(shell find $(1) -name '$(2)' $(3) 2>/dev/null))

LIB_SRCS := $(call find_src,registry user,*.c,-not -path 'user/cli/*' -not -name '*.bpf.c')

# A build with stages from other folders (XI_EXTRA_STAGE_DIRS: the test-only
# stage's): each folder's .c files join the library, its .bpf.c the BPF object
# (bpf/bpf.mk), and its stages_extra.h adds its lines to XI_STAGES.
XI_EXTRA_STAGE_DIRS ?=
LIB_SRCS += $(foreach d,$(XI_EXTRA_STAGE_DIRS),$(filter-out %.bpf.c %_test.c,$(wildcard $(d)/*.c)))
XCFLAGS  += $(foreach d,$(XI_EXTRA_STAGE_DIRS),-include $(d)/stages_extra.h)
BPF_EXTRA_CFLAGS := $(foreach d,$(XI_EXTRA_STAGE_DIRS),-include $(d)/stages_extra.h)
# The userspace-kind built-ins: every XI_CATALOG_ANCHOR(sym) in the
# interceptors' library sources becomes an X(sym) of XI_BUILTINS, which
# registry/builtin.c uses so that a static link keeps each one. A new
# interceptor folder is found by name; rules below.
BUILTIN_SRCS := $(filter user/interceptors/% $(addsuffix /%,$(XI_EXTRA_STAGE_DIRS)),$(LIB_SRCS))
BUILTINS_H   := $(BUILD)/gen/xi_builtins.h
CLI_SRCS := $(sort $(wildcard user/cli/*.c))
TOOL_SRCS:= $(sort $(wildcard scripts/tools/*.c))

# test_*_xdp.c and tests/bpf/ need root and BPF_PROG_TEST_RUN.
ALL_TESTS   := $(call find_src,tests/registry tests/user,test_*.c)
UNIT_TESTS  := $(filter-out %_xdp.c,$(ALL_TESTS))
BPF_TESTS   := $(sort $(wildcard tests/bpf/test_*.c) $(filter %_xdp.c,$(ALL_TESTS)))
TSAN_TESTS  := $(call find_src,tests,tsan_*.c)
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

# Every .d under $(BUILD), not a list of targets, so that bench and
# test-only builds get their header dependencies too.
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

FUZZ_SECONDS ?= 300
VALGRIND := valgrind -q --error-exitcode=99 --suppressions=tests/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible

.PHONY: all deps lib cli tools bpf test test-unit test-asan test-valgrind test-tsan test-shared \
        test-bpf test-stage-probe test-fuzz test-integration fuzz demo bench bench-bpf bench-user install clean help

all: lib cli bpf tools

help:
	@echo "make            build libxicept.a, libxicept.so, the xicept CLI, the BPF objects and the test tools"
	@echo "make demo       live demo on a veth testbed (installs what is missing)"
	@echo "make test       every test: unit (plain, ASan+UBSan, valgrind), TSan, BPF, fuzz, integration"
	@echo "make bench      live benchmarks on a veth testbed: bench/results/latest.{csv,md,png} (root)"
	@echo "make fuzz       run the parser fuzzers for FUZZ_SECONDS (default 300) each"
	@echo "make install    PREFIX=/usr/local DESTDIR= : headers, libraries, xicept.pc, CLI, xicept@.service"
	@echo "make deps       install Debian packages the project needs"

deps:
	@bash scripts/deps.sh

lib: $(LIB_A) $(LIB_SO)
cli: $(CLI)
tools: $(TOOLS)
bpf: $(BPF_SKELS) $(BPF_ALONE)

# Header dependencies come from the .d files. The skeleton is generated, so
# on a first build no .d file can say who includes it: every compile waits
# for it (order-only), and only the objects whose .d names it are rebuilt
# when it changes.
$(BUILD)/obj/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/asan/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(ASAN) $(XCFLAGS) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/tsan/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(TSAN) $(XCFLAGS) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/fuzz/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(FUZZ) $(XCFLAGS) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Rewritten only when the list changes, so that it is a real prerequisite.
$(BUILTINS_H): FORCE
	@mkdir -p $(@D)
	@{ echo '/* Generated by the Makefile from XI_CATALOG_ANCHOR in the interceptors. */'; \
	   echo '#define XI_BUILTINS(X) \'; \
	   sed -n 's/^XI_CATALOG_ANCHOR(\([A-Za-z0-9_]*\)).*/\tX(\1) \\/p' /dev/null $(BUILTIN_SRCS); \
	   echo; } > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
$(foreach v,obj asan tsan fuzz,$(BUILD)/$(v)/registry/builtin.o): $(BUILTINS_H)

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	$(CC) -shared -Wl,-soname,libxicept.so.0 -Wl,--version-script=$(LIB_MAP) \
	    -o $@ $(LIB_OBJS) $(LIBS)
	ln -sf libxicept.so $(BUILD)/libxicept.so.0
$(LIB_A_ASAN): $(LIB_OBJS_ASAN)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB_A_TSAN): $(LIB_OBJS_TSAN)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB_A_FUZZ): $(LIB_OBJS_FUZZ)
	rm -f $@ && $(AR) rcs $@ $^

# Plugins the CLI loads call the library's API in the CLI itself: it exports
# the XI_API symbols (only those: the rest are hidden), versioned as
# libxicept.so versions them, so a plugin linked against either binds here.
$(CLI): $(call obj,obj,$(CLI_SRCS)) $(LIB_A) $(LIB_MAP)
	$(CC) $(CFLAGS) -rdynamic -Wl,--version-script=$(LIB_MAP) -o $@ $(filter %.o %.a,$^) $(LIBS) $(CLI_LIBS)

# Test and demo tools (RTP senders and sinks), one program per file.
$(BUILD)/tools/%: scripts/tools/%.c $(LIB_A) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(DEPFLAGS) -o $@ $< $(LIB_A) $(LIBS)

# Tests link the static library: that also proves self-registration survives
# a static link. Each tests/<dir>/test_x.c is one program.
$(BUILD)/bin/tests/%: tests/%.c $(LIB_A) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(DEPFLAGS) -Itests -o $@ $< $(LIB_A) $(TESTLIBS)
$(BUILD)/asan/bin/tests/%: tests/%.c $(LIB_A_ASAN) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(ASAN) $(XCFLAGS) $(DEPFLAGS) -Itests -o $@ $< $(LIB_A_ASAN) $(TESTLIBS)
$(BUILD)/tsan/bin/tests/%: tests/%.c $(LIB_A_TSAN) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -gdwarf-4 $(TSAN) $(XCFLAGS) $(DEPFLAGS) -Itests -o $@ $< $(LIB_A_TSAN) $(TESTLIBS)
$(BUILD)/fuzz/bin/tests/%: tests/%.c $(LIB_A_FUZZ) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) -O1 -g -fsanitize=fuzzer,address,undefined $(XCFLAGS) $(DEPFLAGS) -o $@ $< $(LIB_A_FUZZ) $(LIBS)
# The plugin loader's test loads a plugin that calls the library in the test
# program itself, as the CLI's plugins do: it exports the API ("private": not
# the library's objects it depends on).
$(BUILD)/bin/tests/user/plugin/% $(BUILD)/asan/bin/tests/user/plugin/%: private XCFLAGS += -rdynamic
# shared_*.c: the same, against libxicept.so (a static pattern rule, so it
# wins over the generic one above).
$(SHARED_BINS): $(BUILD)/bin/tests/%: tests/%.c $(LIB_SO) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(DEPFLAGS) -Itests -o $@ $< -L$(BUILD) -Wl,-rpath,$(abspath $(BUILD)) -l:libxicept.so $(TESTLIBS)

# ---- tests ----

test: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(BUILD)
	@set -o pipefail; $(MAKE) --no-print-directory test-unit test-asan test-valgrind test-tsan \
	    test-shared test-bpf test-stage-probe test-fuzz test-integration 2>&1 | tee $(BUILD)/test.log; \
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

# The test-only stage (tests/user/dataplane/probe_stage): the library and the
# BPF object built again with its folder, nothing else changed, and its test
# run against them (root).
PROBE_DIR  := tests/user/dataplane/probe_stage
PROBE_TEST := $(BUILD)/probe/bin/$(PROBE_DIR)/probe_test

test-stage-probe:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/probe XI_EXTRA_STAGE_DIRS=$(PROBE_DIR) $(PROBE_TEST)
	$(call run_each,$(PROBE_TEST),[bpf] ,)
test-fuzz: $(FUZZ_BINS)
	$(call run_each,$^,[fuzz 10s] ,scripts/run-fuzzer.sh 10)
fuzz: $(FUZZ_BINS)
	$(call run_each,$^,[fuzz $(FUZZ_SECONDS)s] ,scripts/run-fuzzer.sh $(FUZZ_SECONDS))
# The CLI's --version.
$(BUILD)/obj/user/cli/main.o: XCFLAGS += -DXICEPT_VERSION='"$(VERSION)"'

BENCH_OUT   := $(BUILD)/bench
# BUILD in the environment: scripts that honour it test this build.
test-integration: all $(BENCH_OUT)/xi-gen $(BENCH_OUT)/socket-baseline
	$(call run_each,$(INTEGRATION),[integration] ,BUILD=$(BUILD) bash)

# ---- demo and benchmarks ----

demo: deps
	@$(MAKE) --no-print-directory all
	bash scripts/demo.sh

# make bench: every figure of issue 13 in one run on a veth testbed of its
# own (scripts/bench/bench.sh): bench/results/latest.{csv,md,png}. Needs root.

BENCH_TOOLS := $(BENCH_OUT)/xi-gen $(BENCH_OUT)/xi-limit $(BENCH_OUT)/socket-baseline \
	       $(BENCH_OUT)/xi-deliver-bench $(BENCH_OUT)/xi-srtp-bench

.PHONY: bench-tools
bench: deps
	@$(MAKE) --no-print-directory all bench-tools $(BENCH_BPF) $(BENCH_TAP) $(BUILD)/bin/tests/user/bench_user
	BUILD=$(BUILD) bash scripts/bench/bench.sh

bench-tools: $(BENCH_TOOLS)

# The generator and the limit programs: BPF objects and skeletons of their own.
.SECONDARY: $(BENCH_OUT)/gen.bpf.o $(BENCH_OUT)/limit.bpf.o
$(BENCH_OUT)/%.bpf.o: scripts/bench/%.bpf.c scripts/bench/gen.h
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name xi_bench_$* > $@.tmp && mv $@.tmp $@
$(BENCH_OUT)/xi-gen: scripts/bench/xi_gen.c $(BENCH_OUT)/gen.skel.h
	$(CC) $(CFLAGS) $(XCFLAGS) -I$(BENCH_OUT) $(DEPFLAGS) -o $@ $< -lxdp -lbpf -lelf -lz
$(BENCH_OUT)/xi-limit: scripts/bench/xi_limit.c $(BENCH_OUT)/limit.skel.h
	$(CC) $(CFLAGS) $(XCFLAGS) -I$(BENCH_OUT) $(DEPFLAGS) -o $@ $< -lbpf -lelf -lz
$(BENCH_OUT)/socket-baseline: scripts/bench/socket_baseline.c $(LIB_A) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(DEPFLAGS) -o $@ $< $(LIB_A) $(LIBS)
$(BENCH_OUT)/xi-deliver-bench: scripts/bench/deliver_bench.c $(LIB_A) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(DEPFLAGS) -o $@ $< $(LIB_A) $(LIBS)
$(BENCH_OUT)/xi-srtp-bench: scripts/bench/srtp_bench.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(DEPFLAGS) -o $@ $< $(LIB_A) $(LIBS)

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
	install -d $(DESTDIR)$(INCDIR)/xicept/bpf $(DESTDIR)$(LIBDIR)/xicept/plugins
	install -m 0644 bpf/xi_common.h $(DESTDIR)$(INCDIR)/xicept/bpf/xi_common.h
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libxicept.a
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libxicept.so.$(VERSION)
	ln -sf libxicept.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libxicept.so.0
	ln -sf libxicept.so.0 $(DESTDIR)$(LIBDIR)/libxicept.so
	install -m 0644 $(BUILD)/xicept.pc $(DESTDIR)$(LIBDIR)/pkgconfig/xicept.pc
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/xicept
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' deploy/systemd/xicept@.service.in \
	    > $(DESTDIR)$(SYSTEMDUNITDIR)/xicept@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/xicept@.service

# xicept as a service: the CLI reports readiness with sd_notify (libsystemd);
# install (above) writes the unit template with the installed binary's path.
$(CLI): LIBS += -lsystemd
# xicept.pc holds PREFIX: made again on every install, so that an install
# with another PREFIX does not get the last one's paths.
.PHONY: $(BUILD)/xicept.pc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

clean:
	rm -rf $(BUILD)
