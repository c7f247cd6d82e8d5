# BPF build rules, included by the Makefile. Defines BPF_SKELS.
#
# One object, bpf/xicept.bpf.c, #includes every stage file so that its maps
# exist once and one skeleton covers them all. Built like libbpf-bootstrap,
# from UAPI headers rather than vmlinux.h, so the build does not depend on the
# running kernel.

BPF_CLANG  ?= clang
BPFTOOL    ?= bpftool
BPF_CFLAGS := -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_x86 \
              -I/usr/include/x86_64-linux-gnu -Iinclude -Ibpf
BPF_SRCS   := $(wildcard bpf/*.bpf.c bpf/*.h) include/xicept/abi.h

BPF_OBJ    := $(BUILD)/bpf/xicept.bpf.o
BPF_SKELS  := $(BUILD)/gen/xicept.skel.h

$(BPF_OBJ): $(BPF_SRCS)
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_CFLAGS) -c bpf/xicept.bpf.c -o $@

$(BUILD)/gen/xicept.skel.h: $(BPF_OBJ)
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name xicept > $@.tmp && mv $@.tmp $@

# Benchmark of the XDP fast path (not part of make test): a table of ns per
# packet from BPF_PROG_TEST_RUN, checked against the counters.
BENCH_BPF := $(BUILD)/bin/tests/bpf/bench_bpf

bench-bpf: $(BENCH_BPF)
	$(BENCH_BPF)
