// SPDX-License-Identifier: MIT
/*
 * xi-rtp-sink: the receiver's own count of what reached its UDP socket, per
 * RTP SSRC, to hold xicept's XDP counters against.
 *
 *   xi-rtp-sink --bind 10.199.0.2:5004 [--idle 1.5] [--duration 30] [--ready FILE]
 *
 * Runs until --idle seconds pass without a datagram (after the first one) or
 * --duration seconds in all, then prints one JSON document. bytes are UDP
 * payload bytes, as header-stats counts them. RTCP (RFC 5761 payload types
 * 64..95) is counted under its sender SSRC, in rtcp_packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <xicept/dataplane.h>
#include <xicept/rtp.h>

#include "user/lib/clock.h"

#define MAX_SSRCS 256

struct ssrc_count {
	uint32_t ssrc;
	uint64_t packets, bytes, rtp_packets, rtcp_packets, payload_bytes;
	uint16_t first_seq, last_seq;
};

struct sink {
	struct ssrc_count ssrcs[MAX_SSRCS];
	size_t n_ssrcs;
	uint64_t packets, bytes, non_rtp, socket_drops;
};

static const char usage[] =
	"Usage: xi-rtp-sink --bind IP:PORT [--idle SECONDS] [--duration SECONDS] [--ready FILE]\n";

static double now_s(void)
{
	return (double)xi_mono_ns() / 1e9;
}

static struct ssrc_count *ssrc_slot(struct sink *s, uint32_t ssrc)
{
	for (size_t i = 0; i < s->n_ssrcs; i++)
		if (s->ssrcs[i].ssrc == ssrc)
			return &s->ssrcs[i];
	if (s->n_ssrcs == MAX_SSRCS)
		return NULL;
	s->ssrcs[s->n_ssrcs].ssrc = ssrc;
	return &s->ssrcs[s->n_ssrcs++];
}

static void count(struct sink *s, const uint8_t *pkt, size_t len)
{
	struct xi_rtp_header hdr;
	struct ssrc_count *c;

	s->packets++;
	s->bytes += len;
	if (len >= 8 && (pkt[0] >> 6) == 2 && (pkt[1] & 0x7f) >= 64 && (pkt[1] & 0x7f) <= 95) {
		c = ssrc_slot(s, (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 |
				 (uint32_t)pkt[6] << 8 | pkt[7]);
		if (!c)
			goto other;
		c->packets++;
		c->bytes += len;
		c->rtcp_packets++;
		return;
	}
	if (xi_rtp_header_parse(pkt, len, &hdr))
		goto other;
	c = ssrc_slot(s, hdr.ssrc);
	if (!c)
		goto other;
	if (!c->rtp_packets)
		c->first_seq = hdr.seq;
	c->last_seq = hdr.seq;
	c->packets++;
	c->bytes += len;
	c->rtp_packets++;
	c->payload_bytes += hdr.payload_len;
	return;
other:
	s->non_rtp++;
}

static int open_socket(const char *bind_text)
{
	struct sockaddr_storage sa = { 0 };
	struct xi_endpoint ep;
	struct xi_err err = { 0 };
	int fd, one = 1, buf = 8 << 20;
	socklen_t salen;

	if (xi_endpoint_parse(bind_text, &ep, &err)) {
		fprintf(stderr, "xi-rtp-sink: --bind: %s\n", err.msg);
		return -1;
	}
	if (ep.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		in->sin_family = AF_INET;
		in->sin_port = htons(ep.port);
		memcpy(&in->sin_addr, ep.addr, 4);
		salen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(ep.port);
		memcpy(&in6->sin6_addr, ep.addr, 16);
		salen = sizeof(*in6);
	}
	fd = socket(ep.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("xi-rtp-sink: socket");
		return -1;
	}
	/* A big buffer, so the socket itself never drops what XDP counted. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen)) {
		fprintf(stderr, "xi-rtp-sink: bind %s: %s\n", bind_text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads every queued datagram; returns how many. */
static int drain(int fd, struct sink *s)
{
	uint8_t pkt[65536], ctrl[CMSG_SPACE(sizeof(uint32_t))];
	struct iovec iov = { pkt, sizeof(pkt) };
	int got = 0;

	for (;;) {
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0)
			return got;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			uint32_t drops;

			/* The kernel's running count of datagrams this socket dropped. */
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
				s->socket_drops = drops;
			}
		}
		count(s, pkt, (size_t)n);
		got++;
	}
}

static int cmp_ssrc(const void *a, const void *b)
{
	const struct ssrc_count *x = a, *y = b;

	return x->ssrc < y->ssrc ? -1 : x->ssrc > y->ssrc;
}

static void print_json(struct sink *s)
{
	json_t *doc = json_object(), *arr = json_array();

	qsort(s->ssrcs, s->n_ssrcs, sizeof(s->ssrcs[0]), cmp_ssrc);
	json_object_set_new(doc, "packets", json_integer((json_int_t)s->packets));
	json_object_set_new(doc, "bytes", json_integer((json_int_t)s->bytes));
	json_object_set_new(doc, "non_rtp", json_integer((json_int_t)s->non_rtp));
	json_object_set_new(doc, "socket_drops", json_integer((json_int_t)s->socket_drops));
	for (size_t i = 0; i < s->n_ssrcs; i++) {
		const struct ssrc_count *c = &s->ssrcs[i];

		json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
			"ssrc", (json_int_t)c->ssrc, "packets", (json_int_t)c->packets,
			"bytes", (json_int_t)c->bytes, "rtp_packets", (json_int_t)c->rtp_packets,
			"rtcp_packets", (json_int_t)c->rtcp_packets,
			"payload_bytes", (json_int_t)c->payload_bytes,
			"first_seq", (int)c->first_seq, "last_seq", (int)c->last_seq));
	}
	json_object_set_new(doc, "ssrcs", arr);
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
}

static double parse_seconds(const char *s, const char *opt)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0)) {
		fprintf(stderr, "xi-rtp-sink: invalid %s '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "idle", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ready", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *bind_text = NULL, *ready = NULL;
	double idle = 1.0, duration = 30.0, start, last;
	static struct sink s;
	int c, fd;

	while ((c = getopt_long(argc, argv, "b:i:d:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': bind_text = optarg; break;
		case 'i': idle = parse_seconds(optarg, "--idle"); break;
		case 'd': duration = parse_seconds(optarg, "--duration"); break;
		case 'r': ready = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!bind_text || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	fd = open_socket(bind_text);
	if (fd < 0)
		return 1;
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rfd >= 0)
			close(rfd);
	}
	start = last = now_s();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t;

		poll(&p, 1, 20);
		if (drain(fd, &s))
			last = now_s();
		t = now_s();
		if (t - start >= duration || (s.packets && t - last >= idle))
			break;
	}
	close(fd);
	print_json(&s);
	return 0;
}
