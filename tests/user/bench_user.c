// SPDX-License-Identifier: MIT
/*
 * bench_user: the xicept side of `make bench-user`. It reads N synthetic RTP
 * packets of one SSRC, with every sequence number where seq % 100 == 37
 * missing, through "nack-generator ! receiver-report" built from the global
 * catalog, polling the chain every 20 ms of synthetic time, and prints one
 * "result" line that scripts/bench/bench-user.sh turns into a table beside
 * scripts/bench/pion/main.go doing the same work.
 *
 * Not a unit test (no test_ prefix): it times, and it checks that the work
 * was done: every packet read through, the last RR's cumulative lost equal
 * to the known loss, every lost packet NACKed and no received one. Exits 1
 * when a check fails.
 *
 *   bench_user [-n packets] [-r repeats] [-c chain-text]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/rtcp.h>
#include <xicept/stream.h>
#include "user/lib/bytes.h"

#define MEDIA_SSRC   0x5eed0001u
#define NACK_SSRC    0x0000a001u
#define RR_SSRC      0x0000a002u
#define HEADER_LEN   12
#define PAYLOAD_LEN  1200
#define PKT_LEN      (HEADER_LEN + PAYLOAD_LEN)
#define TS_STEP      3000u               /* 90 kHz, one packet per 30 fps frame */
#define POLL_NS      20000000ull         /* poll every 20 ms of synthetic time */
#define LOSS_PERIOD  100
#define LOSS_PHASE   37
#define MAX_REPEATS  64

/*
 * pion's tickers run on wall time: at its ~3000 packets per millisecond both
 * interceptors write about every 3000 packets. Here the clock is synthetic
 * (33.3 ms a packet), so 100 s intervals write about as often. The log size
 * must hold what arrives between two NACK rounds on pion's side; 16384 does,
 * and pion 0.1.12's 32768 never NACKs once the log is full.
 */
#define DEFAULT_CHAIN                                                        \
	"nack-generator size=16384 interval=100s sender-ssrc=0xa001 "            \
	"! receiver-report interval=100s sender-ssrc=0xa002"
#define FLUSH_NS     (100ull * 1000000000ull)   /* the longest interval above */

static bool lost(uint64_t i)
{
	return (i & 0xffff) % LOSS_PERIOD == LOSS_PHASE;
}

/* Synthetic arrival: what the RTP timestamps say, 100/3 ms a packet. */
static uint64_t arrival_ns(uint64_t i)
{
	return i * 100000000ull / 3;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the packet source the chain reads from ---- */

struct source {
	uint8_t pkt[PKT_LEN];
};

static ssize_t source_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct source *s = ctx;

	if (cap < sizeof(s->pkt))
		return -ENOSPC;
	memcpy(buf, s->pkt, sizeof(s->pkt));
	return sizeof(s->pkt);
}

static void source_init(struct source *s)
{
	memset(s->pkt, 0xab, sizeof(s->pkt));
	s->pkt[0] = 0x80;
	s->pkt[1] = 96;
	xi_put_be32(s->pkt + 8, MEDIA_SSRC);
}

static void source_set(struct source *s, uint64_t i)
{
	s->pkt[2] = (uint8_t)(i >> 8);
	s->pkt[3] = (uint8_t)i;
	xi_put_be32(s->pkt + 4, (uint32_t)(i * TS_STEP));
}

/* ---- the RTCP sink: keeps what was written, decoded after the clock stops ---- */

struct emitted {
	uint64_t latest;          /* index of the newest packet read by then */
	size_t len;
	uint8_t *raw;
};

struct sink {
	const uint64_t *latest;
	size_t n, cap;
	struct emitted *v;
};

static ssize_t sink_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct sink *k = ctx;
	struct emitted *e;

	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		struct emitted *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	e = &k->v[k->n];
	e->raw = malloc(len);
	if (!e->raw)
		return -ENOMEM;
	memcpy(e->raw, pkt, len);
	e->len = len;
	e->latest = *k->latest;
	k->n++;
	return (ssize_t)len;
}

static void sink_free(struct sink *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].raw);
	free(k->v);
}

/* ---- one run ---- */

struct run {
	double ns_per_pkt;
	double cpu_per_pkt;       /* process CPU time, as the Go side measures */
	uint64_t read;
	size_t rr, nacks;
	bool have_rr;
	struct xi_rtcp_report_block last_rr;
	uint64_t nack_seqs, nacked, uncovered, spurious;
};

struct expect {
	uint64_t n;
	uint64_t lost;            /* all of them */
	uint64_t knowable_lost;   /* before the last packet read */
	uint64_t last_read;
};

static int die(const char *what, int rc)
{
	fprintf(stderr, "bench_user: %s: %s\n", what, strerror(-rc));
	exit(1);
}

/* The NACKed numbers, placed on the packet index line by the newest packet
 * read when they were written (the log holds 16384: no ambiguity). */
