/* SPDX-License-Identifier: MIT */
/*
 * The UMEMs of the engine's AF_XDP sockets, shared by its receive queues
 * (xsk.c) and its veth delivery (deliver.c): the area and its rings, and the
 * TX frames, a stack of the free ones taken by the sender and given back
 * when their descriptors come out of the completion ring.
 */
#ifndef XICEPT_ENGINE_UMEM_H
#define XICEPT_ENGINE_UMEM_H

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include <xdp/xsk.h>

/* An anonymous area of len bytes registered as a UMEM with its fill and
 * completion rings. On failure *area and *umem are NULL (nothing to free). */
static inline int xi_umem_create(size_t len, const struct xsk_umem_config *cfg, void **area,
				 struct xsk_umem **umem, struct xsk_ring_prod *fill,
				 struct xsk_ring_cons *comp)
{
	int r;

	*umem = NULL;
	*area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*area == MAP_FAILED) {
		*area = NULL;
		return -errno;
	}
	r = xsk_umem__create(umem, *area, len, fill, comp, cfg);
	if (r) {
		*umem = NULL;
		munmap(*area, len);
		*area = NULL;
	}
	return r;
}

/* Every completed frame back onto free[0..cap) (*n_free of them there);
 * *in_flight, the frames submitted and not yet completed, goes down by as
 * many. */
static inline void xi_tx_frames_reclaim(struct xsk_ring_cons *comp, uint64_t *free,
					uint32_t *n_free, uint32_t cap, uint32_t *in_flight)
{
	uint32_t idx, n = xsk_ring_cons__peek(comp, cap, &idx);

	for (uint32_t i = 0; i < n && *n_free < cap; i++)
		free[(*n_free)++] = *xsk_ring_cons__comp_addr(comp, idx + i);
	if (n)
		xsk_ring_cons__release(comp, n);
	*in_flight -= n < *in_flight ? n : *in_flight;
}

#endif
