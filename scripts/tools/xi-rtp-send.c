// SPDX-License-Identifier: MIT
/*
 * xi-rtp-send: a crafted RTP sender for exact loss and wraparound cases.
 *
 *   xi-rtp-send --to 10.199.0.2:5004 --ssrc 0x1234 [--pt 96] [--seq 65500]
 *               [--count 100] [--rate 200] [--skip 5,7,10-12] [--size 160]
 *               [--ts-step 3000] [--from-port 6000]
 *
 * Walks --count sequence numbers from --seq (wrapping at 65535) and sends one
 * packet for each, except those listed in --skip: skipped numbers are the
 * losses a receiver should count. Prints what it sent as JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <xicept/config.h>
#include <xicept/dataplane.h>
#include <xicept/rtp.h>

static const char usage[] =
	"Usage: xi-rtp-send --to IP:PORT --ssrc SSRC [--pt PT] [--seq START] [--count N]\n"
	"                   [--rate PACKETS_PER_S] [--skip SEQ,SEQ,A-B] [--size PAYLOAD]\n"
	"                   [--ts-step N] [--from-port PORT]\n";

struct send_opts {
	struct xi_endpoint to;
	uint32_t ssrc;
	uint32_t pt, seq, count, rate, size, ts_step, from_port;
	uint8_t skip[65536 / 8];   /* bitmap of sequence numbers not to send */
};

static void die_usage(const char *what, const char *value)
{
	fprintf(stderr, "xi-rtp-send: invalid %s '%s'\n%s", what, value, usage);
	exit(2);
}

static uint32_t num(const char *s, const char *what, uint64_t max)
{
	uint64_t v;

	if (xi_parse_u64(s, &v) || v > max)
		die_usage(what, s);
	return (uint32_t)v;
}

static void parse_skip(struct send_opts *o, const char *text)
{
	char buf[4096], *save = NULL, *tok, *dash;

	if (strlen(text) >= sizeof(buf))
		die_usage("--skip", "(too long)");
	strcpy(buf, text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t a, b;

		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		a = num(tok, "--skip", 65535);
		b = dash ? num(dash + 1, "--skip", 65535) : a;
		/* A range may wrap: 65530-5. */
		for (uint32_t s = a;; s = (s + 1) & 0xffff) {
			o->skip[s / 8] |= (uint8_t)(1u << (s % 8));
			if (s == b)
				break;
		}
	}
}

static int open_socket(const struct send_opts *o, struct sockaddr_storage *to, socklen_t *to_len)
{
	struct sockaddr_storage from = { 0 };
	int fd;

	memset(to, 0, sizeof(*to));
	if (o->to.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)to;

		in->sin_family = AF_INET;
		in->sin_port = htons(o->to.port);
		memcpy(&in->sin_addr, o->to.addr, 4);
		*to_len = sizeof(*in);
		((struct sockaddr_in *)&from)->sin_family = AF_INET;
		((struct sockaddr_in *)&from)->sin_port = htons((uint16_t)o->from_port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)to;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(o->to.port);
		memcpy(&in6->sin6_addr, o->to.addr, 16);
		*to_len = sizeof(*in6);
		((struct sockaddr_in6 *)&from)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&from)->sin6_port = htons((uint16_t)o->from_port);
	}
	fd = socket(o->to.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("xi-rtp-send: socket");
		return -1;
	}
	if (o->from_port && bind(fd, (struct sockaddr *)&from, *to_len)) {
		perror("xi-rtp-send: bind");
		close(fd);
		return -1;
	}
	return fd;
}

static void pace(struct timespec *next, uint32_t rate)
{
	if (!rate)
		return;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
	next->tv_nsec += 1000000000L / rate;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
}

static int send_all(const struct send_opts *o)
{
	struct xi_rtp_header hdr = { .version = 2, .payload_type = (uint8_t)o->pt,
				     .ssrc = o->ssrc, .timestamp = 0x10000 };
	uint8_t pkt[XI_RTP_FIXED_LEN + 1400];
	uint64_t sent = 0, bytes = 0, skipped = 0;
	struct sockaddr_storage to;
	struct timespec next;
	socklen_t to_len;
	int fd, hlen;

	fd = open_socket(o, &to, &to_len);
	if (fd < 0)
		return 1;
	memset(pkt, 0xab, sizeof(pkt));
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint32_t i = 0; i < o->count; i++) {
		hdr.seq = (uint16_t)(o->seq + i);
		hdr.marker = (i % 10) == 9;
		if (o->skip[hdr.seq / 8] & (1u << (hdr.seq % 8))) {
			skipped++;
		} else {
			hlen = xi_rtp_header_write(&hdr, NULL, 0, pkt, sizeof(pkt));
			if (hlen < 0 ||
			    sendto(fd, pkt, (size_t)hlen + o->size, 0, (struct sockaddr *)&to,
				   to_len) < 0) {
				fprintf(stderr, "xi-rtp-send: send: %s\n",
					hlen < 0 ? strerror(-hlen) : strerror(errno));
				close(fd);
				return 1;
			}
			sent++;
			bytes += (uint64_t)hlen + o->size;
		}
		hdr.timestamp += o->ts_step;
		pace(&next, o->rate);
	}
	close(fd);
	printf("{\"ssrc\": %u, \"sent\": %llu, \"bytes\": %llu, \"skipped\": %llu, "
	       "\"first_seq\": %u, \"last_seq\": %u}\n", o->ssrc, (unsigned long long)sent,
	       (unsigned long long)bytes, (unsigned long long)skipped, o->seq & 0xffff,
	       (o->seq + o->count - 1) & 0xffff);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "ssrc", required_argument, NULL, 's' },
		{ "pt", required_argument, NULL, 'p' },
		{ "seq", required_argument, NULL, 'q' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "skip", required_argument, NULL, 'k' },
		{ "size", required_argument, NULL, 'z' },
		{ "ts-step", required_argument, NULL, 'T' },
		{ "from-port", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct send_opts o = { .pt = 96, .count = 100, .rate = 200, .size = 160,
				      .ts_step = 3000 };
	struct xi_err err = { 0 };
	bool have_to = false, have_ssrc = false;
	int c;

	while ((c = getopt_long(argc, argv, "t:s:p:q:n:r:k:z:T:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (xi_endpoint_parse(optarg, &o.to, &err)) {
				fprintf(stderr, "xi-rtp-send: --to: %s\n", err.msg);
				return 2;
			}
			have_to = true;
			break;
		case 's': o.ssrc = num(optarg, "--ssrc", UINT32_MAX); have_ssrc = true; break;
		case 'p': o.pt = num(optarg, "--pt", 127); break;
		case 'q': o.seq = num(optarg, "--seq", 65535); break;
		case 'n': o.count = num(optarg, "--count", 10000000); break;
		case 'r': o.rate = num(optarg, "--rate", 1000000); break;
		case 'k': parse_skip(&o, optarg); break;
		case 'z': o.size = num(optarg, "--size", 1400); break;
		case 'T': o.ts_step = num(optarg, "--ts-step", UINT32_MAX); break;
		case 'f': o.from_port = num(optarg, "--from-port", 65535); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!have_to || !have_ssrc || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	return send_all(&o);
}