static int decode_nack(const struct xi_rtcp_packet *p, uint64_t latest, uint8_t *covered,
		       struct run *r)
{
	uint16_t seqs[17 * 512];
	int n = xi_rtcp_nack_expand(p, seqs, sizeof(seqs) / sizeof(seqs[0]));

	if (n < 0)
		return n;
	if (p->fb.media_ssrc != MEDIA_SSRC || p->fb.sender_ssrc != NACK_SSRC)
		return -EPROTO;
	for (int j = 0; j < n; j++) {
		uint64_t back = (uint16_t)((uint16_t)latest - seqs[j]);

		r->nack_seqs++;
		if (back > latest || !lost(latest - back)) {
			r->spurious++;
			continue;
		}
		covered[latest - back] = 1;
	}
	return 0;
}

static int decode(const struct sink *k, const struct expect *x, struct run *r)
{
	uint8_t *covered = calloc(x->n, 1);
	struct xi_rtcp_compound c;
	int rc = 0;

	if (!covered)
		return -ENOMEM;
	for (size_t i = 0; i < k->n && !rc; i++) {
		rc = xi_rtcp_compound_parse(k->v[i].raw, k->v[i].len, &c);
		for (size_t j = 0; rc == 0 && j < c.n; j++) {
			const struct xi_rtcp_packet *p = &c.pkts[j];

			if (p->kind == XI_RTCP_KIND_RR) {
				r->rr++;
				if (p->rr.ssrc != RR_SSRC || p->rr.report_count != 1)
					rc = -EPROTO;
				else
					rc = xi_rtcp_report_block(p, 0, &r->last_rr);
				r->have_rr = rc == 0 && r->last_rr.ssrc == MEDIA_SSRC;
			} else if (p->kind == XI_RTCP_KIND_NACK) {
				r->nacks++;
				rc = decode_nack(p, k->v[i].latest, covered, r);
			} else {
				rc = -EPROTO;
			}
		}
	}
	for (uint64_t i = 0; i < x->last_read; i++) {
		if (!lost(i))
			continue;
		if (covered[i])
			r->nacked++;
		else
			r->uncovered++;
	}
	free(covered);
	return rc;
}

static void run_once(struct xi_catalog *cat, const char *chain_text, const struct expect *x,
		     struct run *r)
{
	struct xi_stream_info info = {
		.id = "bench", .ssrc = MEDIA_SSRC, .payload_type = 96, .clock_rate = 90000,
		.mime_type = "video/VP8", .n_rtcp_feedback = 1,
		.rtcp_feedback = { { .type = "nack" } },
	};
	uint64_t latest = 0, next_poll = 0, t0, t1, c0, c1;
	struct xi_attributes attrs = { 0 };
	struct source src;
	struct sink k = { .latest = &latest };
	struct xi_writer sink_w = { .write = sink_write, .ctx = &k }, w;
	struct xi_reader rd, base = { .read = source_read, .ctx = &src };
	struct xi_err err = { 0 };
	struct xi_interceptor *ic;
	struct xi_chain *chain;
	static uint8_t buf[2048];
	int rc;

