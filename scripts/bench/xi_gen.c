// SPDX-License-Identifier: MIT
/*
 * xi-gen: the RTP generator of `make bench`. Builds one IPv4/UDP/RTP frame,
 * then has the kernel send it COUNT times, rewritten each time by gen.bpf.c,
 * with BPF_PROG_TEST_RUN in live-frames mode out of IFNAME (a veth) to its
 * peer. Run it in IFNAME's network namespace: test-run resolves the ifindex
 * there.
 *
 *   xi-gen --ifname IF --dst-mac MAC --src IP:PORT --dst IP:PORT
 *          [--ssrcs N] [--ssrc-base X] [--count N] [--start K] [--cpu C]
 *          [--payload BYTES] [--batch B] [--rate MPPS [--chunk N]]
 *
 * --rate paces the run: test-run sends CHUNK frames (default 500) as fast as
 * it can, then the generator sleeps until the time at which MPPS would have
 * sent them (absolute deadlines, so a late call does not shift later ones,
 * and a generator that cannot keep up just runs unpaced). Without it, one
 * test-run call sends all COUNT frames as fast as the core allows.
 *
 * Pinned to one CPU: the receiver's XDP runs there too (veth delivers in
 * the sender's softirq), so what a run measures is the generator plus the
 * program under test on that core. Prints one line:
 *   sent=N requested=N ns=WALL mpps=M
 * where sent is what the program itself counted returning XDP_TX. Exits 1
 * when that is not the requested count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include "scripts/bench/gen.h"
#include "gen.skel.h"

#define FRAME_MAX 1514

struct opts {
	const char *ifname, *hold;
	uint8_t dst_mac[6], src_mac[6];
	struct sockaddr_in src, dst;
	uint32_t n_ssrcs, ssrc_base, start, payload, batch;
	uint64_t count;
	uint32_t chunk;
	double rate;                /* Mpps; 0: unpaced */
	int cpu;
};

static void die(const char *what)
{
	fprintf(stderr, "xi-gen: %s\n", what);
	exit(1);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static int parse_ep(const char *s, struct sockaddr_in *sa)
{
	char ip[64];
	unsigned port;

	if (sscanf(s, "%63[^:]:%u", ip, &port) != 2 || port > 65535)
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static void own_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("cannot read the interface's MAC address");
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The frame the program rewrites: valid headers and checksums to start with. */
static size_t build_frame(const struct opts *o, uint8_t *f)
{
	size_t udp_len = 8 + 12 + o->payload, len = GEN_UDP_OFF + udp_len;
	struct iphdr *ip = (struct iphdr *)(f + 14);
	struct udphdr *udp = (struct udphdr *)(f + GEN_UDP_OFF);
	uint8_t *rtp = f + GEN_RTP_OFF;
	uint32_t sum;
	uint16_t c;

	memset(f, 0, len);
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, o->src_mac, 6);
	f[12] = 0x08;
	*ip = (struct iphdr){ .version = 4, .ihl = 5, .tot_len = htons(20 + udp_len),
			      .frag_off = htons(0x4000), .ttl = 64, .protocol = IPPROTO_UDP,
			      .saddr = o->src.sin_addr.s_addr, .daddr = o->dst.sin_addr.s_addr };
	ip->check = htons(csum_fold(sum16(ip, 20, 0)));
	*udp = (struct udphdr){ .source = o->src.sin_port, .dest = o->dst.sin_port,
				.len = htons(udp_len) };
	rtp[0] = 0x80;
	rtp[1] = 96;
	memset(rtp + 12, 0xab, o->payload);
	/* Pseudo header: addresses, protocol, UDP length. */
	sum = sum16(&ip->saddr, 8, IPPROTO_UDP + udp_len);
	c = csum_fold(sum16(udp, udp_len, sum));
	udp->check = htons(c ? c : 0xffff);
	return len;
}

static void usage(void)
{
	fprintf(stderr, "usage: xi-gen --ifname IF --dst-mac MAC --src IP:PORT --dst IP:PORT "
		"[--ssrcs N] [--ssrc-base X] [--count N] [--start K] [--cpu C] "
		"[--payload BYTES] [--batch B] [--rate MPPS [--chunk N]]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ifname", 1, 0, 'i' }, { "dst-mac", 1, 0, 'm' }, { "src", 1, 0, 's' },
		{ "dst", 1, 0, 'd' }, { "ssrcs", 1, 0, 'n' }, { "ssrc-base", 1, 0, 'b' },
		{ "count", 1, 0, 'c' }, { "start", 1, 0, 'k' }, { "cpu", 1, 0, 'p' },
		{ "payload", 1, 0, 'l' }, { "batch", 1, 0, 'B' }, { "rate", 1, 0, 'r' },
		{ "chunk", 1, 0, 'C' }, { "hold", 1, 0, 'H' }, { 0 }
	};
	int c, have = 0;

	*o = (struct opts){ .n_ssrcs = 1, .ssrc_base = 0x5eed0000, .payload = 160,
			    .count = 1000000, .cpu = 0, .batch = 64, .chunk = 500 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'm': have |= parse_mac(optarg, o->dst_mac) ? 0 : 1; break;
		case 's': have |= parse_ep(optarg, &o->src) ? 0 : 2; break;
		case 'd': have |= parse_ep(optarg, &o->dst) ? 0 : 4; break;
		case 'n': o->n_ssrcs = strtoul(optarg, NULL, 0); break;
		case 'b': o->ssrc_base = strtoul(optarg, NULL, 0); break;
		case 'c': o->count = strtoull(optarg, NULL, 0); break;
		case 'k': o->start = strtoul(optarg, NULL, 0); break;
		case 'p': o->cpu = atoi(optarg); break;
		case 'l': o->payload = strtoul(optarg, NULL, 0); break;
		case 'B': o->batch = strtoul(optarg, NULL, 0); break;
		case 'r': o->rate = strtod(optarg, NULL); break;
		case 'C': o->chunk = strtoul(optarg, NULL, 0); break;
		case 'H': o->hold = optarg; break;
		default: usage();
		}
	}
	if (!o->ifname || have != 7 || !o->n_ssrcs || o->n_ssrcs > GEN_SSRCS_MAX || !o->count ||
	    o->count > UINT32_MAX || o->rate < 0 || !o->chunk || GEN_RTP_OFF + 12 + o->payload > FRAME_MAX)
		usage();
	own_mac(o->ifname, o->src_mac);
}

