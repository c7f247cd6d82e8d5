/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP userspace engine behind `xicept run IFNAME`: one AF_XDP socket
 * per receive queue of an attached interface and one thread per queue, the
 * chains of its stateful connections (user/engine/conns.c), batched
 * delivery into the kernel stack (user/engine/deliver.h) through AF_XDP TX
 * into a veth pair of its own (user/engine/veth.h) or raw sockets, and
 * emitted RTCP through the sockets' TX rings.
 *
 * While it runs, the interface's xi_stages slot XI_STAGE_TO_USER holds
 * xi_to_user and xi_xsks holds its sockets; the end of xi_engine_run() (or
 * xi_engine_free()) empties both, so the no_daemon policy applies again. The connections and everything
 * else in the pins stay as they were.
 */
#ifndef XICEPT_XSK_ENGINE_H
#define XICEPT_XSK_ENGINE_H

#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "user/engine/conns.h"
#include "user/engine/deliver.h"

struct xi_engine;

/* How the datagrams chains let through go back into the stack. */
enum xi_engine_deliver {
	XI_ENGINE_DELIVER_AUTO,   /* veth; raw sockets where the veth cannot be made */
	XI_ENGINE_DELIVER_VETH,   /* veth or fail */
	XI_ENGINE_DELIVER_RAW,    /* raw sockets */
};

struct xi_engine_opts {
	size_t sz;                       /* sizeof(struct xi_engine_opts) */
	/* One line, no newline; NULL: silent. The library never prints. */
	void (*log)(void *user, const char *msg);
	void *log_user;
	unsigned sync_ms;                /* connection table re-read; 0: 250 */
	unsigned poll_ms;                /* longest wait between timer runs; 0: 5 (thread 0:
					  * at most XI_TAP_READ_MS, the tap) */
	unsigned threads;                /* engine threads; 0 (or more than the
					  * queues): one per receive queue */
	/* With set_nice, each packet thread (thread 0, the caller's, too)
	 * runs at this nice value (setpriority on its tid): on a core shared
	 * with the generator of the traffic or the receiving application, a
	 * daemon at the default nice is preempted in the middle of its batches.
	 * A failure (no CAP_SYS_NICE) is logged and the thread runs on. */
	bool set_nice;
	int nice;
	/* The catalog chains are built from (plugins loaded, frozen), which
	 * must outlive the engine; NULL: a copy of the global list. */
	struct xi_catalog *cat;
	enum xi_engine_deliver deliver;
};

struct xi_engine_stats {
	struct xi_engine_conns_stats chains;
	uint64_t rx_frames;              /* frames read from the sockets or the tap */
	uint64_t tap_unreadable;         /* tap records too short to rebuild: not observed */
	uint64_t deliver_errors;         /* datagrams the stack refused (deliver_failed) */
	uint64_t tx_full;                /* emitted frames with no TX frame free */
	uint64_t tx_errors;              /* emitted frames the TX kick failed */
	/* What this engine added to xi_losses (enum xi_loss), so far. */
	uint64_t losses[XI_LOSS__MAX];
	unsigned queues;
	unsigned threads;
	uint64_t queue_frames[XI_XSKS_MAX];  /* of rx_frames, read from each queue's socket */
	enum xi_engine_deliver deliver;  /* in use: XI_ENGINE_DELIVER_VETH or _RAW */
	char veth[IF_NAMESIZE];          /* the veth it transmits into; "" for raw */
	/* Summed over the threads; deliver_errors is what of it failed. */
	struct xi_deliver_stats delivery;
};

/* -ENOENT: not attached, or attached by a build without xi_to_user;
 * -EBUSY: another engine serves a queue; -EPERM. With opts.deliver
 * XI_ENGINE_DELIVER_VETH, what making the veth or its sockets failed with
 * (-EEXIST: a link of its name is not the daemon's); with AUTO that is a
 * line to the log and delivery through raw sockets. */
int xi_engine_new(const char *ifname, const struct xi_engine_opts *opts,
		  struct xi_engine **ret);
/* Runs until xi_engine_stop(); returns 0, or a negative errno when polling
 * the sockets failed. Every sync_ms, and at the end, what was lost goes into
 * xi_losses, and a line to the log when loss starts, at most one a second
 * while it lasts, and one when it stops. At the end the slot is emptied and
 * what XDP had handed over is run through the chains first: a run is not
 * restarted. */
int xi_engine_run(struct xi_engine *e);
/* Async-signal-safe: the loop ends within poll_ms. */
void xi_engine_stop(struct xi_engine *e);
void xi_engine_stats(const struct xi_engine *e, struct xi_engine_stats *ret);
void xi_engine_free(struct xi_engine *e);   /* NULL is fine */

#endif
