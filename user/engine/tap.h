/* SPDX-License-Identifier: MIT */
/*
 * The tap: how `xicept run` observes the packets of connections whose
 * userspace elements only read them (XI_STAGE_TAP, bpf/tap.bpf.c). XDP puts a
 * copy of each frame's start into the pinned ring buffer xi_tap_ring and
 * passes the packet on; this side rebuilds the frame (the rest of it zeros,
 * the RTP padding count where it belongs) and runs the connection's chain on
 * it from the resume position, as it would a frame from an AF_XDP socket.
 * What the chain returns is not delivered: the packet is already on its way.
 */
#ifndef XICEPT_ENGINE_TAP_H
#define XICEPT_ENGINE_TAP_H

#include <stdint.h>

#include <xicept/abi.h>

#include "user/engine/conns.h"

struct xi_tap;

struct xi_tap_stats {
	uint64_t records;        /* observed packets */
	uint64_t bad;            /* records too short to rebuild: not observed */
};

/* Opens the interface's tap ring and puts xi_tap into its xi_stages slot:
 * from then on tap connections' packets are copied. worker runs them, on
 * the thread that consumes the tap, and must outlive the tap. -ENOENT: not attached, or by a build without the tap. */
int xi_tap_open(const char *ifname, struct xi_dataplane *dp, struct xi_engine_worker *worker,
		struct xi_tap **ret);
/*
 * An fd that polls readable when the kernel wakes the reader: once an
 * eighth of the ring waits (bpf/tap.bpf.c), not per record. Records that
 * wait below that are read on a timer: call xi_tap_consume at least every
 * XI_TAP_READ_MS.
 */
#define XI_TAP_READ_MS 1u
int xi_tap_fd(const struct xi_tap *tap);
/* Runs every waiting record; woken: xi_tap_fd polled readable (see
 * xi_ring_consume). How many, or a negative errno. */
int xi_tap_consume(struct xi_tap *tap, int woken);
void xi_tap_stats(const struct xi_tap *tap, struct xi_tap_stats *ret);
/*
 * The records of one ring record: itself, or each of a batch's (struct
 * xi_tap_batch, include/xicept/abi.h), in order; size: each one's. Returns
 * how many fn ran on, or -EBADMSG for a batch whose header does not match
 * its size (then fn ran on none).
 */
typedef void (*xi_tap_record_fn)(void *ctx, const struct xi_tap_record *r, uint32_t size);
int xi_tap_records(const void *data, uint32_t size, xi_tap_record_fn fn, void *ctx);
/* Empties the slot first (packets then pass unobserved, counted as
 * no_daemon), waits twice XI_TAP_FLUSH_US (how long a CPU may keep records
 * staged), reads what is left, then frees. NULL is fine. */
void xi_tap_free(struct xi_tap *tap);

#endif
