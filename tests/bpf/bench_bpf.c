// SPDX-License-Identifier: MIT
/*
 * make bench-bpf: ns per packet of each XDP program and of chains of 0..8
 * noop stages, from BPF_PROG_TEST_RUN with repeat, next to the limit: a
 * minimal program that only returns XDP_DROP, which is what test-run itself
 * costs. Every figure is checked: the reason counters (and, where a stage
 * keeps them, its own counters) must have advanced by exactly the repeat
 * count, or the run fails loudly.
 * Not a cmocka test: the file name lacks the test_ prefix on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bpf/xi_tb.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define ROUNDS 7
#define REPEAT 100000u
#define CONN 1
#define SSRC 0xbe0c0001u

struct scenario {
	const char *name;
	uint8_t n;
	uint8_t stages[XI_CHAIN_STAGES_MAX];
	uint32_t filter_mode;      /* SSRC listed: ALLOW passes, DENY drops */
	int noop_chain;            /* a row of the chain-length table */
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Min, median and max of the ROUNDS figures in v (sorted here). */
static void spread(uint32_t v[ROUNDS], uint32_t ret[3])
{
	qsort(v, ROUNDS, sizeof(v[0]), cmp_u32);
	ret[0] = v[0];
	ret[1] = v[ROUNDS / 2];
	ret[2] = v[ROUNDS - 1];
}

static void die(const char *what, unsigned long long got, unsigned long long want)
{
	fprintf(stderr, "bench-bpf: %s advanced by %llu, want %llu\n", what, got, want);
	exit(1);
}

static uint64_t stats_packets(struct tb *tb)
{
	struct xi_stream_stats st;

	return tb_stats(tb, CONN, SSRC, &st) ? 0 : st.packets;
}

/* One round; checks the counters and returns ns per packet. */
static uint32_t run_round(struct tb *tb, const struct scenario *sc, const uint8_t *f, size_t n)
{
	uint64_t rtp = tb_reason(tb, XI_REASON_RTP), end = tb_reason(tb, XI_REASON_CHAIN_END);
	uint64_t drops = tb_drops(tb, CONN, SSRC), pk = stats_packets(tb);
	int want = sc->filter_mode == XI_SSRC_MODE_DENY ? XDP_DROP : XDP_PASS, has_stats = 0;
	uint32_t ns = 0;
	int act = tb_run_prog(tb, tb->skel->progs.xi_entry, f, n, REPEAT, &ns);

	if (act != want) {
		fprintf(stderr, "bench-bpf: %s returned %d, want %d\n", sc->name, act, want);
		exit(1);
	}
	if (tb_reason(tb, XI_REASON_RTP) - rtp != REPEAT)
		die("XI_REASON_RTP", tb_reason(tb, XI_REASON_RTP) - rtp, REPEAT);
	if (want == XDP_DROP && tb_drops(tb, CONN, SSRC) - drops != REPEAT)
		die("xi_ssrc_drops", tb_drops(tb, CONN, SSRC) - drops, REPEAT);
	if (want == XDP_PASS && tb_reason(tb, XI_REASON_CHAIN_END) - end != REPEAT)
		die("XI_REASON_CHAIN_END", tb_reason(tb, XI_REASON_CHAIN_END) - end, REPEAT);
	for (int i = 0; i < sc->n; i++)
		has_stats |= sc->stages[i] == XI_STAGE_HEADER_STATS;
	if (has_stats && want == XDP_PASS && stats_packets(tb) - pk != REPEAT)
		die("xi_stream_stats packets", stats_packets(tb) - pk, REPEAT);
	return ns;
}

static uint32_t bench(struct tb *tb, const struct scenario *sc, const uint8_t *f, size_t n,
		      uint32_t ret[3])
{
	const uint32_t listed[] = { SSRC };
	uint32_t v[ROUNDS];
	struct xi_ssrc_filter off = { XI_SSRC_MODE_OFF };
	uint32_t conn = CONN;

	if (tb_conn(tb, CONN, sc->stages, sc->n, XI_ACT_PASS, 90000) ||
	    (sc->filter_mode ? tb_ssrc_filter(tb, CONN, sc->filter_mode, listed, 1)
			     : bpf_map_update_elem(tb_fd(tb->skel->maps.xi_ssrc_filters), &conn,
						   &off, BPF_ANY))) {
		fprintf(stderr, "bench-bpf: cannot configure %s\n", sc->name);
		exit(1);
	}
	run_round(tb, sc, f, n);   /* warm-up */
	for (int i = 0; i < ROUNDS; i++)
		v[i] = run_round(tb, sc, f, n);
	spread(v, ret);
	return ret[1];
}

/* "r0 = XDP_DROP; exit": the floor every program pays in test-run. */
static int limit_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xi_limit", "GPL", insns, 2, NULL);

	if (fd < 0) {
		fprintf(stderr, "bench-bpf: cannot load the limit program: %d\n", fd);
		exit(1);
	}
	return fd;
}

/* Min, median and max of ROUNDS rounds of prog_fd over f, after a warm-up;
 * check() verifies each round did the work. */
