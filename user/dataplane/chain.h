/* SPDX-License-Identifier: MIT */
/*
 * A connection's chain as the control plane makes it (user/dataplane/chain.c):
 * built from its text against the interface, its streams bound, and the
 * kernel entries of its stages swept. conn add, conn del and set-chain all
 * go through here, so they cannot drift apart.
 */
#ifndef XICEPT_DATAPLANE_CHAIN_H
#define XICEPT_DATAPLANE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <xicept/abi.h>
#include <xicept/error.h>
#include <xicept/registry.h>

struct xi_dataplane;

/* A chain text parsed once, with its elements looked up and configured:
 * what set-chain checks, compares and builds from. */
struct xi_chain_plan {
	struct xi_chain_desc *desc;
	struct xi_chain_builder *builder;
};

int xi_chain_plan_make(struct xi_dataplane *dp, const char *text, struct xi_chain_plan *ret,
		       struct xi_err *err);
void xi_chain_plan_free(struct xi_chain_plan *plan);
/* Builds plan's chain for connection id with build flags (XI_BUILD_*): with
 * XI_BUILD_WRITE_STATE each element writes its configuration. */
int xi_chain_plan_build(struct xi_dataplane *dp, uint32_t id, const struct xi_chain_plan *plan,
			unsigned flags, struct xi_chain **ret, struct xi_err *err);
/* Both in one, for a text built once (conn add, conn del). */
int xi_dataplane_chain_build(struct xi_dataplane *dp, uint32_t id, const char *text,
			     unsigned flags, struct xi_chain **ret, struct xi_err *err);
/* Binds every stream of meta to chain, in order; on failure unbinds the ones
 * bound, and err names the stream. */
int xi_dataplane_streams_bind(struct xi_chain *chain, const struct xi_conn_meta *meta,
			      struct xi_err *err);
/* Unbinds the first n streams of meta, last first. */
void xi_dataplane_streams_unbind(struct xi_chain *chain, const struct xi_conn_meta *meta,
				 size_t n);

/* Every slot. */
#define XI_SLOTS_ALL UINT32_MAX
/* Deletes connection id's entries from the maps of every stage of the
 * interface (built-in or plugin) whose slot is in mask (bit per slot), by
 * each map's keying: whether or not the stages' closes removed them. */
void xi_dataplane_stages_sweep(struct xi_dataplane *dp, uint32_t id, uint32_t mask);
/* Connection id's entry of a per-connection map (XI_STAGE_KEY_CONN) gone:
 * a hash's deleted, an array's slot zeroed. */
int xi_dataplane_conn_slot_clear(int fd, uint32_t id);

#endif
