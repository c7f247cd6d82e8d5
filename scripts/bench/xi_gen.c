// SPDX-License-Identifier: MIT
/*
 * xi-gen: the RTP generator of `make bench`. Builds one IPv4/UDP/RTP frame,
 * then sends it COUNT times out of IFNAME (a veth) to its peer, rewritten
 * each time as gen.bpf.c rewrites it (sequence number, timestamp, SSRC, UDP
 * checksum), in one of two modes:
 *
 *   live  the kernel sends it: BPF_PROG_TEST_RUN in live-frames mode runs
 *         gen.bpf.c, which returns XDP_TX.
 *   xsk   AF_XDP TX in copy mode, bound to the queue of --cpu (modulo the
 *         veth's TX queues: the rx queue live frames would land on) without
 *         an XDP program: xi-gen writes the frames gen.bpf.c would have made
 *         into the UMEM, in batches of XSK_BATCH descriptors, kicks with
 *         sendto() and reaps the completion ring. Two generators need two
 *         TX queues (one socket a queue).
 *   auto  (the default) live, unless the kernel refuses its first test-run
 *         call (EPERM, EOPNOTSUPP, EINVAL: some kernels refuse live frames
 *         whatever the capabilities): then xsk.
 *
 * Run it in IFNAME's network namespace: both resolve the ifindex there.
 *
 *   xi-gen --ifname IF --dst-mac MAC --src IP:PORT --dst IP:PORT
 *          [--ssrcs N] [--ssrc-base X] [--count N] [--start K] [--cpu C]
 *          [--payload BYTES] [--batch B] [--rate MPPS [--chunk N]]
 *          [--hold IF] [--mode live|xsk|auto]
 *
 * --rate paces the run: CHUNK frames (default 500) go as fast as they can,
 * then the generator sleeps until the time at which MPPS would have sent
 * them (absolute deadlines, so a late chunk does not shift later ones, and a
 * generator that cannot keep up just runs unpaced). Without it, all COUNT
 * frames go as fast as the core allows (live: in one test-run call).
 * --batch (test-run's batch size) and --hold (a spare veth that holds the
 * program between paced test-run calls) matter in live mode only; xsk mode
 * ignores them.
 *
 * Pinned to one CPU: the receiver's XDP runs there too (veth delivers in
 * the sender's softirq), so what a run measures is the generator plus the
 * program under test on that core. Prints one line:
 *   sent=N requested=N ns=WALL mpps=M calls=K mode=live|xsk
 * where sent is, live, what the program itself counted returning XDP_TX,
 * xsk, the frames the kernel completed; calls are test-run calls or
 * sendto() kicks. Exits 1 when sent is not the requested count.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/sockios.h>
#include <linux/udp.h>

#include "scripts/bench/gen.h"
#include "gen.skel.h"

#define FRAME_MAX 1514

/* xsk mode: the UMEM's frames, the TX and completion rings, a batch. */
#define XSK_FRAMES     4096
#define XSK_FRAME_SIZE 2048
#define XSK_RING       2048
#define XSK_BATCH      256

enum gen_mode { MODE_AUTO, MODE_LIVE, MODE_XSK };
static const char *const mode_names[] = { "auto", "live", "xsk" };

struct opts {
	const char *ifname, *hold;
	uint8_t dst_mac[6], src_mac[6];
	struct sockaddr_in src, dst;
	uint32_t n_ssrcs, ssrc_base, start, payload, batch;
	uint64_t count;
	uint32_t chunk;
	double rate;                /* Mpps; 0: unpaced */
	int cpu;
	enum gen_mode mode;
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
		"[--payload BYTES] [--batch B] [--rate MPPS [--chunk N]] [--hold IF] "
		"[--mode live|xsk|auto]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ifname", 1, 0, 'i' }, { "dst-mac", 1, 0, 'm' }, { "src", 1, 0, 's' },
		{ "dst", 1, 0, 'd' }, { "ssrcs", 1, 0, 'n' }, { "ssrc-base", 1, 0, 'b' },
		{ "count", 1, 0, 'c' }, { "start", 1, 0, 'k' }, { "cpu", 1, 0, 'p' },
		{ "payload", 1, 0, 'l' }, { "batch", 1, 0, 'B' }, { "rate", 1, 0, 'r' },
		{ "chunk", 1, 0, 'C' }, { "hold", 1, 0, 'H' }, { "mode", 1, 0, 'M' }, { 0 }
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
		case 'M':
			if (!strcmp(optarg, "live"))
				o->mode = MODE_LIVE;
			else if (!strcmp(optarg, "xsk"))
				o->mode = MODE_XSK;
			else if (strcmp(optarg, "auto"))
				usage();
			break;
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

/* A generator behind its schedule goes on at once: clock_nanosleep with a
 * deadline already past still arms and cancels an hrtimer with interrupts
 * off, about 17 us of CPU 0 a call here (perf, 256-frame chunks). */
static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };

	if (mono_ns() >= ns)
		return;
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

/* ---- live mode ---- */

/* Loads gen.bpf.c and sends COUNT frames with it; *sent is what it counted.
 * Returns 0, or a negative errno: *refused when the first test-run call
 * failed, before a frame went out. */
