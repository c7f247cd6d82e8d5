// SPDX-License-Identifier: MIT
/*
 * Batched delivery into the stack, through the daemon's veth or raw sockets
 * (see deliver.h).
 *
 * The veth way's accounting: a frame leaves the thread's free list when a
 * datagram is copied into it and comes back through the completion ring
 * once the kernel is done with its skb, whether the stack took the datagram
 * or the veth dropped it; a drop is the kick's -EBUSY, one frame each. So
 * what was written is either in the ring, taken, or counted as refused, and
 * what is still in the ring when delivery ends counts as unsent.
 */
#include <errno.h>
#include <linux/if_xdp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "user/lib/bytes.h"
#include "user/lib/clock.h"
#include "user/lib/net.h"
#include "user/engine/deliver.h"
#include "user/engine/umem.h"
#include "user/engine/veth.h"

#define COPY_MAX 2048u   /* a datagram the chain changed: up to an MTU */

#define VETH_FRAME  (XI_DELIVER_VETH_MTU + ETH_HLEN)
#define VETH_FRAMES 1024u   /* power of two: also the TX and completion ring sizes */

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9   /* Linux 6.17: frames one copy-mode kick may send */
#endif

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ADD(x, n)   __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)   /* one writer */

/* The raw sockets' batch. */
struct raw {
	int fd4, fd6;
	unsigned ifindex;
	unsigned n;                           /* queued */
	int family[XI_DELIVER_BATCH];
	struct iovec iov[XI_DELIVER_BATCH];
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} dst[XI_DELIVER_BATCH];
	struct mmsghdr msg[XI_DELIVER_BATCH];
	uint8_t copies[XI_DELIVER_BATCH][COPY_MAX];
};

/* The veth's TX queue: a UMEM of its own, frames free or in flight. */
struct vtx {
	void *area;
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	uint8_t eth_dst[6], eth_src[6];
	uint64_t free_[VETH_FRAMES];
	uint32_t n_free;
	uint32_t queued;        /* reserved in the TX ring, not yet submitted */
	uint32_t in_flight;     /* submitted, not yet back in the completion ring */
};

struct xi_deliver {
	struct raw raw;
	struct vtx *vtx;        /* NULL: raw sockets only */
	struct xi_deliver_stats st;
};

/* ---- pure helpers ---- */

bool xi_deliver_veth_takes(const uint8_t *l3, size_t len)
{
	if (len >= XI_IP4_HDR_LEN && l3[0] >> 4 == 4) {
		const uint8_t *d = l3 + 16;

		return d[0] < 224 && d[0] != 127 && d[0] != 0;   /* not multicast, class E, loopback */
	}
	if (len >= XI_IP6_HDR_LEN && l3[0] >> 4 == 6) {
		struct in6_addr d;

		memcpy(&d, l3 + 24, sizeof(d));
		return !IN6_IS_ADDR_MULTICAST(&d) && !IN6_IS_ADDR_LINKLOCAL(&d) &&
		       !IN6_IS_ADDR_LOOPBACK(&d) && !IN6_IS_ADDR_UNSPECIFIED(&d);
	}
	return false;
}

int xi_deliver_eth_frame(uint8_t *frame, size_t cap, const uint8_t dst[6], const uint8_t src[6],
			 const uint8_t *l3, size_t len)
{
	uint16_t type;

	if (len < 1 || (l3[0] >> 4 != 4 && l3[0] >> 4 != 6))
		return -EINVAL;
	if (len > cap || cap - len < ETH_HLEN)
		return -EMSGSIZE;
	type = l3[0] >> 4 == 4 ? ETH_P_IP : ETH_P_IPV6;
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	xi_put_be16(frame + 12, type);
	memcpy(frame + ETH_HLEN, l3, len);
	return (int)(len + ETH_HLEN);
}

enum xi_deliver_kick xi_deliver_kick_errno(int err)
{
	switch (err) {
	case EAGAIN:
	case EINTR:
	case ENOBUFS:
		return XI_KICK_AGAIN;
	case EBUSY:
		return XI_KICK_DROPPED;
	default:   /* ENETDOWN, ENXIO, ... */
		return XI_KICK_STOP;
	}
}

/* ---- raw sockets ---- */

static int raw_open(struct raw *w, unsigned ifindex)
{
	w->ifindex = ifindex;
	w->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	w->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	return w->fd4 < 0 || w->fd6 < 0 ? -errno : 0;
}

static void raw_close(struct raw *w)
{
	if (w->fd4 >= 0)
		close(w->fd4);
	if (w->fd6 >= 0)
		close(w->fd6);
}

/* Runs of one family go in one sendmmsg each; a datagram the kernel
 * refuses is skipped and counted, the rest still go. */
