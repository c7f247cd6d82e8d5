# BPF build rules, included by the Makefile. Defines BPF_SKELS.
#
# One object, bpf/xicept.bpf.c: the entry and to_user programs of bpf/ plus
# every interceptor's stage, user/interceptors/<name>/<name>.bpf.c, which
# the generated xi_stage_srcs.h #includes, so that the shared maps exist
# once and one skeleton covers them all. A new stage file is found by name.
# Built like libbpf-bootstrap, from UAPI headers rather than vmlinux.h, so
# the build does not depend on the running kernel; the target architecture
# is the build machine's.

BPF_CLANG  ?= clang
BPFTOOL    ?= bpftool
BPF_ARCH   := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/i.86/x86/' -e 's/aarch64.*/arm64/' \
                -e 's/arm.*/arm/' -e 's/ppc64.*/powerpc/' -e 's/riscv64/riscv/' -e 's/s390x/s390/' \
                -e 's/loongarch64/loongarch/' -e 's/mips.*/mips/')
BPF_MULTIARCH := $(shell gcc -dumpmachine 2>/dev/null)
BPF_CFLAGS := -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_$(BPF_ARCH) \
              $(if $(BPF_MULTIARCH),-I/usr/include/$(BPF_MULTIARCH)) -Iinclude -Ibpf -I. -I$(BUILD)/gen \
              $(BPF_EXTRA_CFLAGS)
# Extra folders of stages, for a build with a test-only stage (see Makefile).
BPF_STAGE_SRCS := $(call find_src,user/interceptors $(XI_EXTRA_STAGE_DIRS),*.bpf.c)
BPF_SRCS   := $(wildcard bpf/*.bpf.c bpf/*.h) include/xicept/abi.h $(BPF_STAGE_SRCS) \
              $(call find_src,user/interceptors $(XI_EXTRA_STAGE_DIRS),*.h)

BPF_OBJ    := $(BUILD)/bpf/xicept.bpf.o
BPF_SKELS  := $(BUILD)/gen/xicept.skel.h
BPF_STAGE_LIST := $(BUILD)/gen/xi_stage_srcs.h

# Rewritten only when the list changes, so that it is a real prerequisite.
$(BPF_STAGE_LIST): FORCE
	@mkdir -p $(@D)
	@printf '#include "%s"\n' $(BPF_STAGE_SRCS) > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

# Every map the stages define, which xi_entry references (bpf/entry.bpf.c).
BPF_STAGE_MAPS := $(BUILD)/gen/xi_stage_maps.h

$(BPF_STAGE_MAPS): $(BPF_STAGE_SRCS) FORCE
	@mkdir -p $(@D)
	@sed -n 's/^} *\(xi_[A-Za-z0-9_]*\) *SEC("\.maps").*/\tXI_ANCHOR_MAP(\1)/p' \
	    /dev/null $(BPF_STAGE_SRCS) > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

$(BPF_OBJ): $(BPF_SRCS) $(BPF_STAGE_LIST) $(BPF_STAGE_MAPS)
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_CFLAGS) -c bpf/xicept.bpf.c -o $@

# Each stage's source includes what it uses (xi_common.h, xi_egress.h, its
# own ABI header): compiled alone too, so that a missing include fails the
# build rather than hiding behind what the object included before it.
BPF_ALONE  := $(patsubst %.bpf.c,$(BUILD)/bpf/alone/%.o,$(BPF_STAGE_SRCS))

$(BUILD)/bpf/alone/%.o: %.bpf.c $(BPF_SRCS)
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/gen/xicept.skel.h: $(BPF_OBJ)
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name xicept > $@.tmp && mv $@.tmp $@

.PHONY: FORCE
FORCE:

# Benchmark of the XDP fast path (not part of make test): a table of ns per
# packet from BPF_PROG_TEST_RUN, checked against the counters.
BENCH_BPF := $(BUILD)/bin/tests/bpf/bench_bpf
BENCH_TAP := $(BUILD)/bin/tests/bpf/bench_tap

bench-bpf: $(BENCH_BPF)
	$(BENCH_BPF)
