/* SPDX-License-Identifier: MIT */
/*
 * What the XDP-kind factories (user/ssrc_filter.c, user/header_stats.c) and
 * the parts of the control plane (user/dataplane*.c) share: the map fds of an
 * opened interface and the phase that tells a factory whether kernel state
 * is being created, kept or removed.
 */
#ifndef XICEPT_DATAPLANE_INTERNAL_H
#define XICEPT_DATAPLANE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include <xicept/abi.h>
#include <xicept/dataplane.h>
#include <xicept/interceptor.h>

/* Pinned maps a handle opens, by pin name. */
enum xi_dp_map {
	XI_DP_CONFIG,
	XI_DP_REASONS,
	XI_DP_FLOWS,
	XI_DP_CONNS,
	XI_DP_SSRC_FILTERS,
	XI_DP_SSRC_LISTS,
	XI_DP_SSRC_DROPS,
	XI_DP_CONN_DROPS,
	XI_DP_CLOCK_RATES,
	XI_DP_STREAM_STATS,
	XI_DP_STAGES,
	XI_DP_CONN_META,
	XI_DP_MAP__MAX,
};

/*
 * Kernel state outlives the process, so an interceptor cannot tie it to its
 * own lifetime. The phase says what its build, unbind and close do to maps:
 *   KEEP:   nothing is written or removed (a handle closing, a chain rebuilt
 *           by another process to run its userspace part);
 *   CREATE: conn_add in progress: build writes its config, and close undoes
 *           it, since a connection whose add fails must leave nothing;
 *   REMOVE: conn_del: build writes nothing (the state exists), unbind and
 *           close remove exactly the connection's entries.
 * bind_remote_stream always writes: the entries are keyed and idempotent.
 */
enum xi_dp_phase {
	XI_DP_PHASE_KEEP = 0,
	XI_DP_PHASE_CREATE,
	XI_DP_PHASE_REMOVE,
};

/* A chain this handle built, kept until conn_del or close. */
struct xi_dp_conn {
	uint32_t id;
	struct xi_chain *chain;
};

struct xi_dataplane {
	char ifname[IF_NAMESIZE];
	char dir[64];                 /* XI_PIN_ROOT/<ifname> */
	struct xi_catalog *cat;
	int map_fds[XI_DP_MAP__MAX];
	int entry_fd;
	enum xi_dp_phase phase;
	struct xi_dp_conn *conns;
	size_t n_conns, cap_conns;
};

int xi_dp_map_fd(const struct xi_dataplane *dp, enum xi_dp_map map);
static inline bool xi_dp_build_writes(const struct xi_dataplane *dp)
{
	return dp->phase == XI_DP_PHASE_CREATE;
}
static inline bool xi_dp_close_removes(const struct xi_dataplane *dp)
{
	return dp->phase != XI_DP_PHASE_KEEP;
}

/* Deletes every entry of a per-stream map (key struct xi_stream_key) whose
 * conn_id is conn_id. Returns how many, or a negative errno. */
int xi_dp_delete_conn_streams(int map_fd, uint32_t conn_id);

/* Pin path of one map or program of the interface; -ENAMETOOLONG. */
int xi_dp_pin_path(const char *ifname, const char *name, char *buf, size_t size);
/* 0 when ifname can name an interface and a pin directory; -EINVAL. */
int xi_dp_ifname_check(const char *ifname);
const char *xi_dp_map_name(enum xi_dp_map map);

/* Stage id of an XDP-kind factory's program ("xi_ssrc_filter"), or -ENOENT. */
int xi_dp_stage_id(const char *prog_name);

/* Connections (user/dataplane_conn.c): closes the chains this handle built,
 * keeping kernel state. */
void xi_dp_conns_release(struct xi_dataplane *dp);

/*
 * Readers of XDP-kind interceptors when their stage runs in userspace (after
 * a stateful element, or with no dataplane at all): each wraps the reader it
 * was bound to, classifies what that returns as xi_entry would, and hands
 * RTP and RTCP to run(), which says pass or drop. A list per interceptor, so
 * close can free the readers of streams nobody unbound.
 */
typedef enum xi_action (*xi_stage_run_fn)(void *owner, struct xi_pkt_ctx *pc);

struct xi_stage_reader {
	struct xi_stage_reader *next_reader;
	struct xi_reader next;
	void *owner;
	xi_stage_run_fn run;
	uint32_t ssrc;
	bool rtcp;                    /* the RTCP reader, not a stream's */
};

/* Adds a reader wrapping next; ret reads through it. -ENOMEM. */
int xi_stage_reader_add(struct xi_stage_reader **list, struct xi_reader next, void *owner,
			xi_stage_run_fn run, uint32_t ssrc, bool rtcp, struct xi_reader *ret);
/* Frees the reader of stream ssrc, if any. */
void xi_stage_reader_remove(struct xi_stage_reader **list, uint32_t ssrc);
void xi_stage_readers_free(struct xi_stage_reader **list);

/* Getters for tests and tools: what an XDP-kind interceptor counted, from
 * the maps when built with a dataplane, else from its twin. -EINVAL when ic
 * is not of that kind, -ENOENT when the SSRC has nothing. */
int xi_ssrc_filter_dropped(struct xi_interceptor *ic, uint32_t ssrc, uint64_t *ret_packets);
int xi_header_stats_get(struct xi_interceptor *ic, uint32_t ssrc, struct xi_stream_stats *ret);

#endif