static unsigned raw_flush(struct xi_deliver *d)
{
	struct raw *w = &d->raw;
	unsigned i = 0, lost = 0;

	while (i < w->n) {
		unsigned j = i;
		int fd, sent;

		while (j < w->n && w->family[j] == w->family[i])
			j++;
		fd = w->family[i] == AF_INET ? w->fd4 : w->fd6;
		sent = sendmmsg(fd, &w->msg[i], j - i, MSG_DONTWAIT);
		if (sent <= 0) {
			if (sent < 0 && errno == EINTR)
				continue;
			lost++;       /* the first of the run: skip it */
			i++;
		} else {
			i += (unsigned)sent;
		}
	}
	ADD(d->st.raw, w->n - lost);
	ADD(d->st.raw_failed, lost);
	w->n = 0;
	return lost;
}

static unsigned raw_add(struct xi_deliver *d, const uint8_t *pkt, size_t len, int copy)
{
	struct raw *w = &d->raw;
	unsigned i, lost = 0;

	if (w->n == XI_DELIVER_BATCH)
		lost = raw_flush(d);
	i = w->n++;
	if (copy) {
		memcpy(w->copies[i], pkt, len);
		pkt = w->copies[i];
	}
	w->iov[i] = (struct iovec){ .iov_base = (void *)pkt, .iov_len = len };
	memset(&w->dst[i], 0, sizeof(w->dst[i]));
	if (pkt[0] >> 4 == 4) {
		w->family[i] = AF_INET;
		w->dst[i].in.sin_family = AF_INET;
		memcpy(&w->dst[i].in.sin_addr, pkt + 16, 4);
	} else {
		w->family[i] = AF_INET6;
		w->dst[i].in6.sin6_family = AF_INET6;
		memcpy(&w->dst[i].in6.sin6_addr, pkt + 24, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&w->dst[i].in6.sin6_addr))
			w->dst[i].in6.sin6_scope_id = w->ifindex;
	}
	w->msg[i] = (struct mmsghdr){ .msg_hdr = {
		.msg_name = &w->dst[i],
		.msg_namelen = w->family[i] == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6),
		.msg_iov = &w->iov[i], .msg_iovlen = 1,
	} };
	return lost;
}

/* ---- the veth's TX queue ---- */

static int vtx_open(struct vtx *x, const struct xi_veth_info *v, unsigned queue)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS, .comp_size = VETH_FRAMES,
		.frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE, .frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = 0, .tx_size = VETH_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	unsigned budget = VETH_FRAMES;
	int r;

	_Static_assert(VETH_FRAME == XSK_UMEM__DEFAULT_FRAME_SIZE, "a datagram and its header fill a frame");
	memcpy(x->eth_dst, v->peer_mac, 6);
	memcpy(x->eth_src, v->mac, 6);
	x->area_len = (size_t)VETH_FRAMES * VETH_FRAME;
	r = xi_umem_create(x->area_len, &ucfg, &x->area, &x->umem, &x->fill, &x->comp);
	if (r)
		return r;
	r = xsk_socket__create(&x->xsk, v->name, queue, x->umem, NULL, &x->tx, &scfg);
	if (r) {
		x->xsk = NULL;
		return r;
	}
	/* One kick sends the whole ring (the kernel's default stops at 32 and
	 * says EAGAIN); a kernel before 6.17 keeps its default. */
	setsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget));
	for (uint32_t i = 0; i < VETH_FRAMES; i++)
		x->free_[i] = (uint64_t)i * VETH_FRAME;
	x->n_free = VETH_FRAMES;
	return 0;
}

static void vtx_close(struct vtx *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
}

static void vtx_reclaim(struct vtx *x)
{
	xi_tx_frames_reclaim(&x->comp, x->free_, &x->n_free, VETH_FRAMES, &x->in_flight);
}

/* Descriptors the kernel has not read yet (as far as its consumer index
 * shows: after a drop it may publish late, which costs a kick, no more). */
static uint32_t vtx_pending(struct vtx *x)
{
	return VETH_FRAMES - xsk_prod_nb_free(&x->tx, VETH_FRAMES);
}

/* Submits what is queued and kicks until the kernel has read the ring or
 * stops making progress. Copy mode sends inside the kick; each -EBUSY is one
 * frame the veth dropped. Returns those. */
static unsigned vtx_kick(struct xi_deliver *d)
{
	struct vtx *x = d->vtx;
	unsigned dropped = 0;

	if (x->queued) {
		xsk_ring_prod__submit(&x->tx, x->queued);
		x->in_flight += x->queued;
		x->queued = 0;
	}
	/* Bounded: every round that goes on consumed at least one frame. */
	for (unsigned round = 0; round <= VETH_FRAMES; round++) {
		uint32_t before = vtx_pending(x);

		if (!before || !xsk_ring_prod__needs_wakeup(&x->tx))
			break;
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
			enum xi_deliver_kick k = xi_deliver_kick_errno(errno);

			if (k == XI_KICK_STOP)
				break;
			if (k == XI_KICK_DROPPED) {
				dropped++;
				continue;
			}
			vtx_reclaim(x);   /* room in the completion ring */
		}
		if (vtx_pending(x) >= before)
			break;
	}
	vtx_reclaim(x);
	ADD(d->st.refused, dropped);
	return dropped;
}