	memset(r, 0, sizeof(*r));
	source_init(&src);
	rc = xi_catalog_build(cat, chain_text, NULL, &chain, &err);
	if (rc) {
		fprintf(stderr, "bench_user: %s\n", err.msg);
		exit(1);
	}
	ic = xi_chain_interceptor(chain);
	if ((rc = xi_interceptor_bind_rtcp_writer(ic, sink_w, &w)))
		die("bind RTCP writer", rc);
	if ((rc = xi_interceptor_bind_remote_stream(ic, &info, base, &rd)))
		die("bind remote stream", rc);

	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < x->n; i++) {
		uint64_t now = arrival_ns(i);
		ssize_t n;

		for (; next_poll <= now; next_poll += POLL_NS)
			if ((rc = xi_interceptor_poll(ic, next_poll)))
				die("poll", rc);
		if (lost(i))
			continue;
		source_set(&src, i);
		xi_attributes_reset(&attrs);
		xi_attributes_set_u64(&attrs, XI_ATTR_ARRIVAL_NS, now);
		n = xi_reader_read(rd, buf, sizeof(buf), &attrs);
		if (n != PKT_LEN)
			die("read", n < 0 ? (int)n : -EIO);
		latest = i;
		r->read++;
	}
	t1 = clock_ns(CLOCK_MONOTONIC);
	c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	r->ns_per_pkt = (double)(t1 - t0) / (double)x->n;
	r->cpu_per_pkt = (double)(c1 - c0) / (double)x->n;

	/* One more round of both timers, after every packet. */
	if ((rc = xi_interceptor_poll(ic, next_poll + FLUSH_NS)))
		die("final poll", rc);
	xi_interceptor_unbind_remote_stream(ic, &info);
	if ((rc = xi_chain_close(chain, &err)))
		die("close", rc);
	if ((rc = decode(&k, x, r)))
		die("decode RTCP", rc);
	sink_free(&k);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int check(const struct run *r, size_t i, const struct expect *x)
{
	int bad = 0;

	if (r->read != x->n - x->lost) {
		fprintf(stderr, "bench_user: repeat %zu read %llu packets, want %llu\n", i,
			(unsigned long long)r->read, (unsigned long long)(x->n - x->lost));
		bad = 1;
	}
	if (!r->have_rr || r->last_rr.cumulative_lost != (int32_t)x->knowable_lost ||
	    r->last_rr.ext_highest_seq != (uint32_t)x->last_read) {
		fprintf(stderr, "bench_user: repeat %zu last RR: cumulative lost %d, ext highest %u; "
			"want %llu, %llu\n", i, r->last_rr.cumulative_lost,
			r->last_rr.ext_highest_seq, (unsigned long long)x->knowable_lost,
			(unsigned long long)x->last_read);
		bad = 1;
	}
	if (r->uncovered || r->spurious || !r->nacks) {
		fprintf(stderr, "bench_user: repeat %zu: %zu NACKs; %llu lost packets never NACKed, "
			"%llu NACKed numbers not lost\n", i, r->nacks,
			(unsigned long long)r->uncovered, (unsigned long long)r->spurious);
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	const char *chain_text = DEFAULT_CHAIN;
	struct expect x = { .n = 1000000 };
	struct run runs[MAX_REPEATS], warm;
	double ns[MAX_REPEATS], cpu[MAX_REPEATS];
	size_t repeats = 5, rr_min = SIZE_MAX, rr_max = 0, nk_min = SIZE_MAX, nk_max = 0;
	int32_t lost_min = INT32_MAX, lost_max = INT32_MIN;
	uint64_t nacked_min = UINT64_MAX, missed = 0;
	struct xi_catalog *cat;
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "n:r:c:")) != -1) {
		if (opt == 'n')
			x.n = strtoull(optarg, NULL, 0);
		else if (opt == 'r')
			repeats = strtoul(optarg, NULL, 0);
		else if (opt == 'c')
			chain_text = optarg;
		else
			return 2;
	}
	if (x.n < 2 * LOSS_PERIOD || repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr, "usage: bench_user [-n packets >= 200] [-r 1..64] [-c chain]\n");
		return 2;
	}
	for (uint64_t i = 0; i < x.n; i++) {
		if (lost(i))
			x.lost++;
		else
			x.last_read = i;
	}
	for (uint64_t i = 0; i < x.last_read; i++)
		x.knowable_lost += lost(i);

	cat = xi_catalog_new_from_global();
	if (!cat)
		die("catalog", -errno);
	run_once(cat, chain_text, &x, &warm);   /* untimed warm-up, still checked */
	bad |= check(&warm, 0, &x);
	for (size_t i = 0; i < repeats; i++) {
		run_once(cat, chain_text, &x, &runs[i]);
		bad |= check(&runs[i], i + 1, &x);
		ns[i] = runs[i].ns_per_pkt;
		cpu[i] = runs[i].cpu_per_pkt;
		rr_min = runs[i].rr < rr_min ? runs[i].rr : rr_min;
		rr_max = runs[i].rr > rr_max ? runs[i].rr : rr_max;
		nk_min = runs[i].nacks < nk_min ? runs[i].nacks : nk_min;
		nk_max = runs[i].nacks > nk_max ? runs[i].nacks : nk_max;
		nacked_min = runs[i].nacked < nacked_min ? runs[i].nacked : nacked_min;
		missed += runs[i].uncovered;
		if (runs[i].last_rr.cumulative_lost < lost_min)
			lost_min = runs[i].last_rr.cumulative_lost;
		if (runs[i].last_rr.cumulative_lost > lost_max)
			lost_max = runs[i].last_rr.cumulative_lost;
	}
	xi_catalog_free(cat);
	qsort(ns, repeats, sizeof(ns[0]), cmp_double);
	qsort(cpu, repeats, sizeof(cpu[0]), cmp_double);

	printf("result side=xicept n=%llu read=%llu want_read=%llu lost=%llu min=%.1f median=%.1f "
	       "max=%.1f cpu_median=%.1f rr=%zu..%zu nacks=%zu..%zu nacked=%llu missed=%llu rr_cum_lost=%d..%d "
	       "want_lost=%llu "
	       "checks=%s\n",
	       (unsigned long long)x.n, (unsigned long long)runs[0].read,
	       (unsigned long long)(x.n - x.lost), (unsigned long long)x.lost, ns[0],
	       ns[repeats / 2], ns[repeats - 1], cpu[repeats / 2], rr_min, rr_max, nk_min, nk_max,
	       (unsigned long long)nacked_min, (unsigned long long)missed,
	       lost_min, lost_max,
	       (unsigned long long)x.knowable_lost, bad ? "FAIL" : "ok");
	return bad;
}
