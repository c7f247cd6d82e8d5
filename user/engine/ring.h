/* SPDX-License-Identifier: MIT */
/*
 * A reader of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) over its mmapped
 * pages, for the tap (user/engine/tap.c).
 *
 * Why not libbpf's ring_buffer__consume: libbpf (1.1, Debian 12's, and
 * later ones alike) stores the consumer position after every record. The
 * producer reads that position on every reserve (is there room?) and on
 * every bpf_ringbuf_query (the tap's wakeup policy), so with the reader on
 * another core each store is a cache line the packet's core must fetch
 * back: a miss per packet. This reader stores it every
 * XI_RING_RELEASE_EVERY records and once more when it has caught up; the
 * producer sees that much less room, which a ring of megabytes does not
 * notice.
 *
 * The file descriptor to wait on is an edge-triggered epoll instance: it
 * polls readable once per wakeup the producer sends, not for as long as
 * records wait, so a reader that wakes on a timer is not kept spinning by a
 * steady trickle (level-triggered, each poll would see a record and return).
 */
#ifndef XICEPT_ENGINE_RING_H
#define XICEPT_ENGINE_RING_H

#include <stdint.h>

/* Consumer position stores per this many records (and at the end of each
 * xi_ring_consume). */
#define XI_RING_RELEASE_EVERY 256u

struct xi_ring;

/* A record, valid only during the call: its bytes are the ring's own. */
typedef void (*xi_ring_fn)(void *ctx, const void *data, uint32_t size);

/* Maps the ring of map_fd (which stays the caller's). -EINVAL: not a ring
 * buffer. */
int xi_ring_open(int map_fd, xi_ring_fn fn, void *ctx, struct xi_ring **ret);
/* Edge-triggered: readable once after each wakeup; xi_ring_consume with
 * woken set takes it. */
int xi_ring_fd(const struct xi_ring *ring);
/*
 * Runs fn on every record committed when it starts, in order, and stops at
 * the first one still being written. woken: the fd polled readable, take
 * the wakeup first (one epoll_wait), so that it polls readable again only at
 * the next one. Returns how many records ran, or a negative errno.
 */
int xi_ring_consume(struct xi_ring *ring, int woken);
void xi_ring_free(struct xi_ring *ring);   /* NULL is fine */

#endif