static unsigned vtx_add(struct xi_deliver *d, const uint8_t *pkt, size_t len)
{
	struct vtx *x = d->vtx;
	unsigned lost = 0;
	uint32_t idx;
	uint64_t addr;
	int n;

	if (len > XI_DELIVER_VETH_MTU) {
		ADD(d->st.refused, 1);
		return 1;
	}
	if (!x->n_free)
		vtx_reclaim(x);
	if (!x->n_free)
		lost += vtx_kick(d);
	if (!x->n_free || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		ADD(d->st.no_frame, 1);
		return lost + 1;
	}
	addr = x->free_[--x->n_free];
	n = xi_deliver_eth_frame(xsk_umem__get_data(x->area, addr), VETH_FRAME, x->eth_dst,
				 x->eth_src, pkt, len);
	*xsk_ring_prod__tx_desc(&x->tx, idx) = (struct xdp_desc){ .addr = addr, .len = (uint32_t)n };
	x->queued++;
	ADD(d->st.veth, 1);
	if (x->queued == XI_DELIVER_BATCH)
		lost += vtx_kick(d);
	return lost;
}

/* ---- the interface ---- */

static int deliver_alloc(unsigned ifindex, struct xi_deliver **ret)
{
	struct xi_deliver *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->raw.fd4 = d->raw.fd6 = -1;
	r = raw_open(&d->raw, ifindex);
	if (r) {
		xi_deliver_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int xi_deliver_new(unsigned ifindex, struct xi_deliver **ret)
{
	return deliver_alloc(ifindex, ret);
}

int xi_deliver_new_veth(unsigned ifindex, const struct xi_veth_info *v, unsigned queue,
			struct xi_deliver **ret)
{
	struct xi_deliver *d;
	int r;

	if (!v || queue >= v->queues)
		return -EINVAL;
	r = deliver_alloc(ifindex, &d);
	if (r)
		return r;
	d->vtx = calloc(1, sizeof(*d->vtx));
	r = d->vtx ? vtx_open(d->vtx, v, queue) : -ENOMEM;
	if (r) {
		xi_deliver_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void xi_deliver_free(struct xi_deliver *d)
{
	if (!d)
		return;
	if (d->vtx) {
		vtx_close(d->vtx);
		free(d->vtx);
	}
	raw_close(&d->raw);
	free(d);
}

int xi_deliver_add(struct xi_deliver *d, const uint8_t *pkt, size_t len, int copy)
{
	if (len < XI_IP4_HDR_LEN || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6))
		return -EINVAL;
	if (d->vtx && xi_deliver_veth_takes(pkt, len))
		return (int)vtx_add(d, pkt, len);
	if (copy && len > COPY_MAX)
		return -EINVAL;
	return (int)raw_add(d, pkt, len, copy);
}

unsigned xi_deliver_flush(struct xi_deliver *d)
{
	unsigned lost = d->raw.n ? raw_flush(d) : 0;

	if (d->vtx && (d->vtx->queued || d->vtx->in_flight))
		lost += vtx_kick(d);
	return lost;
}

unsigned xi_deliver_finish(struct xi_deliver *d, uint64_t timeout_ns)
{
	unsigned lost = xi_deliver_flush(d);
	uint64_t start = xi_mono_ns();
	struct vtx *x = d->vtx;

	if (!x)
		return lost;
	while (x->in_flight && xi_mono_ns() - start < timeout_ns) {
		usleep(1000);
		lost += vtx_kick(d);
	}
	if (x->in_flight) {
		ADD(d->st.unsent, x->in_flight);
		lost += x->in_flight;
		x->in_flight = 0;
	}
	return lost;
}

void xi_deliver_stats(const struct xi_deliver *d, struct xi_deliver_stats *ret)
{
	struct xdp_statistics xs = { 0 };
	socklen_t len = sizeof(xs);

	ret->veth = LOAD(d->st.veth);
	ret->raw = LOAD(d->st.raw);
	ret->raw_failed = LOAD(d->st.raw_failed);
	ret->no_frame = LOAD(d->st.no_frame);
	ret->refused = LOAD(d->st.refused);
	ret->unsent = LOAD(d->st.unsent);
	ret->tx_invalid = 0;
	if (d->vtx && d->vtx->xsk &&
	    !getsockopt(xsk_socket__fd(d->vtx->xsk), SOL_XDP, XDP_STATISTICS, &xs, &len))
		ret->tx_invalid = xs.tx_invalid_descs;
}

bool xi_deliver_is_veth(const struct xi_deliver *d)
{
	return d->vtx != NULL;
}
