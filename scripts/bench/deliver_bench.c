// SPDX-License-Identifier: MIT
/*
 * xi-deliver-bench: what it costs the AF_XDP engine to hand a datagram back
 * to the kernel stack, by each way it could (issue 9: "measure the options,
 * then choose"). Run in a network namespace of its own (the bench makes one):
 *
 *   xi-deliver-bench --mode tun|raw|xsk --count N [--cpu C]
 *
 * It makes what the mode needs, a UDP socket on 10.77.0.2:5004 for the
 * datagrams (200-byte IPv4 RTP datagrams from 10.77.0.1:6000, valid
 * checksums), then hands N of them over in batches of 64 and after each
 * batch reads the socket dry, so that every datagram's whole trip (the
 * hand-over, the stack's receive path, the socket) is this thread's CPU
 * time and nothing waits on a wakeup. Prints
 *   mode=raw count=N received=N cpu_ns=... ns_per_pkt=...
 * and fails unless every datagram arrived.
 *
 *   tun  the engine's old way: a TUN device, one write() a datagram.
 *   raw  today's: one sendmmsg() a batch on a raw IPPROTO_RAW socket; the
 *        local route loops each datagram back through lo.
 *   xsk  AF_XDP TX (copy mode) into one end of a veth pair whose other end
 *        holds 10.77.0.2: one sendto() kick a batch; each frame becomes an
 *        skb on the veth and is received by its peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include <xicept/dataplane.h>

#include "user/lib/bytes.h"
#include "user/lib/udp_frame.h"

#define BATCH   64u
#define FRAMES  256u
#define PAYLOAD 172u   /* RTP header + 160 bytes: a 200-byte IPv4 datagram */

static const uint8_t eth[14] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00 };

