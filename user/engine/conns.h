/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP engine's connections: the chains of the pinned connection
 * table, rebuilt in this process and bound from the position the XDP part
 * stopped at, and the per-packet work on what XDP redirected. Sockets,
 * rings and delivery are user/engine/xsk.c's; nothing here does I/O except
 * through the callbacks, so the whole path runs in unit tests.
 */
#ifndef XICEPT_ENGINE_CONN_H
#define XICEPT_ENGINE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <xicept/abi.h>
#include <xicept/catalog.h>
#include <xicept/dataplane.h>

struct xi_engine_conns;
/* What one thread needs to run packets: scratch buffers and its counters. */
struct xi_engine_worker;

struct xi_engine_conns_cbs {
	/* Sends one Ethernet frame (emitted RTCP) out of the rx queue's socket. */
	int (*emit)(void *user, uint32_t queue, const uint8_t *frame, size_t len);
	/* One line, no newline. May be NULL. */
	void (*log)(void *user, const char *msg);
	void *user;
};

struct xi_engine_conns_stats {
	uint64_t packets;        /* frames handed to xi_engine_conns_process */
	uint64_t delivered;      /* verdict deliver, the datagram made */
	uint64_t modified;       /* ... with a payload an interceptor changed */
	uint64_t csum_completed; /* ... with an offloaded partial UDP checksum finished */
	uint64_t dropped;        /* an interceptor dropped it (read returned 0) */
	/* Losses (XI_LOSS_CHAIN_ERROR, XI_LOSS_BAD_META): packets = delivered +
	 * dropped + errors + bad_meta. */
	uint64_t errors;         /* a chain's read failed, or no datagram could be made of it: dropped */
	uint64_t bad_meta;       /* no or inconsistent xi_xsk_meta: dropped, nothing to go by */
	uint64_t unknown_conn;   /* no chain for the id or position: delivered as is (counted there) */
	uint64_t observed;       /* copies handed to xi_engine_conns_observe */
	uint64_t observe_errors; /* ... that the chain could not run on (not losses) */
	uint64_t emitted;        /* RTCP frames the chains sent */
	uint64_t emit_failed;
	uint64_t rtp_resent;     /* RTP frames the chains sent again (nack-responder) */
	uint64_t rtp_resend_failed;
	uint64_t poll_errors;
	uint64_t egress_observed;   /* copies of packets leaving (TC egress, the tap) */
	uint64_t egress_undeclared; /* ... of an SSRC no local stream declares: not written */
	size_t conns;
	/* Of what was emitted: RTCP packets of each kind, counted in the
	 * compounds (RFC 4585 Generic NACK: RTPFB FMT 1; RFC 3550 RR). */
	uint64_t nacks_sent;
	uint64_t rrs_sent;
};

/* mac: the interface's address, the source of emitted frames. dp and cat
 * must outlive the table. */
int xi_engine_conns_new(struct xi_dataplane *dp, struct xi_catalog *cat, const uint8_t mac[6],
		  const struct xi_engine_conns_cbs *cbs, struct xi_engine_conns **ret);
/* Closes every chain; kernel state stays (the handle's phase is KEEP). */
void xi_engine_conns_free(struct xi_engine_conns *t);

/* A worker for one thread, owned by the table (freed with it). */
int xi_engine_worker_new(struct xi_engine_conns *t, struct xi_engine_worker **ret);

/* Follows the pinned connection table: builds chains of new connections,
 * rebuilds changed ones, closes removed ones. Returns how many changed, or
 * a negative errno when the table could not be read. */
int xi_engine_conns_sync(struct xi_engine_conns *t);

/*
 * Runs one redirected frame (frame[0..len), with its metadata) through its
 * connection's chain from the metadata's resume position, on the calling
 * thread's worker. Returns 1 with the IP datagram to deliver in *ret_l3 /
 * *ret_len (pointing into frame when the chain left it unchanged, else into
 * the worker's own buffer, valid until its next call), or 0 when the chain
 * dropped it. Any number of threads, each with its own worker, may call it
 * at once, and xi_engine_conns_sync / _poll / _stats too.
 */
int xi_engine_conns_process(struct xi_engine_worker *w, const struct xi_xsk_meta *meta, uint32_t queue,
		      uint8_t *frame, size_t len, const uint8_t **ret_l3, size_t *ret_len);

/*
 * The same chain run on a copy of a packet that went on without us (the tap:
 * XDP passed it), of which caplen bytes were captured (the rest of frame
 * holds zeros; XI_ATTR_FRAME_CAPLEN says so): nothing is delivered, and what goes wrong is counted in
 * observed / observe_errors, not in delivered, errors or bad_meta, which are
 * about packets handed over through AF_XDP (the engine adds errors and
 * bad_meta to xi_losses). 0, or the negative errno of the failure.
 */
int xi_engine_conns_observe(struct xi_engine_worker *w, const struct xi_xsk_meta *meta,
			    uint32_t queue, uint8_t *frame, size_t len, size_t caplen);

/* Timers of every chain (NACK, reports), with CLOCK_MONOTONIC now. */
void xi_engine_conns_poll(struct xi_engine_conns *t, uint64_t now_ns);

/* A copy of a packet that left (TC egress): written to the writer of its
 * local stream, whose innermost writer sends nothing (the packet is out
 * already). meta->now_ns is the send time. On the calling thread's worker. */
int xi_engine_conns_observe_egress(struct xi_engine_worker *w, const struct xi_xsk_meta *m,
				   uint8_t *frame, size_t len);
/* Summed over the workers. */
void xi_engine_conns_stats(struct xi_engine_conns *t, struct xi_engine_conns_stats *ret);

#endif
