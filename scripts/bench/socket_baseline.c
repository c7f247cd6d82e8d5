// SPDX-License-Identifier: MIT
/*
 * socket-baseline: what a user would write instead of xicept's fast path,
 * and the UDP sink of the "pass" scenarios of `make bench`. It reads a UDP
 * socket with recvmmsg and, per datagram, does what the chain under
 * comparison does: an SSRC allow or deny list and header-stats' per-SSRC
 * statistics (packets, bytes, RFC 3550 A.1 sequence tracking, A.8 jitter),
 * through the same C code the header-stats twin runs.
 *
 *   socket-baseline --bind IP:PORT [--mode count|allow|deny] [--ssrc-base X
 *                   --ssrcs N] [--stats] [--cpu C] [--expect N] [--idle S]
 *                   [--ready FILE] [--rcvbuf BYTES]
 *
 * deny runs the statistics first, then the filter (header-stats ! ssrc-filter
 * mode=deny); allow filters first (ssrc-filter mode=allow ! header-stats).
 * Stops after --expect datagrams, or --idle seconds without one after the
 * first, and prints one line:
 *   received=N passed=N filtered=N stats_packets=N ns=T mpps=M cpu_ns=C socket_drops=D
 * ns runs from the first datagram to the last one handled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xicept/rtp.h>
#include "user/interceptors/header_stats/twin.h"
#include "user/interceptors/header_stats/header_stats_abi.h"

#define BATCH      64
#define DGRAM_MAX  2048
#define TABLE      256          /* per-SSRC slots, a power of two */

enum mode { MODE_COUNT, MODE_ALLOW, MODE_DENY };

struct opts {
	struct sockaddr_in bind;
	enum mode mode;
	uint32_t ssrc_base, n_ssrcs;
	bool stats;
	int cpu, rcvbuf;
	uint64_t expect;
	double idle;
	const char *ready;
};

struct counts {
	uint64_t received, passed, filtered, stats_packets, first_ns, last_ns;
};

/* Open addressing by SSRC: what a user's hash map would be, without its
 * allocation. */
struct table {
	struct xi_stream_stats s[TABLE];
	bool used[TABLE];
};