static void die(const char *what)
{
	fprintf(stderr, "xi-deliver-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "xi-deliver-bench: '%s' failed\n", cmd);
		exit(1);
	}
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

/* One Ethernet frame per sequence number; the datagram starts at 14. */
static size_t frame_make(uint8_t *buf, size_t cap, uint16_t seq)
{
	struct xi_endpoint src = { .family = AF_INET, .port = 6000 },
			   dst = { .family = AF_INET, .port = 5004 };
	uint8_t rtp[PAYLOAD] = { 0x80, 96 };
	int n;

	inet_pton(AF_INET, "10.77.0.1", src.addr);
	inet_pton(AF_INET, "10.77.0.2", dst.addr);
	xi_put_be16(rtp + 2, seq);
	xi_put_be32(rtp + 8, 0x5eed0000);
	n = xi_udp_frame_build(buf, cap, eth, sizeof(eth), &src, &dst, seq, rtp, sizeof(rtp));
	if (n < 0) {
		errno = -n;
		die("building a frame");
	}
	return (size_t)n;
}

/* Reads the socket dry; how many datagrams. */
static unsigned drain(int s)
{
	static uint8_t bufs[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	unsigned got = 0;
	int n;

	for (unsigned i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while ((n = recvmmsg(s, m, BATCH, MSG_DONTWAIT, NULL)) > 0)
		got += (unsigned)n;
	return got;
}

/* ---- the three ways ---- */

static int tun_open(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/net/tun");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "xidb0");
	if (ioctl(fd, TUNSETIFF, &ifr))
		die("TUNSETIFF");
	sh("ip link set xidb0 up && sysctl -qw net.ipv4.conf.xidb0.rp_filter=0 "
	   "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.xidb0.accept_local=1");
	return fd;
}

struct xsk_tx {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint64_t free_[FRAMES];
	unsigned n_free;
};

static void xsk_open(struct xsk_tx *x)
{
	struct xsk_umem_config uc = { .fill_size = FRAMES, .comp_size = FRAMES,
				      .frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE };
	struct xsk_socket_config sc = { .rx_size = FRAMES, .tx_size = FRAMES,
					.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					.bind_flags = XDP_COPY };
	size_t len = FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE;
	int r;

	sh("ip link add xidb0 type veth peer name xidb1 address 02:00:00:00:00:02 && "
	   "ip link set xidb0 up && ip link set xidb1 up && ip addr add 10.77.0.2/24 dev xidb1 && "
	   "ip neigh replace 10.77.0.1 lladdr 02:00:00:00:00:01 dev xidb1 nud permanent");
	x->area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED)
		die("mmap");
	r = xsk_umem__create(&x->umem, x->area, len, &x->fill, &x->comp, &uc);
	if (!r)
		r = xsk_socket__create(&x->xsk, "xidb0", 0, x->umem, &x->rx, &x->tx, &sc);
	if (r) {
		errno = -r;
		die("AF_XDP socket on xidb0");
	}
	for (unsigned i = 0; i < FRAMES; i++)
		x->free_[i] = (uint64_t)i * XSK_UMEM__DEFAULT_FRAME_SIZE;
	x->n_free = FRAMES;
}

static void xsk_reclaim(struct xsk_tx *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, FRAMES, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->free_[x->n_free++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	xsk_ring_cons__release(&x->comp, n);
}

/* A batch into the TX ring, then kicks until the kernel took it all. */
static void xsk_send(struct xsk_tx *x, uint8_t frames[][256], const size_t *lens, unsigned n)
{
	uint32_t idx;

	while (x->n_free < n)
		xsk_reclaim(x);
	if (xsk_ring_prod__reserve(&x->tx, n, &idx) != n)
		die("TX ring full");
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = x->free_[--x->n_free];

		memcpy(xsk_umem__get_data(x->area, a), frames[i], lens[i]);
		*xsk_ring_prod__tx_desc(&x->tx, idx + i) = (struct xdp_desc){ .addr = a, .len = (uint32_t)lens[i] };
	}
	xsk_ring_prod__submit(&x->tx, n);
	do {
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			die("AF_XDP TX kick");
		xsk_reclaim(x);
	} while (x->n_free < FRAMES);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", 1, 0, 'm' }, { "count", 1, 0, 'n' }, { "cpu", 1, 0, 'c' }, { 0 } };
	const char *mode = NULL;
	unsigned long count = 0;
	int c, cpu = -1, s, raw = -1, tun = -1;
	struct xsk_tx x = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5004) };
	static uint8_t frames[BATCH][256];
	size_t lens[BATCH];
	unsigned long got = 0;
	uint64_t t0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'm')
			mode = optarg;
		else if (c == 'n')
			count = strtoul(optarg, NULL, 10);
		else if (c == 'c')
			cpu = atoi(optarg);
		else
			return 2;
	}
	if (!mode || !count || count % BATCH || (strcmp(mode, "tun") && strcmp(mode, "raw") &&
						 strcmp(mode, "xsk"))) {
		fprintf(stderr, "usage: xi-deliver-bench --mode tun|raw|xsk --count N (a multiple of %u) [--cpu C]\n",
			BATCH);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	sh("ip link set lo up");
	if (!strcmp(mode, "xsk")) {
		xsk_open(&x);
	} else {
		/* The destination: an address of this namespace, on a veth
		 * nothing sends on. */
		sh("ip link add xidb8 type veth peer name xidb9 && ip link set xidb8 up && "
		   "ip link set xidb9 up && ip addr add 10.77.0.2/24 dev xidb9");
		if (!strcmp(mode, "tun"))
			tun = tun_open();
		else if ((raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) < 0)
			die("raw socket");
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&to, sizeof(to)))
		die("UDP socket on 10.77.0.2:5004");
	c = 4 << 20;
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &c, sizeof(c));
	for (unsigned i = 0; i < BATCH; i++)
		lens[i] = frame_make(frames[i], sizeof(frames[i]), (uint16_t)i);

	t0 = cpu_ns();
	for (unsigned long done = 0; done < count; done += BATCH) {
		if (tun >= 0) {
			for (unsigned i = 0; i < BATCH; i++)
				if (write(tun, frames[i] + 14, lens[i] - 14) < 0)
					die("TUN write");
		} else if (raw >= 0) {
			struct iovec iov[BATCH];
			struct mmsghdr m[BATCH];
			unsigned sent = 0;

			for (unsigned i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ frames[i] + 14, lens[i] - 14 };
				m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
								      .msg_iov = &iov[i], .msg_iovlen = 1 } };
			}
			while (sent < BATCH) {
				int n = sendmmsg(raw, m + sent, BATCH - sent, 0);

				if (n < 0)
					die("sendmmsg");
				sent += (unsigned)n;
			}
		} else {
			xsk_send(&x, frames, lens, BATCH);
		}
		got += drain(s);
	}
	got += drain(s);
	t0 = cpu_ns() - t0;
	printf("mode=%s count=%lu received=%lu cpu_ns=%llu ns_per_pkt=%.1f\n", mode, count, got,
	       (unsigned long long)t0, (double)t0 / (double)count);
	if (x.xsk)
		xsk_socket__delete(x.xsk);
	if (x.umem)
		xsk_umem__delete(x.umem);
	return got == count ? 0 : 1;
}
