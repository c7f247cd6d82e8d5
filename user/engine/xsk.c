// SPDX-License-Identifier: MIT
/*
 * The AF_XDP engine (see user/engine/xsk.h). One thread per receive queue
 * (fewer with opts.threads: queue i goes to thread i % threads), each with
 * its own sockets, worker (user/engine/conns.h) and delivery (a TX queue of
 * the daemon's veth, or raw sockets: user/engine/deliver.h); thread 0
 * is the caller's and also runs the tap, the chains' timers, the connection
 * sync every sync_ms and the loss accounting. Each thread poll()s its
 * sockets with a short timeout, so that it sees the stop flag every poll_ms.
 *
 * Each queue has its own UMEM: RX_FRAMES frames live in the fill and RX
 * rings, TX_FRAMES more serve emitted RTCP and come back through the
 * completion ring. Every ring operation is a batch: up to RX_BATCH
 * descriptors are peeked, run through the chains, their datagrams handed to
 * the stack with one system call (user/engine/deliver.h) and their frames
 * given back to the fill ring in one reservation. Sockets bind zero-copy where the
 * driver offers it and in copy mode (XDP_COPY) otherwise, veth's case, with
 * need_wakeup; xi_entry stays the interface's program
 * (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD) and the sockets go into our xi_xsks.
 * A queue's TX ring is shared by the threads whose connections emit on it,
 * under the queue's tx_lock.
 *
 * No silent loss: every sync tick, and once more when the engine stops, the
 * sockets' XDP_STATISTICS (what the kernel could not put in our rings) and
 * the engine's own failures (chain errors, bad metadata, delivery, TX) are
 * added to the pinned xi_losses map, one update per reason per tick
 * (user/engine/loss.h). Stopping empties the xi_stages slot first, joins the
 * other threads, then runs what is left in the RX rings through the chains
 * and waits for the veth to take what is still in its TX rings, so that a
 * packet XDP handed over is either delivered, dropped by an interceptor, or
 * counted. The veth goes last, after every socket on it is closed.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <xicept/catalog.h>
#include <xicept/dataplane.h>

#include "user/lib/clock.h"
#include "user/lib/log.h"
#include "user/dataplane/internal.h"
#include "user/engine/tap.h"
#include "user/engine/loss.h"
#include "user/engine/deliver.h"
#include "user/engine/umem.h"
#include "user/engine/veth.h"
#include "user/engine/xsk.h"

#define FRAME_SIZE     XSK_UMEM__DEFAULT_FRAME_SIZE
#define RX_FRAMES      4096u    /* power of two: also the fill and RX ring sizes */
#define TX_FRAMES      256u     /* power of two: also the TX and completion ring sizes */
#define RX_BATCH       XI_DELIVER_BATCH
#define DEFAULT_SYNC_MS 250u
#define DEFAULT_POLL_MS 5u
#define PREFETCH_BYTES 256u     /* of each RX frame, before the batch runs */
/* Stopping: how long packets XDP redirected before the slot emptied may
 * still be on their way into the RX rings (the end of a NAPI poll). */
#define QUIESCE_NS     (20 * 1000 * 1000ull)

struct xq {
	uint32_t id;
	void *area;
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	bool in_map, zero_copy;
	pthread_mutex_t tx_lock;   /* tx, comp, tx_free: any thread may emit */
	uint64_t tx_free[TX_FRAMES];
	uint32_t n_tx_free;
	uint32_t tx_outstanding;   /* submitted, not yet back in the completion ring */
	struct xi_loss_xsk seen;   /* of its XDP_STATISTICS, what xi_losses has */
	uint64_t rx_frames;        /* one writer: the thread that reads it */
};

/* One engine thread: the queues it reads, and what it needs to run them. */
struct xthread {
	struct xi_engine *e;
	unsigned idx;
	struct xq **qs;
	unsigned n_qs;
	struct xi_engine_worker *w;
	struct xi_deliver *dl;
	pthread_t th;
	bool started;
	int rc;
	/* One writer (this thread), read by thread 0 for losses and stats. */
	uint64_t deliver_failed;
};

