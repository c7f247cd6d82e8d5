// SPDX-License-Identifier: MIT
/*
 * The ring buffer reader: see user/engine/ring.h. The layout is the
 * kernel's (kernel/bpf/ringbuf.c): a page holding the consumer position
 * (the only page userspace may write), then a page holding the producer
 * position, then the data, mapped twice in a row so that a record that
 * wraps reads as one. Each record starts with an 8-byte header whose first
 * word is its length, with BPF_RINGBUF_BUSY_BIT set until it is committed
 * and BPF_RINGBUF_DISCARD_BIT set if it was discarded.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>

#include "user/engine/ring.h"

struct xi_ring {
	uint64_t *cons_pos;          /* page 0, read-write */
	const uint64_t *prod_pos;    /* page 1, read-only, then the data */
	const uint8_t *data;
	uint64_t mask;               /* data bytes - 1, a power of two */
	size_t page;
	int epoll_fd;
	xi_ring_fn fn;
	void *ctx;
};

int xi_ring_open(int map_fd, xi_ring_fn fn, void *ctx, struct xi_ring **ret)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct xi_ring *rg;
	void *p;
	int r;

	if (map_fd < 0 || !fn || !ret)
		return -EINVAL;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    info.max_entries & (info.max_entries - 1))
		return -EINVAL;
	rg = calloc(1, sizeof(*rg));
	if (!rg)
		return -ENOMEM;
	rg->fn = fn;
	rg->ctx = ctx;
	rg->mask = info.max_entries - 1;
	rg->page = (size_t)sysconf(_SC_PAGESIZE);
	rg->epoll_fd = -1;
	p = mmap(NULL, rg->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	rg->cons_pos = p;
	p = mmap(NULL, rg->page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd,
		 (off_t)rg->page);
	if (p == MAP_FAILED)
		goto fail;
	rg->prod_pos = p;
	rg->data = (const uint8_t *)p + rg->page;
	rg->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rg->epoll_fd < 0 || epoll_ctl(rg->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev))
		goto fail;
	*ret = rg;
	return 0;
fail:
	r = -errno;
	xi_ring_free(rg);
	return r;
}

int xi_ring_fd(const struct xi_ring *ring)
{
	return ring ? ring->epoll_fd : -EINVAL;
}

int xi_ring_consume(struct xi_ring *rg, int woken)
{
	uint64_t cons, prod;
	unsigned since = 0;
	int n = 0;

	if (!rg)
		return -EINVAL;
	if (woken) {
		struct epoll_event ev;

		if (epoll_wait(rg->epoll_fd, &ev, 1, 0) < 0 && errno != EINTR)
			return -errno;
	}
	cons = *rg->cons_pos;   /* ours alone */
	prod = __atomic_load_n(rg->prod_pos, __ATOMIC_ACQUIRE);
	while (cons < prod) {
		const uint32_t *hdr = (const uint32_t *)(rg->data + (cons & rg->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break;   /* reserved, not committed yet: the next call */
		cons += ((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			rg->fn(rg->ctx, (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, len);
			n++;
		}
		if (++since == XI_RING_RELEASE_EVERY) {
			__atomic_store_n(rg->cons_pos, cons, __ATOMIC_RELEASE);
			since = 0;
		}
	}
	if (since)
		__atomic_store_n(rg->cons_pos, cons, __ATOMIC_RELEASE);
	return n;
}

void xi_ring_free(struct xi_ring *rg)
{
	if (!rg)
		return;
	if (rg->epoll_fd >= 0)
		close(rg->epoll_fd);
	if (rg->prod_pos)
		munmap((void *)rg->prod_pos, rg->page + 2 * (size_t)(rg->mask + 1));
	if (rg->cons_pos)
		munmap(rg->cons_pos, rg->page);
	free(rg);
}
