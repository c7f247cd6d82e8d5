/* SPDX-License-Identifier: MIT */
/*
 * XDP stages: the one definition of what a stage is, for built-ins and
 * plugins alike (the way struct tcp_congestion_ops serves in-tree code,
 * modules and BPF).
 *
 * An XDP-kind factory points at its stage (xi_factory.stage). The stage
 * names its program, the maps it owns with their keying (which says what a
 * connection leaves in them, what `conn del` and `conn set-chain` sweep, and
 * which attach option sizes them), and its per-stream stats schema, which
 * `stats`, `stats --json` and /metrics read: none of them names a stage's
 * fields itself.
 *
 * A built-in sits in libxicept's own BPF object and has a fixed slot of
 * xi_stages (enum xi_stage_id, abi.h). A plugin's sits in an object file
 * beside its .so (object) and takes XI_STAGE_SLOT_ANY: the first free slot
 * of each interface it is loaded on. Everything else is the same, and a
 * built-in uses nothing a plugin cannot.
 */
#ifndef XICEPT_STAGE_H
#define XICEPT_STAGE_H

#include <xicept/export.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_ssrc_stats;

#define XI_STAGE_MAPS_MAX 8
/* A plugin's slot: the first free one on each interface. */
#define XI_STAGE_SLOT_ANY UINT32_MAX

/* How a stage's map is keyed. */
enum xi_stage_key {
	XI_STAGE_KEY_NONE = 0,   /* not per connection: kept as compiled, never swept */
	XI_STAGE_KEY_CONN = 1,   /* __u32 conn_id: sized by --max-conns */
	XI_STAGE_KEY_STREAM = 2, /* struct xi_stream_key: every SSRC of a connection; --max-streams */
};

struct xi_stage_map {
	const char *name;        /* the map's name in the object, and its pin; NULL ends a list */
	enum xi_stage_key key;
};

enum xi_stat_type {
	XI_STAT_COUNTER = 0,     /* only grows: a Prometheus counter */
	XI_STAT_GAUGE = 1,       /* may go down: a gauge */
	XI_STAT_LABEL = 2,       /* a property (payload type, clock rate): shown, never a metric */
};

/* One field of a stats schema: what `stats`, `stats --json` and /metrics
 * know of it (none of them names a stage's fields). */
struct xi_stat_def {
	const char *name;        /* [a-z_]+, "packets": its --json key; NULL ends a schema */
	enum xi_stat_type type;
	const char *help;        /* one line: the /metrics HELP */
	/* The header of its column in the `stats` table ("PKTS"), or NULL: in
	 * the local-stream line (a local schema's), or in --json only. */
	const char *column;
	/* Its /metrics family ("xicept_packets_total"), labelled by interface,
	 * connection and SSRC; NULL: not a metric. */
	const char *metric;
	/* Where its column stands: lower first, stage order among equals.
	 * header-stats' take 10 to 60, a filter's drop count 70; 0 reads as
	 * 100, after those. */
	unsigned rank;
};

/* The stage's per-stream counters: one map keyed by struct xi_stream_key,
 * its value's size, and a function naming the fields of one value with
 * xi_ssrc_stats_set, each a field of schema. */
struct xi_stage_stats {
	unsigned map;            /* an index into the stage's maps */
	size_t value_size;
	bool locked;             /* the value holds a bpf_spin_lock: read with BPF_F_LOCK */
	bool percpu;             /* a per-CPU map of __u64 counters: the copies are summed */
	/* Keyed by local SSRCs (streams leaving): an SSRC with an entry here is
	 * a local stream (xi_ssrc_stats.local). */
	bool local;
	const struct xi_stat_def *schema;
	void (*fields)(const void *value, struct xi_ssrc_stats *s);
};

struct xi_stage {
	size_t sz;               /* sizeof(struct xi_stage) */
	const char *name;        /* the interceptor's name, "ssrc-filter" */
	uint32_t slot;           /* a built-in's enum xi_stage_id; plugins: XI_STAGE_SLOT_ANY */
	const char *prog;        /* the XDP program, "xi_ssrc_filter" */
	/* A plugin's object file beside its .so ("pt-filter.bpf.o"); NULL:
	 * libxicept's own object. */
	const char *object;
	/* The slot stays empty at load; its owner fills it while it runs
	 * (the to-user stage: `xicept run`). Built-ins only. */
	bool on_demand;
	const struct xi_stage_map *maps;        /* the maps it owns; NULL or ended by a NULL name */
	const struct xi_stage_stats *stats;     /* NULL: no per-stream stats */
	const struct xi_stage_stats *stats2;    /* a second per-stream map, or NULL */
	/* Its TC program for packets leaving, in the same slot of the egress
	 * stage array; NULL: it does not run on packets leaving. Built-ins only. */
	const char *egress_prog;
};

/* Appends one named field to s, for a stats schema's fields(). */
XI_API void xi_ssrc_stats_set(struct xi_ssrc_stats *s, const char *name, int64_t value);

/* ---- what a stage's interceptor uses: built-ins and plugins alike ---- */

struct xi_dataplane;
struct xi_factory;

/* For an XDP-kind factory building against an interface (ctx->dp): the fd
 * of map number `map` of f's stage there (valid while dp is), loading a
 * plugin's stage there first if it is not yet (root). -ENOENT: f has no
 * stage; other negative errnos: the load failed. */
XI_API int xi_dataplane_stage_map_fd(struct xi_dataplane *dp, const struct xi_factory *f,
				     unsigned map);
/* Deletes every entry of a per-stream map (key struct xi_stream_key) whose
 * conn_id is conn_id: what a stage's close does with XI_CLOSE_REMOVE_STATE.
 * Returns how many, or a negative errno. Inside xi_dataplane_conn_del_many
 * it only notes the map, returns 0, and the run's end sweeps every noted map
 * once. */
XI_API int xi_dataplane_delete_conn_streams(int map_fd, uint32_t conn_id);
/* Per-CPU maps whose values are n __u64 counters: the sum of every CPU's
 * copy of key, or -errno (-ENOENT: no such key); and adding to CPU 0's
 * copy, creating the entry (not atomic with XDP's adds). */
XI_API int xi_percpu_sum(int fd, const void *key, uint64_t *ret, size_t n);
XI_API int xi_percpu_add(int fd, const void *key, const uint64_t *add, size_t n);

#ifdef __cplusplus
}
#endif
#endif