struct xi_engine {
	struct xi_engine_opts opts;
	char ifname[IF_NAMESIZE];
	struct xi_catalog *cat;
	struct xi_dataplane *dp;
	struct xi_engine_conns *conns;
	struct xi_tap *tap;              /* observers' connections (tap.h), thread 0's */
	int xsks_fd, to_user_fd;
	bool slot_set;
	struct xq *qs;
	unsigned n_qs;
	struct xthread *ths;
	unsigned n_ths;
	struct xi_veth *veth;            /* NULL: delivery through raw sockets */
	volatile sig_atomic_t stop;
	bool quiesced;
	struct xi_engine_stats stats;    /* tx_full, tx_errors: atomic adds */
	/* Losses: what is counted but not yet in xi_losses, what of the
	 * engine's own failure counters is, and the log's state. */
	uint64_t unflushed[XI_LOSS__MAX];
	uint64_t seen_errors, seen_bad_meta, seen_deliver, seen_tx;
	struct xi_loss_log llog;
	bool losses_failed;
};

#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ADD1(x, n)  __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)   /* one writer */

#define elog(e, ...) xi_logf((e)->opts.log, (e)->opts.log_user, __VA_ARGS__)

static void engine_log(void *user, const char *msg)
{
	struct xi_engine *e = user;

	if (e->opts.log)
		e->opts.log(e->opts.log_user, msg);
}

/* One socket per receive queue. Asked through ethtool rather than read from
 * /sys/class/net, which shows the namespace sysfs was mounted in, not ours;
 * a driver without channel counts has one queue. */
/* The AF_XDP redirect that ends a chain's XDP part. Its slot stays empty
 * until this engine runs: that is how XDP tells there is no daemon. */
static const struct xi_stage_map to_user_maps[] = {
	{ "xi_xsks", XI_STAGE_KEY_NONE },
	{ NULL },
};

const struct xi_stage xi_stage_to_user = {
	.sz = sizeof(struct xi_stage),
	.name = "to-user",
	.slot = XI_STAGE_TO_USER,
	.prog = "xi_to_user",
	.on_demand = true,
	.maps = to_user_maps,
};

static int rx_queue_count(const char *ifname, unsigned *ret)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned n = 1;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(s, SIOCETHTOOL, &ifr) == 0 && ch.rx_count + ch.combined_count > 0)
		n = ch.rx_count + ch.combined_count;
	close(s);
	*ret = n > XI_XSKS_MAX ? XI_XSKS_MAX : n;
	return 0;
}

static int iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFHWADDR, &ifr))
		r = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	return r;
}

/* ---- one queue ---- */

static int xq_fill(struct xq *q)
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&q->fill, RX_FRAMES, &idx) != RX_FRAMES)
		return -ENOSPC;
	for (uint32_t i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&q->fill, RX_FRAMES);
	for (uint32_t i = 0; i < TX_FRAMES; i++)
		q->tx_free[i] = (uint64_t)(RX_FRAMES + i) * FRAME_SIZE;
	q->n_tx_free = TX_FRAMES;
	return 0;
}

/* How long a queue's -EBUSY is taken for a socket the kernel is still
 * letting go of: a killed engine's UMEM is released in deferred work, and a
 * start right after it would fail. A live engine on the queue fails after. */
#define BUSY_WAIT_MS 1000

/* Zero-copy where the driver offers it, copy mode otherwise. */
static int xq_socket_try(struct xi_engine *e, struct xq *q)
{
	struct xsk_socket_config scfg = {
		.rx_size = RX_FRAMES, .tx_size = TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP,
	};
	int r = xsk_socket__create(&q->xsk, e->ifname, q->id, q->umem, &q->rx, &q->tx, &scfg);

	q->zero_copy = !r;
	if (r) {
		scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
		r = xsk_socket__create(&q->xsk, e->ifname, q->id, q->umem, &q->rx, &q->tx, &scfg);
	}
	if (r)
		q->xsk = NULL;
	return r;
}

static int xq_socket(struct xi_engine *e, struct xq *q)
{
	int r = xq_socket_try(e, q);

	for (int ms = 0; r == -EBUSY && ms < BUSY_WAIT_MS; ms += 20) {
		usleep(20 * 1000);
		r = xq_socket_try(e, q);
	}
	return r;
}

static int xq_open(struct xi_engine *e, struct xq *q, uint32_t id)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RX_FRAMES, .comp_size = TX_FRAMES,
		.frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	int r;

	q->id = id;
	pthread_mutex_init(&q->tx_lock, NULL);
	q->area_len = (size_t)(RX_FRAMES + TX_FRAMES) * FRAME_SIZE;
	r = xi_umem_create(q->area_len, &ucfg, &q->area, &q->umem, &q->fill, &q->comp);
	if (r)
		return r;
	r = xq_socket(e, q);
	if (r)
		return r;
	r = xq_fill(q);
	if (!r)
		r = xsk_socket__update_xskmap(q->xsk, e->xsks_fd);
	q->in_map = !r;
	return r;
}

