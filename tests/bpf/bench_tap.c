// SPDX-License-Identifier: MIT
/*
 * make bench (tap-record rows): what the tap's record costs the packet's
 * core. BPF_PROG_TEST_RUN of xi_entry pinned to one CPU over one RTP frame,
 * chain header-stats ! tap, with the ring read on another the ways a daemon
 * may read it:
 *   none            header-stats alone, no tap stage: the baseline
 *   no-reader       nobody reads during the run (the ring is emptied after it)
 *   reader-waiting  the daemon's loop: poll on the ring's fd with a timeout
 *                   of XI_TAP_READ_MS, then xi_ring_consume
 *   reader-waiting-libbpf  the daemon's loop before: the same poll on
 *                   libbpf's epoll fd (level-triggered: once woken, it polls
 *                   readable while any record waits), ring_buffer__consume
 *   reader-busy     a reader that never sleeps: xi_ring_consume in a loop
 *   reader-busy-libbpf  the same with libbpf's ring_buffer__consume, which
 *                   stores the consumer position after every record
 * The record's cost is a row's median minus none's. Every figure is
 * checked: XI_REASON_CHAIN_END advanced by exactly the repeat count, every
 * record was read (records == packets) and none was lost (tap_full 0), or
 * the run fails loudly.
 * It needs an AF_XDP socket in xi_xsks (the tap's sign of a daemon): a
 * veth pair of its own, xib<pid>a/b, removed on exit.
 * Usage: bench_tap [GEN_CPU [READ_CPU [MODE]]] (default 0 1, every mode;
 * with MODE, none and it, for a profile of one).
 * Not a cmocka test: the file name lacks the test_ prefix on purpose.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/xi_tb.h"
#include "bpf/xi_xsk.h"
#include "user/engine/ring.h"
#include "user/engine/tap.h"

#define ROUNDS 7
#define REPEAT 50000u   /* small records: well within the ring, for no-reader */
#define CONN 1
#define SSRC 0xbe0c0001u
static int gen_cpu, read_cpu = 1;   /* argv[1], argv[2] */

enum mode { NONE, NO_READER, WAITING, WAITING_LIBBPF, BUSY, BUSY_LIBBPF, MODES };
static const char *const mode_names[MODES] = {
	"none", "no-reader", "reader-waiting", "reader-waiting-libbpf", "reader-busy",
	"reader-busy-libbpf",
};

static struct {
	struct tb *tb;
	struct xsk_fx xsk;
	struct xi_ring *ring;
	struct ring_buffer *lrb;
	enum mode mode;
	int stop;
	uint64_t records;        /* read by either reader, ours or libbpf's */
} bx;

static void fail(void)
{
	xsk_fx_down(&bx.xsk);
	exit(1);
}

#define DIE(...) do {							\
	fprintf(stderr, "bench-tap: " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	fail();								\
} while (0)

static void take_one(void *ctx, const struct xi_tap_record *r, uint32_t size)
{
	/* Read what the daemon reads first, so the lines move as they would. */
	if (size < sizeof(*r) || r->meta.conn_id != CONN)
		DIE("a record of %u bytes, conn %u", size, size >= sizeof(*r) ? r->meta.conn_id : 0);
	__atomic_store_n(&bx.records, bx.records + 1, __ATOMIC_RELAXED);
}

/* A ring record: one record, or a CPU's batch of them. */
static void take(void *ctx, const void *data, uint32_t size)
{
	if (xi_tap_records(data, size, take_one, NULL) < 0)
		DIE("a batch of %u bytes that does not hold its records", size);
}

