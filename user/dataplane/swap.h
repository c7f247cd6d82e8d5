/* SPDX-License-Identifier: MIT */
/*
 * Live chain changes (user/dataplane/swap.c) and the per-version counts that
 * prove them.
 */
#ifndef XICEPT_DATAPLANE_SWAP_H
#define XICEPT_DATAPLANE_SWAP_H

#include <stddef.h>
#include <stdint.h>

#include <xicept/dataplane.h>
#include <xicept/error.h>

/* Replaces connection id's chain by text while its packets flow: each packet
 * runs the whole old chain or the whole new one, none is lost. Checked in
 * full first (unknown interceptors get a suggestion; -EBUSY when an XDP
 * stage in both chains would change its configuration); nothing changes on
 * failure. -ENOENT: no such connection. *ret_version: the new version. */
int xi_dataplane_conn_set_chain(struct xi_dataplane *dp, uint32_t id, const char *text,
				uint32_t *ret_version, struct xi_err *err);
/* The chain version packets of connection id read now (1 after conn add). */
int xi_dataplane_conn_version(struct xi_dataplane *dp, uint32_t id, uint32_t *ret);

/* Packets that ended their XDP chain, by connection, chain version and the
 * stages they ran (bit = stage slot). */
struct xi_chain_run {
	uint32_t conn_id;
	uint32_t version;
	uint32_t stages_mask;
	uint64_t packets;
};

/* Of one connection, or XI_CONN_ANY; free *ret with free(). */
int xi_dataplane_chain_runs(struct xi_dataplane *dp, uint32_t conn_id,
			    struct xi_chain_run **ret, size_t *ret_n);
/* Waits for an RCU grace period: every XDP program that was running when it
 * was called has returned. */
int xi_rcu_grace(void);

#endif