static void xq_close(struct xi_engine *e, struct xq *q)
{
	if (q->in_map)
		bpf_map_delete_elem(e->xsks_fd, &q->id);
	if (q->xsk)
		xsk_socket__delete(q->xsk);
	if (q->umem)
		xsk_umem__delete(q->umem);
	if (q->area) {
		munmap(q->area, q->area_len);
		pthread_mutex_destroy(&q->tx_lock);
	}
}

/* Under q->tx_lock. */
static void xq_reclaim(struct xq *q)
{
	xi_tx_frames_reclaim(&q->comp, q->tx_free, &q->n_tx_free, TX_FRAMES, &q->tx_outstanding);
}

/* Under q->tx_lock. Copy mode sends in this call; EAGAIN and friends mean
 * "later", and the next kick picks the frame up. */
static int xq_kick(struct xq *q)
{
	if (!xsk_ring_prod__needs_wakeup(&q->tx))
		return 0;
	if (sendto(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
		return -errno;
	return 0;
}

static int xq_emit(struct xq *q, const uint8_t *frame, size_t len)
{
	uint32_t idx;
	uint64_t addr;

	xq_reclaim(q);
	if (!q->n_tx_free || xsk_ring_prod__reserve(&q->tx, 1, &idx) != 1)
		return -ENOBUFS;
	addr = q->tx_free[--q->n_tx_free];
	memcpy(xsk_umem__get_data(q->area, addr), frame, len);
	xsk_ring_prod__tx_desc(&q->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&q->tx, idx)->len = (uint32_t)len;
	xsk_ring_prod__submit(&q->tx, 1);
	q->tx_outstanding++;
	return xq_kick(q);
}

/* The chains' RTCP, from any thread: out of the queue its connection's
 * packets last came on. */
static int engine_emit(void *user, uint32_t queue, const uint8_t *frame, size_t len)
{
	struct xi_engine *e = user;
	struct xq *q;
	int r;

	if (queue >= e->n_qs || len > FRAME_SIZE)
		return -EINVAL;
	q = &e->qs[queue];
	pthread_mutex_lock(&q->tx_lock);
	r = xq_emit(q, frame, len);
	pthread_mutex_unlock(&q->tx_lock);
	if (r == -ENOBUFS)
		__atomic_fetch_add(&e->stats.tx_full, 1, __ATOMIC_RELAXED);    /* XI_LOSS_TX_FAILED */
	else if (r)
		__atomic_fetch_add(&e->stats.tx_errors, 1, __ATOMIC_RELAXED);  /* XI_LOSS_TX_FAILED */
	return r;
}

/* One packet through its chain; what it lets through joins the batch. The
 * datagram stays in the frame until the batch is flushed, unless the chain
 * changed it (then it is in the worker's buffer: copied). */
static void xq_deliver(struct xthread *th, struct xq *q, const struct xdp_desc *d)
{
	uint8_t *data = xsk_umem__get_data(q->area, d->addr);
	const struct xi_xsk_meta *meta = (const void *)data;
	size_t frame_len = d->len;
	const uint8_t *l3;
	size_t len;
	int r;

	/* xi_to_user put the metadata in front of the frame (bpf/to_user.bpf.c). */
	if (frame_len < sizeof(*meta)) {
		meta = NULL;
	} else {
		data += sizeof(*meta);
		frame_len -= sizeof(*meta);
	}
	/* The chain counts its own drops and failures (chain_error, bad_meta). */
	r = xi_engine_conns_process(th->w, meta, q->id, data, frame_len, &l3, &len);
	if (r != 1)
		return;
	r = xi_deliver_add(th->dl, l3, len, l3 < data || l3 >= data + frame_len);
	if (r)
		ADD1(th->deliver_failed, r < 0 ? 1 : (unsigned)r);   /* XI_LOSS_DELIVER_FAILED */
}

/* A batch: peek, run, deliver in one go, give the frames back in one go. */
static unsigned xq_rx(struct xthread *th, struct xq *q)
{
	uint32_t idx_rx, idx_fill, n = xsk_ring_cons__peek(&q->rx, RX_BATCH, &idx_rx);
	unsigned failed;

	if (!n)
		return 0;
	/* The frames were written on the CPU that ran XDP: start every
	 * cache miss of the batch before the first use. PREFETCH_BYTES covers
	 * the metadata, the headers and, for media, most of the payload,
	 * which delivery copies; a miss per line otherwise, in the chain or
	 * in sendmmsg(). */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *data = xsk_umem__get_data(q->area,
			xsk_ring_cons__rx_desc(&q->rx, idx_rx + i)->addr);

		for (unsigned off = 0; off < PREFETCH_BYTES; off += 64)
			__builtin_prefetch(data + off);
	}
	for (uint32_t i = 0; i < n; i++)
		xq_deliver(th, q, xsk_ring_cons__rx_desc(&q->rx, idx_rx + i));
	failed = xi_deliver_flush(th->dl);
	if (failed)
		ADD1(th->deliver_failed, failed);
	/* The fill ring holds every RX frame, so this reservation fits. */
	while (xsk_ring_prod__reserve(&q->fill, n, &idx_fill) != n)
		;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = xsk_ring_cons__rx_desc(&q->rx, idx_rx + i)->addr;

		*xsk_ring_prod__fill_addr(&q->fill, idx_fill + i) = a - a % FRAME_SIZE;
	}
	xsk_ring_prod__submit(&q->fill, n);
	xsk_ring_cons__release(&q->rx, n);
	ADD1(q->rx_frames, n);
	return n;
}