static void rounds(int prog_fd, const uint8_t *f, size_t n, int want,
		   void (*check)(struct tb *), struct tb *tb, uint32_t ret[3])
{
	uint32_t v[ROUNDS];

	for (int i = -1; i < ROUNDS; i++) {
		uint32_t ns = 0;
		int act = tb_run_fd(prog_fd, f, n, REPEAT, &ns);

		if (act != want) {
			fprintf(stderr, "bench-bpf: returned %d, want %d\n", act, want);
			exit(1);
		}
		if (check)
			check(tb);
		if (i >= 0)
			v[i] = ns;
	}
	spread(v, ret);
}

static uint64_t unknown_seen;

static void check_unknown(struct tb *tb)
{
	uint64_t now = tb_reason(tb, XI_REASON_UNKNOWN_FLOW);

	if (now - unknown_seen != REPEAT)
		die("XI_REASON_UNKNOWN_FLOW", now - unknown_seen, REPEAT);
	unknown_seen = now;
}

/* The limit, and xi_entry dropping an unknown flow by policy. */
static void bench_floor(struct tb *tb)
{
	struct rtp_spec r = { .ssrc = SSRC, .seq = 1, .pt = 96, .ext_words = -1, .body = 160 };
	uint8_t pl[256], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, &r));
	size_t n;
	uint32_t lim[3], unk[3];
	int fd = limit_prog();

	s.dport = 7777;   /* no flow */
	n = pkt_build(f, &s);
	rounds(fd, f, n, XDP_DROP, NULL, tb, lim);
	close(fd);
	if (tb_config(tb, XI_ACT_DROP, XI_ACT_PASS, 0, 0))
		exit(1);
	unknown_seen = tb_reason(tb, XI_REASON_UNKNOWN_FLOW);
	rounds(bpf_program__fd(tb->skel->progs.xi_entry), f, n, XDP_DROP, check_unknown, tb, unk);
	if (tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, 0, 0))
		exit(1);
	printf("%-30s %8s %8s %8s %8s\n", "floor", "min", "median", "max", "x limit");
	printf("%-30s %8u %8u %8u %8.2f\n", "limit (return XDP_DROP)", lim[0], lim[1], lim[2], 1.0);
	printf("%-30s %8u %8u %8u %8.2f\n\n", "xi_entry, unknown flow, drop", unk[0], unk[1],
	       unk[2], (double)unk[1] / lim[1]);
}

int main(void)
{
	struct scenario programs[] = {
		{ "xi_entry (empty chain)", 0, { 0 }, 0, 0 },
		{ "xi_noop", 1, { XI_STAGE_NOOP }, 0, 0 },
		{ "xi_ssrc_filter (pass)", 1, { XI_STAGE_SSRC_FILTER }, XI_SSRC_MODE_ALLOW, 0 },
		{ "xi_ssrc_filter (drop)", 1, { XI_STAGE_SSRC_FILTER }, XI_SSRC_MODE_DENY, 0 },
		{ "xi_header_stats", 1, { XI_STAGE_HEADER_STATS }, 0, 0 },
		{ "ssrc_filter ! header_stats", 2, { XI_STAGE_SSRC_FILTER, XI_STAGE_HEADER_STATS },
		  XI_SSRC_MODE_ALLOW, 0 },
	};
	struct rtp_spec r = { .ssrc = SSRC, .seq = 1, .pt = 96, .ext_words = -1, .body = 160 };
	uint8_t pl[256], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, &r));
	struct xi_flow_key k = tb_key4(TB_LOCAL4, 5004, TB_PEER4, 40000);
	size_t n = pkt_build(f, &s);
	struct tb *tb = tb_open();
	uint32_t t[3], base = 0;

	if (!tb || tb_config(tb, XI_ACT_PASS, XI_ACT_PASS, 0, 0) || tb_flow(tb, &k, CONN))
		return 1;
	printf("xicept bench-bpf: BPF_PROG_TEST_RUN, %zu-byte IPv4 RTP frame, repeat %u, "
	       "%d rounds; counters checked every round\n\n", n, REPEAT, ROUNDS);
	bench_floor(tb);
	printf("%-30s %8s %8s %8s %8s\n", "program (through xi_entry)", "min", "median", "max",
	       "x base");
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		bench(tb, &programs[i], f, n, t);
		if (i == 0)
			base = t[1];
		printf("%-30s %8u %8u %8u %8.2f\n", programs[i].name, t[0], t[1], t[2],
		       base ? (double)t[1] / base : 0.0);
	}
	printf("\n%-30s %8s %8s %8s %8s %10s\n", "chain of noop stages", "min", "median", "max",
	       "x base", "ns/stage");
	for (int len = 0; len <= 8; len++) {
		struct scenario sc = { "noop chain", (uint8_t)len, { 0 }, 0, 1 };
		char name[32];

		bench(tb, &sc, f, n, t);
		snprintf(name, sizeof(name), "length %d", len);
		printf("%-30s %8u %8u %8u %8.2f %10.1f\n", name, t[0], t[1], t[2],
		       base ? (double)t[1] / base : 0.0,
		       len ? ((double)t[1] - base) / len : 0.0);
	}
	printf("\nns per packet; base = the empty chain's median (%u ns) in this run\n", base);
	tb_close(tb);
	return 0;
}
