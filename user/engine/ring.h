/* SPDX-License-Identifier: MIT */
/*
 * A reader of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) over its mmapped
 * pages, for the tap (user/engine/tap.c).
 *
 * Why not libbpf's ring_buffer (1.1, Debian 12's):
 * - its epoll fd is level-triggered: once a wakeup came (a burst took the
 *   ring past an eighth, bpf/tap.bpf.c), it polls readable whenever a record
 *   waits, so a daemon whose loop polls it would spin through a steady
 *   stream a few records at a time instead of reading every XI_TAP_READ_MS.
 *   This reader's fd is an edge-triggered epoll: readable once per wakeup.
 * - ring_buffer__consume loops until it sees no new record: under a
 *   producer faster than the reader it does not return, and thread 0's
 *   queues and timers wait. xi_ring_consume reads what was committed when it
 *   started, then returns.
 * - it stores the consumer position after every record, which the producer
 *   reads on every reserve and query: this reader stores it every
 *   XI_RING_RELEASE_EVERY records and once more when it has caught up. (In
 *   bench_tap's rows that makes no difference that shows: a reader that
 *   never sleeps costs the producer 80 ns a record either way, the daemon's
 *   way ~65; the first two reasons are the ones that matter.)
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