/* Every queue of the thread, until each has no full batch waiting. */
static unsigned xthread_rx(struct xthread *th)
{
	unsigned got = 0, n;

	do {
		n = 0;
		for (unsigned i = 0; i < th->n_qs; i++)
			n += xq_rx(th, th->qs[i]);
		got += n;
	} while (n >= RX_BATCH);
	/* What an earlier kick left in the veth's TX ring, and its completions. */
	n = xi_deliver_flush(th->dl);
	if (n)
		ADD1(th->deliver_failed, n);
	for (unsigned i = 0; i < th->n_qs; i++) {
		struct xq *q = th->qs[i];

		pthread_mutex_lock(&q->tx_lock);
		xq_reclaim(q);
		/* A kick that met EAGAIN or EBUSY left frames in the ring: the
		 * next emit's kick would send them, and the last one's never. */
		if (q->tx_outstanding)
			xq_kick(q);
		pthread_mutex_unlock(&q->tx_lock);
	}
	return got;
}

/* Stopping: what was emitted leaves, or counts as XI_LOSS_TX_FAILED. */
static void engine_tx_flush(struct xi_engine *e)
{
	uint64_t start = xi_mono_ns();
	uint32_t left;

	do {
		left = 0;
		for (unsigned i = 0; i < e->n_qs; i++) {
			struct xq *q = &e->qs[i];

			pthread_mutex_lock(&q->tx_lock);
			xq_reclaim(q);
			if (q->tx_outstanding)
				xq_kick(q);
			left += q->tx_outstanding;
			pthread_mutex_unlock(&q->tx_lock);
		}
		if (left)
			usleep(1000);
	} while (left && xi_mono_ns() - start < QUIESCE_NS);
	if (left)
		__atomic_fetch_add(&e->stats.tx_errors, left, __ATOMIC_RELAXED);
}

/* ---- losses ---- */

/* What the kernel counted for one socket since the last read, by reason. */
static void xq_losses(struct xq *q, uint64_t delta[XI_LOSS__MAX])
{
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);

	if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_STATISTICS, &st, &len))
		return;   /* counted at the next read: the counters only grow */
	xi_loss_xsk_delta(&q->seen, &st, len >= sizeof(st), delta);
}

static uint64_t own_delta(uint64_t *seen, uint64_t now)
{
	uint64_t d = now - *seen;

	*seen = now;
	return d;
}

/* What each thread's delivery returned as failed, and the descriptors the
 * kernel rejected on its veth TX queue. */
static uint64_t deliver_failed_sum(const struct xi_engine *e)
{
	struct xi_deliver_stats ds;
	uint64_t n = 0;

	for (unsigned i = 0; e->ths && i < e->n_ths; i++) {
		n += LOAD(e->ths[i].deliver_failed);
		if (e->ths[i].dl) {
			xi_deliver_stats(e->ths[i].dl, &ds);
			n += ds.tx_invalid;
		}
	}
	return n;
}

