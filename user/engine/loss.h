/* SPDX-License-Identifier: MIT */
/*
 * No silent loss: what the AF_XDP engine adds to the pinned xi_losses map
 * (enum xi_loss in abi.h), and the rate-limited log lines it writes while
 * packets are being lost. Pure bookkeeping, no I/O but the map update, so
 * the arithmetic runs in unit tests.
 *
 * A socket's XDP_STATISTICS count from zero when it is created, so the engine
 * keeps, per socket, what it has already added and adds only what is new:
 * the totals in xi_losses survive a daemon restart.
 */
#ifndef XICEPT_ENGINE_LOSS_H
#define XICEPT_ENGINE_LOSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/if_xdp.h>
#include <xicept/abi.h>

/* What of one socket's XDP_STATISTICS has been accounted so far. */
struct xi_loss_xsk {
	uint64_t dropped;        /* rx_dropped: fill ring empty, or otherwise */
	uint64_t fill;           /* of those, the fill ring was empty */
	uint64_t ring_full;
	uint64_t rx_invalid;
	uint64_t tx_invalid;
};

/*
 * Adds to delta[XI_LOSS__MAX] what st counts beyond *seen, and moves *seen on.
 * In copy mode a packet that finds the fill ring empty counts both in
 * rx_dropped and in rx_fill_ring_empty_descs: it goes under fill_empty, the
 * rest of rx_dropped (too large for a frame) under rx_dropped, so that the
 * sum is rx_dropped exactly however the two reads interleave with traffic.
 * extra: st has the kernel's extra fields (optlen covered them); without
 * them rx_dropped includes a full RX ring, and counts as rx_dropped.
 */
void xi_loss_xsk_delta(struct xi_loss_xsk *seen, const struct xdp_statistics *st, bool extra,
		       uint64_t delta[XI_LOSS__MAX]);

/* Adds add[XI_LOSS__MAX] to the xi_losses map fd, zeroing each entry once it
 * is in, so a failed call can be repeated with what is left. 0 or -errno. */
int xi_loss_map_add(int fd, uint64_t add[XI_LOSS__MAX]);

/* "rx_ring_full 1200, fill_empty 34": the non-zero counts; "none" if all are. */
void xi_loss_format(const uint64_t counts[XI_LOSS__MAX], char *buf, size_t size);

/*
 * The log lines: one when loss starts, then at most one a second while it
 * goes on ("loss: 1234 packets in the last 1.0 s (fill_empty 1234)"), and
 * "loss stopped after N packets (...)" once a second passes without any.
 */
#define XI_LOSS_LOG_NS 1000000000ull

struct xi_loss_log {
	bool losing;
	uint64_t pending[XI_LOSS__MAX];   /* counted since the last line */
	uint64_t episode[XI_LOSS__MAX];   /* since the loss started */
	uint64_t since_ns;                /* start of what pending covers */
	uint64_t last_line_ns, last_loss_ns, last_tick_ns;
	bool have_line;
};

typedef void (*xi_loss_log_fn)(void *user, const char *msg);

/* One tick, with what was lost since the last one. */
void xi_loss_log_tick(struct xi_loss_log *l, const uint64_t delta[XI_LOSS__MAX], uint64_t now_ns,
		      xi_loss_log_fn log, void *user);
/* At exit: what was counted but not yet logged. */
void xi_loss_log_flush(struct xi_loss_log *l, uint64_t now_ns, xi_loss_log_fn log, void *user);

#endif
