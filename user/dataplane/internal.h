/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the control plane (user/dataplane/) and the engine
 * share: the map fds of an opened interface. Interceptors do not include
 * this: a stage's interceptor uses <xicept/stage.h>, as a plugin's does.
 */
#ifndef XICEPT_DATAPLANE_INTERNAL_H
#define XICEPT_DATAPLANE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include <xicept/abi.h>
#include <xicept/dataplane.h>
#include <xicept/interceptor.h>

#include "user/dataplane/stage.h"

/* The maps every loaded object has, by pin name; a stage's own maps come
 * from its descriptor (user/dataplane/stage.h). */
enum xi_dataplane_map {
	XI_MAP_CONFIG,
	XI_MAP_REASONS,
	XI_MAP_FLOWS4,
	XI_MAP_FLOWS6,
	XI_MAP_PORTS,
	XI_MAP_CONNS,
	XI_MAP_STAGES,
	XI_MAP_CONN_META,
	XI_MAP_LOSSES,
	XI_MAP_CHAIN_RUNS,
	XI_MAP_CHAIN_TALLY,
	XI_MAP__MAX,
};

/*
 * Kernel state outlives the process, so an interceptor cannot tie it to its
 * own lifetime. What a chain does to the maps is said where it happens: a
 * build with XI_BUILD_WRITE_STATE writes the elements' configuration (conn
 * add, set-chain's new chain), a close with XI_CLOSE_REMOVE_STATE removes
 * the connection's entries (conn del, an add undone); a handle closing, or a
 * chain rebuilt to run its userspace part, does neither.
 * bind_remote_stream always writes: the entries are keyed and idempotent.
 */

/* A chain this handle built, kept until conn_del or close. */
struct xi_dataplane_conn {
	uint32_t id;
	struct xi_chain *chain;
};

/*
 * The control plane's handle on one interface's data plane: the pinned maps
 * and entry program it opened, the catalog its chains come from, and the
 * chains it built. Closing it lets go of these; the kernel state stays.
 */
struct xi_dataplane {
	char ifname[IF_NAMESIZE];
	char dir[64];                 /* XI_PIN_ROOT/<ifname> */
	struct xi_catalog *cat;
	int map_fds[XI_MAP__MAX];
	int stage_fds[XI_STAGES_SLOTS][XI_STAGE_MAPS_MAX];   /* by slot, by descriptor map */
	int entry_fd;
	uint32_t max_conns, max_flows, max_streams;   /* the table sizes of the attach */
	uint32_t id_hint;             /* the id to try first: the one after the last taken */
	struct xi_dataplane_conn *conns;
	size_t n_conns, cap_conns;
	struct xi_dp_plugins *plugins;   /* plugin stages on it (plugin_stage.c) */
};

int xi_dataplane_map_fd(const struct xi_dataplane *dp, enum xi_dataplane_map map);
/* The fd of map `map` (an index into the descriptor's maps) of the stage in
 * slot; -EINVAL when there is none. */
int xi_dataplane_stage_fd(const struct xi_dataplane *dp, uint32_t slot, unsigned map);
/* xi_percpu_sum, xi_percpu_add and xi_dataplane_delete_conn_streams are
 * public, for every stage's interceptor: <xicept/stage.h>. */

/* Pins, names and fds (user/dataplane/pins.c, the folder's floor). */
/* Pin path of one map or program of the interface; -ENAMETOOLONG. */
int xi_dataplane_pin_path(const char *ifname, const char *name, char *buf, size_t size);
/* An fd of the pinned map or program name of the interface, or -errno
 * (-ENOENT: no such pin). */
int xi_dataplane_pin_get(const char *ifname, const char *name);
/* 0 when ifname can name an interface and a pin directory; -EINVAL. */
int xi_dataplane_ifname_check(const char *ifname);
const char *xi_dataplane_map_name(enum xi_dataplane_map map);
/* Mounts bpffs on /sys/fs/bpf when it is not one: pins live only there. */
int xi_bpffs_ensure(void);

/* Connections (user/dataplane/conn.c): closes the chains this handle built,
 * keeping kernel state. */
void xi_dataplane_conns_release(struct xi_dataplane *dp);
/* The XDP part of chain as stage ids, into the bank fields of val. */
int xi_dataplane_conn_value_make(struct xi_dataplane *dp, struct xi_chain *chain, struct xi_conn *val,
				 struct xi_err *err);
/* -EINVAL, err naming it, when an element of chain cannot run on an SRTP
 * connection (XI_FACTORY_NO_SRTP). */
int xi_dataplane_chain_srtp_check(const struct xi_chain *chain, struct xi_err *err);
/* Chain swaps (user/dataplane/swap.c): the bank packets read now. */
const struct xi_conn_bank *xi_conn_bank_active(const struct xi_conn *c, struct xi_conn_bank *tmp);
/* Writes the connection's xi_chain_tally slot {version, zeros} on every CPU
 * (version 0: the slot of no connection). */
int xi_dataplane_chain_tally_reset(struct xi_dataplane *dp, uint32_t conn_id, uint32_t version);

/* Deletes the connection's xi_chain_runs entries of versions below
 * below (UINT32_MAX: all). */
int xi_dataplane_chain_runs_delete(struct xi_dataplane *dp, uint32_t conn_id, uint32_t below);

#endif
