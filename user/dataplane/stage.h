/* SPDX-License-Identifier: MIT */
/*
 * Stage descriptors: what one XDP stage is, said once, beside its factory.
 * Each line X(ID, slot, sym) of XI_STAGES (abi.h) has a descriptor named
 * xi_stage_<sym>; the loader (fills xi_stages, pins and opens the maps),
 * the connection sweep (conn_del), `stats` and `status` walk them, so adding
 * an XDP-kind interceptor touches no code of the dataplane.
 */
#ifndef XICEPT_DATAPLANE_STAGE_H
#define XICEPT_DATAPLANE_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xicept/abi.h>
#include <xicept/dataplane.h>

#define XI_STAGE_MAPS_MAX 8

/* How a stage's map is keyed, which says what a connection leaves in it. */
enum xi_stage_key {
	XI_STAGE_KEY_NONE = 0,   /* not per connection: the sweep leaves it */
	XI_STAGE_KEY_CONN,       /* __u32 conn_id */
	XI_STAGE_KEY_STREAM,     /* struct xi_stream_key: every SSRC of the connection */
};

struct xi_stage_map {
	const char *name;        /* the map's name in the BPF object, and its pin */
	enum xi_stage_key key;
};

/* The stage's per-stream counters, read by `stats`: one map keyed by struct
 * xi_stream_key, and a function naming the fields of one value. */
struct xi_stage_stats {
	unsigned map;            /* index into the descriptor's maps */
	size_t value_size;
	bool locked;             /* the value holds a bpf_spin_lock: read with BPF_F_LOCK */
	bool percpu;             /* a per-CPU map of __u64 counters: the copies are summed */
	/* Appends the value's fields to s (xi_ssrc_stats_set). */
	void (*fields)(const void *value, struct xi_ssrc_stats *s);
};

struct xi_stage_desc {
	const char *name;                 /* the interceptor's name, "ssrc-filter" */
	uint32_t slot;                    /* enum xi_stage_id */
	const char *prog;                 /* "xi_ssrc_filter" */
	/* The slot stays empty at load; the stage's owner fills it while it
	 * runs (XI_STAGE_TO_USER: `xicept run`). */
	bool on_demand;
	/* The maps the stage owns, ended by a NULL name. */
	const struct xi_stage_map *maps;
	const struct xi_stage_stats *stats;   /* NULL: no per-stream stats */
	/* The stage's TC program for packets leaving ("xi_ssrc_filter_tc"),
	 * put into the same slot of xi_egress_stages; NULL: the stage does
	 * not run on packets leaving. */
	const char *egress_prog;
	const struct xi_stage_stats *stats2;  /* a second per-stream map, or NULL */
};

#define XI_STAGE_DESC_DECLARE_(ID, slot, sym) extern const struct xi_stage_desc xi_stage_##sym;
XI_STAGES(XI_STAGE_DESC_DECLARE_)
#undef XI_STAGE_DESC_DECLARE_

/* The descriptor of a slot, or NULL. */
const struct xi_stage_desc *xi_stage_by_slot(uint32_t slot);
/* The descriptor whose program is prog ("xi_ssrc_filter"), or NULL. */
const struct xi_stage_desc *xi_stage_by_prog(const char *prog);
/* Every descriptor in slot order: for (i = 0; (d = xi_stage_at(i)); i++). */
const struct xi_stage_desc *xi_stage_at(size_t i);

/* Appends one named field to s; stages' stats->fields use it. */
void xi_ssrc_stats_set(struct xi_ssrc_stats *s, const char *name, int64_t value);

struct bpf_object;
/* Puts every stage program that is not on demand into its slot of the
 * PROG_ARRAY prog_array_fd. -ENOENT when obj lacks a described program. */
int xi_stage_fill_slots(struct bpf_object *obj, int prog_array_fd);
/* The same for packets leaving: every egress_prog not on demand into its
 * slot of xi_egress_stages (user/dataplane/egress.c). */
int xi_stage_fill_egress_slots(struct bpf_object *obj, int prog_array_fd);

#endif