static void die(const char *what)
{
	fprintf(stderr, "socket-baseline: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct xi_stream_stats *slot(struct table *t, uint32_t ssrc)
{
	for (uint32_t i = 0, h = ssrc * 2654435761u; i < TABLE; i++) {
		uint32_t k = (h + i) & (TABLE - 1);

		if (!t->used[k]) {
			t->used[k] = true;
			memset(&t->s[k], 0, sizeof(t->s[k]));
			t->s[k].ssrc = ssrc;
			return &t->s[k];
		}
		if (t->s[k].ssrc == ssrc)
			return &t->s[k];
	}
	return NULL;
}

static bool listed(const struct opts *o, uint32_t ssrc)
{
	return ssrc - o->ssrc_base < o->n_ssrcs;
}

static void stats(struct table *t, const struct xi_rtp_header *h, size_t len, uint64_t now,
		  struct counts *c)
{
	struct xi_pkt_ctx pc = {
		.now_ns = now, .ssrc = h->ssrc, .rtp_timestamp = h->timestamp, .seq = h->seq,
		.payload_len = (uint16_t)len, .rtp_hdr_len = (uint16_t)h->header_len,
		.rtp_pad_len = (uint16_t)h->padding_len, .payload_type = h->payload_type,
		.marker = h->marker,
	};
	struct xi_stream_stats *s = slot(t, h->ssrc);

	if (s) {
		xi_twin_stream_stats_update(s, &pc, 90000);
		c->stats_packets++;
	}
}

/* One datagram through the filter and the statistics, in chain order. */
static void handle(const struct opts *o, struct table *t, const uint8_t *p, size_t len,
		   uint64_t now, struct counts *c)
{
	struct xi_rtp_header h;
	bool drop;

	c->received++;
	if (o->mode == MODE_COUNT || xi_rtp_header_parse(p, len, &h)) {
		c->passed++;
		return;
	}
	drop = o->mode == MODE_DENY ? listed(o, h.ssrc) : !listed(o, h.ssrc);
	if (o->stats && o->mode == MODE_DENY)
		stats(t, &h, len, now, c);
	if (drop) {
		c->filtered++;
		return;
	}
	if (o->stats && o->mode == MODE_ALLOW)
		stats(t, &h, len, now, c);
	c->passed++;
}

/* The socket's own drop count, from /proc/net/udp of this namespace. */
static unsigned long long socket_drops(uint16_t port)
{
	FILE *f = fopen("/proc/net/udp", "r");
	char line[512];
	unsigned long long drops = 0;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned lport;
		char *last = strrchr(line, ' ');

		if (sscanf(line, " %*d: %*x:%x", &lport) == 1 && lport == port && last)
			drops = strtoull(last + 1, NULL, 10);
	}
	if (f)
		fclose(f);
	return drops;
}

static int open_socket(const struct opts *o)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	/* FORCE: above rmem_max, so the buffer, not the reader, absorbs bursts. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &o->rcvbuf, sizeof(o->rcvbuf)))
		die("SO_RCVBUFFORCE");
	if (bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)))
		die("bind");
	return fd;
}

static void loop(const struct opts *o, int fd, struct table *t, struct counts *c)
{
	static uint8_t bufs[BATCH][DGRAM_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], DGRAM_MAX };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!o->expect || c->received < o->expect) {
		int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		uint64_t now;

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			die("recvmmsg");
		if (n <= 0) {
			int ms = c->received ? (int)(o->idle * 1000) : 60000;

			if (poll(&pfd, 1, ms) == 0)
				break;
			continue;
		}
		now = mono_ns();
		if (!c->received)
			c->first_ns = now;
		for (int i = 0; i < n; i++)
			handle(o, t, bufs[i], msgs[i].msg_len, now, c);
		c->last_ns = mono_ns();
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: socket-baseline --bind IP:PORT [--mode count|allow|deny] "
		"[--ssrc-base X --ssrcs N] [--stats] [--cpu C] [--expect N] [--idle S] "
		"[--ready FILE] [--rcvbuf BYTES]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "bind", 1, 0, 'b' }, { "mode", 1, 0, 'm' }, { "ssrc-base", 1, 0, 's' },
		{ "ssrcs", 1, 0, 'n' }, { "stats", 0, 0, 'S' }, { "cpu", 1, 0, 'c' },
		{ "expect", 1, 0, 'e' }, { "idle", 1, 0, 'i' }, { "ready", 1, 0, 'r' },
		{ "rcvbuf", 1, 0, 'R' }, { 0 }
	};
	char ip[64];
	unsigned port;
	int c, bound = 0;

	*o = (struct opts){ .ssrc_base = 0x5eed0000, .n_ssrcs = 1, .cpu = -1, .idle = 1.0,
			    .rcvbuf = 1 << 30 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			bound = sscanf(optarg, "%63[^:]:%u", ip, &port) == 2 && port < 65536 &&
				inet_pton(AF_INET, ip, &o->bind.sin_addr) == 1;
			o->bind.sin_family = AF_INET;
			o->bind.sin_port = htons(port);
			break;
		case 'm':
			o->mode = !strcmp(optarg, "allow") ? MODE_ALLOW :
				  !strcmp(optarg, "deny") ? MODE_DENY : MODE_COUNT;
			break;
		case 's': o->ssrc_base = strtoul(optarg, NULL, 0); break;
		case 'n': o->n_ssrcs = strtoul(optarg, NULL, 0); break;
		case 'S': o->stats = true; break;
		case 'c': o->cpu = atoi(optarg); break;
		case 'e': o->expect = strtoull(optarg, NULL, 0); break;
		case 'i': o->idle = atof(optarg); break;
		case 'r': o->ready = optarg; break;
		case 'R': o->rcvbuf = atoi(optarg); break;
		default: usage();
		}
	}
	if (!bound)
		usage();
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct table t;
	struct counts c = { 0 };
	struct opts o;
	uint64_t cpu0, ns;
	int fd;

	parse(argc, argv, &o);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity");
	}
	fd = open_socket(&o);
	if (o.ready) {
		FILE *f = fopen(o.ready, "w");

		if (!f)
			die(o.ready);
		fclose(f);
	}
	cpu0 = cpu_ns();
	loop(&o, fd, &t, &c);
	ns = c.last_ns - c.first_ns;
	printf("received=%llu passed=%llu filtered=%llu stats_packets=%llu ns=%llu mpps=%.4f "
	       "cpu_ns=%llu socket_drops=%llu\n", (unsigned long long)c.received,
	       (unsigned long long)c.passed, (unsigned long long)c.filtered,
	       (unsigned long long)c.stats_packets, (unsigned long long)ns,
	       ns ? (double)c.received * 1e3 / (double)ns : 0.0,
	       (unsigned long long)(cpu_ns() - cpu0), socket_drops(ntohs(o.bind.sin_port)));
	close(fd);
	return 0;
}