static int live_run(const struct opts *o, const uint8_t *frame, size_t len, uint64_t *sent_,
		    uint64_t *ns, uint64_t *calls, int *refused)
{
	struct xi_bench_gen *skel;
	struct xdp_md md = { 0 };
	unsigned hold_if = 0;
	uint64_t t0;
	int err = 0;

	skel = xi_bench_gen__open();
	if (!skel)
		die("cannot open the BPF object");
	skel->rodata->n_ssrcs = o->n_ssrcs;
	for (uint32_t i = 0; i < o->n_ssrcs; i++)
		skel->rodata->ssrcs[i] = o->ssrc_base + i;
	if (xi_bench_gen__load(skel))
		die("cannot load the BPF object");
	init_state(skel, o->start);
	if (o->hold) {
		hold_if = if_nametoindex(o->hold);
		if (!hold_if || bpf_xdp_attach(hold_if, bpf_program__fd(skel->progs.xi_gen),
					       XDP_FLAGS_DRV_MODE, NULL))
			die("cannot attach the program to the --hold interface");
	}
	md.ingress_ifindex = if_nametoindex(o->ifname);
	md.data_end = len;
	if (!md.ingress_ifindex)
		die("no such interface");
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = len,
		    .ctx_in = &md, .ctx_size_in = sizeof(md), .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = o->batch);
	t0 = mono_ns();
	if (send_frames(bpf_program__fd(skel->progs.xi_gen), &run, o, t0, calls))
		err = -errno;
	*ns = mono_ns() - t0;
	*refused = err && *calls <= 1 && !sent(skel);
	*sent_ = sent(skel);
	if (hold_if)
		bpf_xdp_detach(hold_if, XDP_FLAGS_DRV_MODE, NULL);
	xi_bench_gen__destroy(skel);
	return err;
}

/* ---- xsk mode ---- */

struct xgen {
	const struct opts *o;
	uint8_t *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	uint64_t free_[XSK_FRAMES];
	uint32_t n_free;
	size_t len;                 /* of every frame */
	uint32_t udp_sum;           /* the UDP checksum's sum without seq, ts, SSRC */
	uint64_t queued, completed, kicks;
	uint32_t next, count[GEN_SSRCS_MAX]; /* gen.bpf.c's gen_state */
};

/* The veth's TX queues (ethtool channels); 1 when it does not say. */
static uint32_t tx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { .ifr_data = (void *)&ch };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint32_t n = 1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && !ioctl(fd, SIOCETHTOOL, &ifr) && ch.tx_count)
		n = ch.tx_count;
	if (fd >= 0)
		close(fd);
	return n;
}

static int xgen_open(struct xgen *x, const struct opts *o, const uint8_t *frame, size_t len)
{
	struct xsk_umem_config uc = { .fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
				      .comp_size = XSK_FRAMES, .frame_size = XSK_FRAME_SIZE };
	/* Copy mode: the bench's veth offers no zero-copy; bound with no XDP
	 * program of libxdp's (TX needs none). */
	struct xsk_socket_config sc = { .tx_size = XSK_RING,
					.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					.bind_flags = XDP_COPY };
	size_t area = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	uint32_t queue = (uint32_t)o->cpu % tx_queues(o->ifname);
	uint8_t base[FRAME_MAX];
	struct udphdr *udp = (struct udphdr *)(base + GEN_UDP_OFF);
	int r;

	x->o = o;
	x->len = len;
	x->area = mmap(NULL, area, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED)
		return -errno;
	r = xsk_umem__create(&x->umem, x->area, area, &x->fill, &x->comp, &uc);
	if (r)
		return r;
	r = xsk_socket__create(&x->xsk, o->ifname, queue, x->umem, NULL, &x->tx, &sc);
	if (r)
		return r;
	/* Every UMEM frame holds the frame; a send rewrites what changes. */
	for (uint32_t i = 0; i < XSK_FRAMES; i++) {
		memcpy(x->area + (size_t)i * XSK_FRAME_SIZE, frame, len);
		x->free_[x->n_free++] = (uint64_t)i * XSK_FRAME_SIZE;
	}
	/* The checksum's sum over everything but the words a frame rewrites
	 * (zero in build_frame's frame) and the checksum itself. */
	memcpy(base, frame, len);
	udp->check = 0;
	x->udp_sum = sum16(base + 14 + 12, 8, IPPROTO_UDP + ntohs(udp->len));
	x->udp_sum = sum16(udp, ntohs(udp->len), x->udp_sum);
	for (uint32_t i = 0; i < GEN_SSRCS_MAX; i++)
		x->count[i] = o->start;
	return 0;
}

static void xgen_close(struct xgen *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area && x->area != MAP_FAILED)
		munmap(x->area, (size_t)XSK_FRAMES * XSK_FRAME_SIZE);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, (uint16_t)v);
}

/* What gen.bpf.c writes into the next frame: the next SSRC round robin, its
 * count as sequence number and timestamp source, a valid UDP checksum. */