/* Reads every socket's statistics and the engine's own failures, adds what
 * is new to xi_losses (what an update could not add stays for the next
 * tick) and to the log. Thread 0's. */
static void engine_losses(struct xi_engine *e, uint64_t now_ns)
{
	uint64_t d[XI_LOSS__MAX] = { 0 };
	struct xi_engine_conns_stats cs;
	int r;

	for (unsigned i = 0; e->qs && i < e->n_qs; i++)
		if (e->qs[i].xsk)
			xq_losses(&e->qs[i], d);
	if (e->conns) {
		xi_engine_conns_stats(e->conns, &cs);
		d[XI_LOSS_CHAIN_ERROR] += own_delta(&e->seen_errors, cs.errors);
		d[XI_LOSS_BAD_META] += own_delta(&e->seen_bad_meta, cs.bad_meta);
	}
	d[XI_LOSS_DELIVER_FAILED] += own_delta(&e->seen_deliver, deliver_failed_sum(e));
	d[XI_LOSS_TX_FAILED] += own_delta(&e->seen_tx, LOAD(e->stats.tx_full) + LOAD(e->stats.tx_errors));
	for (size_t i = 0; i < XI_LOSS__MAX; i++) {
		e->stats.losses[i] += d[i];
		e->unflushed[i] += d[i];
	}
	r = e->dp ? xi_loss_map_add(xi_dataplane_map_fd(e->dp, XI_MAP_LOSSES), e->unflushed)
		  : -EBADF;
	if (r && !e->losses_failed)
		elog(e, "cannot add to xi_losses (kept, tried again every sync): %s", strerror(-r));
	else if (!r && e->losses_failed)
		elog(e, "xi_losses updated again");
	e->losses_failed = r != 0;
	xi_loss_log_tick(&e->llog, d, now_ns, e->opts.log, e->opts.log_user);
}

/* ---- the engine ---- */

