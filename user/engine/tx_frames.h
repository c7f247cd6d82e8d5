/* SPDX-License-Identifier: MIT */
/*
 * The TX frames of one AF_XDP socket, shared by the engine's RTCP emission
 * (xsk.c) and its veth delivery (deliver.c): a stack of the free ones, taken
 * by the sender, given back when their descriptors come out of the
 * completion ring.
 */
#ifndef XICEPT_ENGINE_TX_FRAMES_H
#define XICEPT_ENGINE_TX_FRAMES_H

#include <stdint.h>

#include <xdp/xsk.h>

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