static void xgen_rewrite(struct xgen *x, uint8_t *f)
{
	uint8_t *rtp = f + GEN_RTP_OFF;
	uint32_t i = x->next, c;
	uint16_t sum;

	x->next = i + 1 >= x->o->n_ssrcs ? 0 : i + 1;
	c = x->count[i]++;
	put_be16(rtp + 2, (uint16_t)c);
	put_be32(rtp + 4, c * GEN_TS_STEP);
	put_be32(rtp + 8, x->o->ssrc_base + i);
	sum = csum_fold(sum16(rtp + 2, 10, x->udp_sum));
	put_be16(f + GEN_UDP_OFF + 6, sum ? sum : 0xffff);
}

static void xgen_reap(struct xgen *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, XSK_FRAMES, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->free_[x->n_free++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	xsk_ring_cons__release(&x->comp, n);
	x->completed += n;
}

/* Until the kernel has completed TARGET frames in all: batches into the TX
 * ring, a sendto() kick while the ring holds descriptors (copy mode sends
 * in the kick, up to 32 a call), completions reaped. */
static int xgen_pump(struct xgen *x, uint64_t target)
{
	int fd = xsk_socket__fd(x->xsk);

	while (x->completed < target) {
		uint64_t want = target - x->queued, before = x->completed;
		uint32_t n = XSK_BATCH, idx;

		if (want < n)
			n = (uint32_t)want;
		if (x->n_free < n)
			n = x->n_free;
		if (n && xsk_ring_prod__reserve(&x->tx, n, &idx) == n) {
			for (uint32_t i = 0; i < n; i++) {
				uint64_t a = x->free_[--x->n_free];

				xgen_rewrite(x, xsk_umem__get_data(x->area, a));
				*xsk_ring_prod__tx_desc(&x->tx, idx + i) =
					(struct xdp_desc){ .addr = a, .len = (uint32_t)x->len };
			}
			xsk_ring_prod__submit(&x->tx, n);
			x->queued += n;
		}
		if (xsk_prod_nb_free(&x->tx, XSK_RING) < XSK_RING) {
			x->kicks++;
			if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
			    errno != EBUSY && errno != ENOBUFS)
				return -errno;
		}
		xgen_reap(x);
		/* Nothing moved: let the softirq that owns the frames run. */
		if (x->completed == before)
			sched_yield();
	}
	return 0;
}

static int xsk_run(const struct opts *o, const uint8_t *frame, size_t len, uint64_t *sent_,
		   uint64_t *ns, uint64_t *calls)
{
	struct xgen x = { 0 };
	uint64_t t0, done = 0, n;
	int err = xgen_open(&x, o, frame, len);

	if (err) {
		xgen_close(&x);
		return err;
	}
	t0 = mono_ns();
	while (!err && done < o->count) {
		n = o->rate <= 0 || o->count - done < o->chunk ? o->count - done : o->chunk;
		err = xgen_pump(&x, done + n);
		done += n;
		if (!err && o->rate > 0 && done < o->count)
			sleep_until(t0 + (uint64_t)((double)done * 1e3 / o->rate));
	}
	*ns = mono_ns() - t0;
	*sent_ = x.completed;
	*calls = x.kicks;
	xgen_close(&x);
	return err;
}

int main(int argc, char **argv)
{
	struct opts o;
	uint8_t frame[FRAME_MAX];
	enum gen_mode ran;
	cpu_set_t set;
	uint64_t ns = 0, n = 0, calls = 0;
	int err = 0, refused = 0;
	size_t len;

	parse(argc, argv, &o);
	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("cannot pin to the CPU");
	/* Paced runs sleep to the microsecond, not to the default 50 µs slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	len = build_frame(&o, frame);
	ran = o.mode == MODE_XSK ? MODE_XSK : MODE_LIVE;
	if (ran == MODE_LIVE) {
		err = live_run(&o, frame, len, &n, &ns, &calls, &refused);
		if (o.mode == MODE_AUTO && refused &&
		    (err == -EPERM || err == -EOPNOTSUPP || err == -EINVAL)) {
			ran = MODE_XSK;
			calls = 0;
		} else if (err) {
			fprintf(stderr, "xi-gen: test run failed: %s\n", strerror(-err));
			return 1;
		}
	}
	if (ran == MODE_XSK) {
		err = xsk_run(&o, frame, len, &n, &ns, &calls);
		if (err) {
			fprintf(stderr, "xi-gen: AF_XDP TX on %s failed: %s\n", o.ifname, strerror(-err));
			return 1;
		}
	}
	printf("sent=%llu requested=%llu ns=%llu mpps=%.4f calls=%llu mode=%s\n",
	       (unsigned long long)n, (unsigned long long)o.count, (unsigned long long)ns,
	       (double)n * 1e3 / (double)ns, (unsigned long long)calls, mode_names[ran]);
	if (n != o.count) {
		fprintf(stderr, "xi-gen: %s %llu frames, want %llu\n",
			ran == MODE_LIVE ? "the program returned XDP_TX for" : "the kernel completed",
			(unsigned long long)n, (unsigned long long)o.count);
		return 1;
	}
	return 0;
}