/* Every CPU's state starts at `start` per SSRC, so a run continues the
 * sequence numbers of the one before it. */
static void init_state(struct xi_bench_gen *skel, uint32_t start)
{
	int ncpu = libbpf_num_possible_cpus();
	struct gen_state *v = calloc(ncpu, sizeof(*v));
	uint32_t key = 0;

	if (ncpu <= 0 || !v)
		die("out of memory");
	for (int c = 0; c < ncpu; c++)
		for (int i = 0; i < GEN_SSRCS_MAX; i++)
			v[c].count[i] = start;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.gen_state), &key, v, BPF_ANY))
		die("cannot initialise gen_state");
	free(v);
}

static uint64_t sent(struct xi_bench_gen *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct gen_state *v = calloc(ncpu, sizeof(*v));
	uint64_t n = 0;
	uint32_t key = 0;

	if (!v || bpf_map_lookup_elem(bpf_map__fd(skel->maps.gen_state), &key, v))
		die("cannot read gen_state");
	for (int c = 0; c < ncpu; c++)
		n += v[c].sent;
	free(v);
	return n;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* COUNT frames in test-run calls of at most CHUNK, paced at RATE Mpps
 * (unpaced, one call, when RATE is 0). Returns 0, or -1 with errno set. */
static int send_frames(int prog, struct bpf_test_run_opts *run, const struct opts *o,
		       uint64_t t0, uint64_t *calls)
{
	uint64_t done = 0, n;

	if (o->rate <= 0) {
		run->repeat = (uint32_t)o->count;
		*calls = 1;
		return bpf_prog_test_run_opts(prog, run);
	}
	while (done < o->count) {
		n = o->count - done < o->chunk ? o->count - done : o->chunk;
		run->repeat = (uint32_t)n;
		if (bpf_prog_test_run_opts(prog, run))
			return -1;
		++*calls;
		done += n;
		if (done < o->count)
			sleep_until(t0 + (uint64_t)((double)done * 1e3 / o->rate));
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	uint8_t frame[FRAME_MAX];
	struct xi_bench_gen *skel;
	struct xdp_md md = { 0 };
	cpu_set_t set;
	uint64_t t0, t1, n, calls = 0;
	unsigned hold_if = 0;
	size_t len;
	int err;

	parse(argc, argv, &o);
	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("cannot pin to the CPU");
	/* Paced runs sleep to the microsecond, not to the default 50 µs slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	skel = xi_bench_gen__open();
	if (!skel)
		die("cannot open the BPF object");
	skel->rodata->n_ssrcs = o.n_ssrcs;
	for (uint32_t i = 0; i < o.n_ssrcs; i++)
		skel->rodata->ssrcs[i] = o.ssrc_base + i;
	if (xi_bench_gen__load(skel))
		die("cannot load the BPF object");
	init_state(skel, o.start);
	if (o.hold) {
		hold_if = if_nametoindex(o.hold);
		if (!hold_if || bpf_xdp_attach(hold_if, bpf_program__fd(skel->progs.xi_gen),
					       XDP_FLAGS_DRV_MODE, NULL))
			die("cannot attach the program to the --hold interface");
	}
	len = build_frame(&o, frame);
	md.ingress_ifindex = if_nametoindex(o.ifname);
	md.data_end = len;
	if (!md.ingress_ifindex)
		die("no such interface");
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = len,
		    .ctx_in = &md, .ctx_size_in = sizeof(md), .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = o.batch);
	t0 = mono_ns();
	err = send_frames(bpf_program__fd(skel->progs.xi_gen), &run, &o, t0, &calls);
	t1 = mono_ns();
	if (err) {
		/* Seen on a kernel that refuses live frames to every program. */
		fprintf(stderr, "xi-gen: test run failed: %s%s\n", strerror(errno),
			errno == EPERM ? " (this kernel refuses BPF_F_TEST_XDP_LIVE_FRAMES: "
			"no live row can run here)" : "");
		return 1;
	}
	n = sent(skel);
	if (hold_if)
		bpf_xdp_detach(hold_if, XDP_FLAGS_DRV_MODE, NULL);
	printf("sent=%llu requested=%llu ns=%llu mpps=%.4f calls=%llu\n", (unsigned long long)n,
	       (unsigned long long)o.count, (unsigned long long)(t1 - t0),
	       (double)n * 1e3 / (double)(t1 - t0), (unsigned long long)calls);
	xi_bench_gen__destroy(skel);
	if (n != o.count) {
		fprintf(stderr, "xi-gen: the program returned XDP_TX %llu times, want %llu\n",
			(unsigned long long)n, (unsigned long long)o.count);
		return 1;
	}
	return 0;
}