static int take_libbpf(void *ctx, void *data, size_t size)
{
	take(ctx, data, (uint32_t)size);
	return 0;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *reader(void *arg)
{
	struct pollfd p = { .fd = xi_ring_fd(bx.ring), .events = POLLIN };
	struct pollfd lp = { .fd = ring_buffer__epoll_fd(bx.lrb), .events = POLLIN };

	if (pin(read_cpu))
		DIE("cannot pin the reader to CPU %d", read_cpu);
	while (!__atomic_load_n(&bx.stop, __ATOMIC_ACQUIRE)) {
		switch (bx.mode) {
		case WAITING:
			p.revents = 0;
			if (poll(&p, 1, XI_TAP_READ_MS) < 0)
				DIE("poll failed");
			xi_ring_consume(bx.ring, p.revents & POLLIN);
			break;
		case WAITING_LIBBPF:
			if (poll(&lp, 1, XI_TAP_READ_MS) < 0)
				DIE("poll failed");
			ring_buffer__consume(bx.lrb);
			break;
		case BUSY:
			xi_ring_consume(bx.ring, 0);
			break;
		default:
			ring_buffer__consume(bx.lrb);
			break;
		}
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ROUNDS rounds after a warm-up; min, median, max ns per packet. */
static void bench(enum mode m, const uint8_t *f, size_t n, uint32_t ret[3])
{
	const uint8_t stages[] = { XI_STAGE_HEADER_STATS, XI_STAGE_TAP };
	uint64_t end = tb_reason(bx.tb, XI_REASON_CHAIN_END);
	uint64_t full = tb_reason(bx.tb, XI_REASON_TAP_FULL), want;
	uint32_t v[ROUNDS];
	pthread_t th;

	if (tb_conn(bx.tb, CONN, stages, m == NONE ? 1 : 2, XI_ACT_PASS, 90000))
		DIE("cannot configure the connection");
	bx.mode = m;
	bx.stop = 0;
	bx.records = 0;
	if (m >= WAITING && pthread_create(&th, NULL, reader, NULL))
		DIE("cannot start the reader");
	for (int i = -1; i < ROUNDS; i++) {
		uint32_t ns = 0;
		int act = tb_run_prog(bx.tb, bx.tb->skel->progs.xi_entry, f, n, REPEAT, &ns);

		if (act != XDP_PASS)
			DIE("%s: xi_entry returned %d, want XDP_PASS", mode_names[m], act);
		if (m == NO_READER) {
			usleep(3 * XI_TAP_FLUSH_US);
			xi_ring_consume(bx.ring, 0);
		}
		if (i >= 0)
			v[i] = ns;
	}
	if (m >= WAITING) {
		__atomic_store_n(&bx.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		usleep(3 * XI_TAP_FLUSH_US);    /* the last partial batch's timer */
		xi_ring_consume(bx.ring, 0);   /* what the last poll left */
	}
	want = (uint64_t)(ROUNDS + 1) * REPEAT;
	if (tb_reason(bx.tb, XI_REASON_CHAIN_END) - end != want)
		DIE("%s: XI_REASON_CHAIN_END advanced by %llu, want %llu", mode_names[m],
		    (unsigned long long)(tb_reason(bx.tb, XI_REASON_CHAIN_END) - end),
		    (unsigned long long)want);
	if (tb_reason(bx.tb, XI_REASON_TAP_FULL) != full)
		DIE("%s: tap_full advanced by %llu, want 0", mode_names[m],
		    (unsigned long long)(tb_reason(bx.tb, XI_REASON_TAP_FULL) - full));
	if (bx.records != (m == NONE ? 0 : want))
		DIE("%s: %llu records read, want %llu", mode_names[m],
		    (unsigned long long)bx.records, (unsigned long long)(m == NONE ? 0 : want));
	qsort(v, ROUNDS, sizeof(v[0]), cmp_u32);
	ret[0] = v[0];
	ret[1] = v[ROUNDS / 2];
	ret[2] = v[ROUNDS - 1];
}

int main(int argc, char **argv)
{
	struct rtp_spec r = { .ssrc = SSRC, .seq = 1, .pt = 96, .ext_words = -1, .body = 160 };
	struct xi_flow_key k = tb_key4(TB_LOCAL4, 5004, TB_PEER4, 40000);
	uint8_t pl[256], f[PKT_MAX];
	struct pkt_spec s = tb_spec4(pl, rtp_build(pl, &r));
	size_t n = pkt_build(f, &s);
	uint32_t slot = XI_STAGE_TAP, q = 0, t[MODES][3];
	int ring_fd, xsk_fd, prog_fd;

	if (argc > 1)
		gen_cpu = atoi(argv[1]);
	if (argc > 2)
		read_cpu = atoi(argv[2]);
	bx.tb = tb_open();
	if (!bx.tb || tb_config(bx.tb, XI_ACT_PASS, XI_ACT_PASS, 0, 0) || tb_flow(bx.tb, &k, CONN))
		return 1;
	if (pin(gen_cpu) || xsk_fx_up(&bx.xsk, "xib"))
		DIE("cannot pin to CPU %d or make the AF_XDP socket", gen_cpu);
	ring_fd = tb_fd(bx.tb->skel->maps.xi_tap_ring);
	xsk_fd = xsk_socket__fd(bx.xsk.xsk);
	prog_fd = bpf_program__fd(bx.tb->skel->progs.xi_tap);
	if (bpf_map_update_elem(tb_fd(bx.tb->skel->maps.xi_xsks), &q, &xsk_fd, BPF_ANY) ||
	    bpf_map_update_elem(tb_fd(bx.tb->skel->maps.xi_stages), &slot, &prog_fd, BPF_ANY) ||
	    xi_ring_open(ring_fd, take, NULL, &bx.ring))
		DIE("cannot fill the tap's slot or map its ring");
	bx.lrb = ring_buffer__new(ring_fd, take_libbpf, NULL, NULL);
	if (!bx.lrb)
		DIE("cannot open libbpf's reader");
	printf("xicept bench-tap: BPF_PROG_TEST_RUN on CPU %d, %zu-byte IPv4 RTP frame, "
	       "header-stats ! tap, repeat %u, %d rounds; ring read on CPU %d; every record read\n\n",
	       gen_cpu, n, REPEAT, ROUNDS, read_cpu);
	printf("%-24s %8s %8s %8s %10s\n", "mode", "min", "median", "max", "record ns");
	for (int m = 0; m < MODES; m++) {
		if (argc > 3 && m != NONE && strcmp(argv[3], mode_names[m]))
			continue;
		bench((enum mode)m, f, n, t[m]);
		printf("row %-20s %8u %8u %8u %10d\n", mode_names[m], t[m][0], t[m][1], t[m][2],
		       (int)t[m][1] - (int)t[NONE][1]);
	}
	printf("\nns per packet on CPU %d; record ns = the median minus none's\n", gen_cpu);
	ring_buffer__free(bx.lrb);
	xi_ring_free(bx.ring);
	xsk_fx_down(&bx.xsk);
	tb_close(bx.tb);
	return 0;
}