static int engine_sockets(struct xi_engine *e)
{
	int r = rx_queue_count(e->ifname, &e->n_qs);

	if (r)
		return r;
	e->qs = calloc(e->n_qs, sizeof(*e->qs));
	if (!e->qs)
		return -ENOMEM;
	for (unsigned i = 0; i < e->n_qs; i++) {
		r = xq_open(e, &e->qs[i], i);
		if (r) {
			elog(e, "queue %u: cannot open an AF_XDP socket: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The threads' shares: queue i to thread i % n. */
static int engine_threads(struct xi_engine *e)
{
	unsigned n = e->opts.threads && e->opts.threads < e->n_qs ? e->opts.threads : e->n_qs;
	int r;

	e->ths = calloc(n, sizeof(*e->ths));
	if (!e->ths)
		return -ENOMEM;
	e->n_ths = n;
	for (unsigned i = 0; i < n; i++) {
		struct xthread *th = &e->ths[i];

		th->e = e;
		th->idx = i;
		th->qs = calloc(e->n_qs / n + 1, sizeof(*th->qs));
		if (!th->qs)
			return -ENOMEM;
		r = xi_engine_worker_new(e->conns, &th->w);
		if (r)
			return r;
	}
	for (unsigned i = 0; i < e->n_qs; i++) {
		struct xthread *th = &e->ths[i % n];

		th->qs[th->n_qs++] = &e->qs[i];
	}
	return 0;
}

/* The veth way: the pair, then a TX queue of it per thread. */
static int engine_deliver_veth(struct xi_engine *e, unsigned ifindex)
{
	int r = xi_veth_new(ifindex, e->n_ths, XI_DELIVER_VETH_MTU, &e->veth);

	for (unsigned i = 0; !r && i < e->n_ths; i++)
		r = xi_deliver_new_veth(ifindex, xi_veth_info(e->veth), i, &e->ths[i].dl);
	if (r) {
		for (unsigned i = 0; i < e->n_ths; i++) {
			xi_deliver_free(e->ths[i].dl);
			e->ths[i].dl = NULL;
		}
		xi_veth_free(e->veth);
		e->veth = NULL;
	}
	return r;
}

/* Each thread's delivery, as opts.deliver asks: the veth, else (auto) raw
 * sockets, with a line saying why. */
static int engine_deliver(struct xi_engine *e)
{
	unsigned ifindex = if_nametoindex(e->ifname);
	char name[IF_NAMESIZE], peer[IF_NAMESIZE];
	int r;

	if (!ifindex)
		return -errno;
	if (e->opts.deliver != XI_ENGINE_DELIVER_RAW) {
		r = engine_deliver_veth(e, ifindex);
		if (!r)
			return 0;
		xi_veth_names(ifindex, name, peer);
		elog(e, "cannot deliver through a veth %s/%s: %s%s", name, peer, strerror(-r),
		     e->opts.deliver == XI_ENGINE_DELIVER_VETH ? "" : "; delivering through raw sockets");
		if (e->opts.deliver == XI_ENGINE_DELIVER_VETH)
			return r;
	}
	for (unsigned i = 0; i < e->n_ths; i++) {
		r = xi_deliver_new(ifindex, &e->ths[i].dl);
		if (r)
			return r;
	}
	return 0;
}

/* Last step of the start: from here on packets come to the sockets. */
static int engine_slot_set(struct xi_engine *e)
{
	__u32 slot = XI_STAGE_TO_USER;

	if (bpf_map_update_elem(xi_dataplane_map_fd(e->dp, XI_MAP_STAGES), &slot, &e->to_user_fd, BPF_ANY))
		return -errno;
	e->slot_set = true;
	return 0;
}

static int engine_open(struct xi_engine *e)
{
	struct xi_engine_conns_cbs cbs = { .emit = engine_emit, .log = engine_log, .user = e };
	char how[128];
	uint8_t mac[6];
	unsigned zc = 0;
	int r;

	e->cat = e->opts.cat ? e->opts.cat : xi_catalog_new_from_global();
	if (!e->cat)
		return -errno;
	r = xi_dataplane_open(e->ifname, e->cat, &e->dp);
	if (r)
		return r;
	e->xsks_fd = xi_dataplane_pin_get(e->ifname, "xi_xsks");
	if (e->xsks_fd < 0)
		return e->xsks_fd;
	e->to_user_fd = xi_dataplane_pin_get(e->ifname, "xi_to_user");
	if (e->to_user_fd < 0)
		return e->to_user_fd;
	r = iface_mac(e->ifname, mac);
	if (r)
		return r;
	r = xi_engine_conns_new(e->dp, e->cat, mac, &cbs, &e->conns);
	if (r)
		return r;
	r = xi_engine_conns_sync(e->conns);
	if (r < 0)
		return r;
	/* The sockets first: another engine on the interface fails them
	 * (-EBUSY) before its veth could be taken for a stale one. */
	r = engine_sockets(e);
	if (!r)
		r = engine_threads(e);
	if (!r)
		r = engine_deliver(e);
	if (r)
		return r;
	for (unsigned i = 0; i < e->n_qs; i++)
		zc += e->qs[i].zero_copy;
	if (e->veth)
		snprintf(how, sizeof(how), "AF_XDP TX into veth %s (a TX queue a thread), received on %s",
			 xi_veth_info(e->veth)->name, xi_veth_info(e->veth)->peer);
	else
		snprintf(how, sizeof(how), "raw sockets");
	elog(e, "%u receive queue%s, %u thread%s, %s; delivering in batches of up to %u "
	     "through %s", e->n_qs, e->n_qs == 1 ? "" : "s", e->n_ths,
	     e->n_ths == 1 ? "" : "s", zc == e->n_qs ? "zero-copy" : zc ? "zero-copy on some queues"
	     : "copy mode", RX_BATCH, how);
	r = engine_slot_set(e);
	if (!r)
		r = xi_tap_open(e->ifname, e->dp, e->ths[0].w, &e->tap);
	return r;
}

int xi_engine_new(const char *ifname, const struct xi_engine_opts *opts, struct xi_engine **ret)
{
	struct xi_engine *e;
	int r;

	if (!ifname || !ret || xi_dataplane_ifname_check(ifname) || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (opts)
		memcpy(&e->opts, opts, opts->sz < sizeof(e->opts) ? opts->sz : sizeof(e->opts));
	e->opts.sz = sizeof(e->opts);
	if (!e->opts.sync_ms)
		e->opts.sync_ms = DEFAULT_SYNC_MS;
	if (!e->opts.poll_ms)
		e->opts.poll_ms = DEFAULT_POLL_MS;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	e->xsks_fd = e->to_user_fd = -1;
	r = engine_open(e);
	if (r) {
		xi_engine_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

/*
 * The end of a run, once the other threads are joined: the slot emptied, so
 * XDP hands nothing more over (the no_daemon policy applies again); what it
 * handed over until then is run through the chains; and the last losses go
 * into xi_losses. Packets already redirected may take until the end of
 * their NAPI poll to reach the RX ring, so the rings are drained until they
 * have been quiet for a moment.
 */
static void engine_quiesce(struct xi_engine *e)
{
	__u32 slot = XI_STAGE_TO_USER;
	uint64_t start = xi_mono_ns(), quiet_since = start;

	if (e->quiesced)
		return;
	e->quiesced = true;
	if (e->slot_set) {
		bpf_map_delete_elem(xi_dataplane_map_fd(e->dp, XI_MAP_STAGES), &slot);
		e->slot_set = false;
	}
	for (;;) {
		uint64_t now = xi_mono_ns();
		unsigned got = 0;

		for (unsigned i = 0; e->ths && i < e->n_ths; i++)
			got += xthread_rx(&e->ths[i]);
		if (got)
			quiet_since = now;
		else if (now - quiet_since >= QUIESCE_NS || now - start >= 10 * QUIESCE_NS)
			break;
		else
			usleep(1000);
	}
	for (unsigned i = 0; e->ths && i < e->n_ths; i++) {
		unsigned n = e->ths[i].dl ? xi_deliver_finish(e->ths[i].dl, QUIESCE_NS) : 0;

		if (n)
			ADD1(e->ths[i].deliver_failed, n);
	}
	engine_tx_flush(e);
	engine_losses(e, xi_mono_ns());
	xi_loss_log_flush(&e->llog, xi_mono_ns(), e->opts.log, e->opts.log_user);
}

static bool engine_stopping(const struct xi_engine *e)
{
	return __atomic_load_n(&e->stop, __ATOMIC_RELAXED);
}

/* pfds: the thread's sockets, and room for one more fd. */
static struct pollfd *xthread_pollfds(const struct xthread *th)
{
	struct pollfd *pfds = calloc(th->n_qs + 1, sizeof(*pfds));

	for (unsigned i = 0; pfds && i < th->n_qs; i++)
		pfds[i] = (struct pollfd){ .fd = xsk_socket__fd(th->qs[i]->xsk), .events = POLLIN };
	return pfds;
}

/* opts.nice for the calling thread alone: setpriority on a tid. */
static void xthread_nice(struct xthread *th)
{
	struct xi_engine *e = th->e;

	if (!e->opts.set_nice)
		return;
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), e->opts.nice))
		elog(e, "thread %u: cannot set nice %d (%s): it runs at the nice it inherited",
		     th->idx, e->opts.nice, strerror(errno));
}

/* Threads 1..n-1: their queues only. Signals go to thread 0. */
static void *xthread_main(void *arg)
{
	struct xthread *th = arg;
	struct pollfd *pfds = xthread_pollfds(th);

	xthread_nice(th);

	if (!pfds) {
		th->rc = -ENOMEM;
		return NULL;
	}
	while (!engine_stopping(th->e)) {
		if (poll(pfds, th->n_qs, (int)th->e->opts.poll_ms) < 0 && errno != EINTR) {
			th->rc = -errno;
			break;
		}
		xthread_rx(th);
	}
	free(pfds);
	return NULL;
}

static int threads_start(struct xi_engine *e)
{
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 1; i < e->n_ths && !r; i++) {
		r = -pthread_create(&e->ths[i].th, NULL, xthread_main, &e->ths[i]);
		e->ths[i].started = !r;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int threads_join(struct xi_engine *e)
{
	int r = 0;

	xi_engine_stop(e);
	for (unsigned i = 1; i < e->n_ths; i++) {
		if (!e->ths[i].started)
			continue;
		pthread_join(e->ths[i].th, NULL);
		e->ths[i].started = false;
		if (!r)
			r = e->ths[i].rc;
	}
	return r;
}

/* Thread 0: its queues, the tap, timers, syncs and losses. */
int xi_engine_run(struct xi_engine *e)
{
	struct xthread *th = &e->ths[0];
	struct pollfd *pfds = xthread_pollfds(th);
	uint64_t next_sync = xi_mono_ns() + e->opts.sync_ms * 1000000ull;
	/* The kernel wakes the tap's reader only once an eighth of its ring
	 * waits, so this loop reads it every XI_TAP_READ_MS too: what an
	 * observer sees is at most that late. */
	int wait_ms = (int)(e->opts.poll_ms < XI_TAP_READ_MS ? e->opts.poll_ms : XI_TAP_READ_MS);
	int r, r2;

	if (!pfds)
		return -ENOMEM;
	if (!e->llog.last_tick_ns)
		e->llog.last_tick_ns = xi_mono_ns();   /* what the first loss line covers */
	pfds[th->n_qs] = (struct pollfd){ .fd = xi_tap_fd(e->tap), .events = POLLIN };
	xthread_nice(th);
	r = threads_start(e);
	while (!r && !engine_stopping(e)) {
		uint64_t now;

		pfds[th->n_qs].revents = 0;
		if (poll(pfds, th->n_qs + 1, wait_ms) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		xthread_rx(th);
		xi_tap_consume(e->tap, pfds[th->n_qs].revents & POLLIN);
		now = xi_mono_ns();
		xi_engine_conns_poll(e->conns, now);
		if (now >= next_sync) {
			xi_engine_conns_sync(e->conns);
			engine_losses(e, now);
			next_sync = now + e->opts.sync_ms * 1000000ull;
		}
	}
	free(pfds);
	r2 = threads_join(e);
	engine_quiesce(e);
	return r ? r : r2;
}

void xi_engine_stop(struct xi_engine *e)
{
	if (e)
		__atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
}

void xi_engine_stats(const struct xi_engine *e, struct xi_engine_stats *ret)
{
	struct xi_tap_stats ts = { 0 };

	*ret = e->stats;
	ret->tx_full = LOAD(e->stats.tx_full);
	ret->tx_errors = LOAD(e->stats.tx_errors);
	xi_engine_conns_stats(e->conns, &ret->chains);
	if (e->tap)
		xi_tap_stats(e->tap, &ts);
	ret->rx_frames = ts.records;
	for (unsigned i = 0; e->qs && i < e->n_qs; i++) {
		ret->queue_frames[i] = LOAD(e->qs[i].rx_frames);
		ret->rx_frames += ret->queue_frames[i];
	}
	ret->deliver_errors = deliver_failed_sum(e);
	ret->deliver = e->veth ? XI_ENGINE_DELIVER_VETH : XI_ENGINE_DELIVER_RAW;
	snprintf(ret->veth, sizeof(ret->veth), "%s", e->veth ? xi_veth_info(e->veth)->name : "");
	memset(&ret->delivery, 0, sizeof(ret->delivery));
	for (unsigned i = 0; e->ths && i < e->n_ths; i++) {
		struct xi_deliver_stats ds;

		if (!e->ths[i].dl)
			continue;
		xi_deliver_stats(e->ths[i].dl, &ds);
		ret->delivery.veth += ds.veth;
		ret->delivery.raw += ds.raw;
		ret->delivery.raw_failed += ds.raw_failed;
		ret->delivery.no_frame += ds.no_frame;
		ret->delivery.refused += ds.refused;
		ret->delivery.unsent += ds.unsent;
		ret->delivery.tx_invalid += ds.tx_invalid;
	}
	ret->tap_unreadable = ts.bad;
	ret->queues = e->n_qs;
	ret->threads = e->n_ths;
}

/* The slot first (engine_quiesce, which joins the threads), so no packet is
 * redirected to a socket about to close; then the sockets (xq_close takes
 * each out of xi_xsks). */
void xi_engine_free(struct xi_engine *e)
{
	if (!e)
		return;
	if (e->slot_set) {
		threads_join(e);
		engine_quiesce(e);
	}
	xi_tap_free(e->tap);   /* before the chains it runs */
	for (unsigned i = 0; e->qs && i < e->n_qs; i++)
		xq_close(e, &e->qs[i]);
	free(e->qs);
	for (unsigned i = 0; e->ths && i < e->n_ths; i++) {
		free(e->ths[i].qs);
		xi_deliver_free(e->ths[i].dl);
	}
	free(e->ths);
	xi_veth_free(e->veth);            /* no socket is bound to it any more */
	xi_engine_conns_free(e->conns);   /* and the workers */
	if (e->xsks_fd >= 0)
		close(e->xsks_fd);
	if (e->to_user_fd >= 0)
		close(e->to_user_fd);
	xi_dataplane_close(e->dp);
	if (e->cat != e->opts.cat)
		xi_catalog_free(e->cat);
	free(e);
}
