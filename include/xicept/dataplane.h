/* SPDX-License-Identifier: MIT */
/*
 * The control plane of one network interface: its XDP programs, its maps
 * pinned under /sys/fs/bpf/xicept/<ifname>/, and its connections.
 *
 * Kernel state outlives the process: xi_dataplane_close() only lets go of the
 * handle, so a CLI can attach, add a connection and exit while traffic keeps
 * flowing, and any later process re-opens the same state from the pins with
 * xi_dataplane_open(). Only conn_del and detach remove state.
 */
#ifndef XICEPT_DATAPLANE_H
#define XICEPT_DATAPLANE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <xicept/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_catalog;
struct xi_chain;
struct xi_dataplane;

#define XI_PIN_ROOT          "/sys/fs/bpf/xicept"
#define XI_CHAIN_TEXT_MAX    512
#define XI_CONN_MAX_STREAMS  16
#define XI_CONN_ANY          UINT32_MAX

enum xi_xdp_mode {
	XI_XDP_NATIVE = 0,
	XI_XDP_SKB = 1,
};

enum xi_policy {
	XI_POLICY_PASS = 0,
	XI_POLICY_DROP = 1,
};

struct xi_attach_opts {
	size_t sz;                    /* sizeof(struct xi_attach_opts) */
	enum xi_xdp_mode mode;
	enum xi_policy unknown_flow;  /* packets of no known connection */
	enum xi_policy non_rtp;       /* STUN, DTLS, other on a known connection */
	enum xi_policy no_daemon;     /* stateful chains while `xicept run` is absent */
};

struct xi_endpoint {
	int family;                   /* AF_INET, AF_INET6, or 0 for "any" */
	uint8_t addr[16];             /* IPv4 in the first 4 bytes */
	uint16_t port;                /* host byte order; 0 only for "any" */
};

struct xi_stream_spec {
	uint32_t ssrc;
	uint8_t payload_type;
	uint32_t clock_rate;          /* Hz */
};

struct xi_conn_spec {
	struct xi_endpoint local;     /* required */
	struct xi_endpoint remote;    /* family 0: any peer (wildcard) */
	char chain[XI_CHAIN_TEXT_MAX];
	size_t n_streams;
	struct xi_stream_spec streams[XI_CONN_MAX_STREAMS];
};

struct xi_dataplane_info {
	char ifname[16];
	int ifindex;
	enum xi_xdp_mode mode;
	enum xi_policy unknown_flow;
	enum xi_policy non_rtp;
	enum xi_policy no_daemon;
	uint32_t entry_prog_id;       /* kernel program id of xi_entry */
	size_t n_stage_progs;
	uint32_t stage_prog_ids[16];  /* by stage id; 0 where the slot is empty */
	size_t n_conns;
};

/* Per (connection, SSRC): header-stats and ssrc-filter counters together. */
struct xi_ssrc_stats {
	uint32_t conn_id;
	uint32_t ssrc;
	uint64_t packets;             /* RTP + RTCP seen by header-stats */
	uint64_t bytes;               /* UDP payload bytes: header + payload */
	uint64_t header_bytes;
	uint64_t payload_bytes;
	uint64_t rtp_packets;
	uint64_t rtcp_packets;
	uint64_t markers;
	uint8_t payload_type;         /* last seen */
	uint32_t clock_rate;
	uint64_t expected;            /* RFC 3550 A.3 */
	int64_t lost;                 /* cumulative, may be negative (duplicates) */
	uint32_t ext_highest_seq;
	uint32_t jitter;              /* RTP timestamp units */
	uint64_t dropped;             /* by ssrc-filter */
	uint64_t dropped_bytes;
	uint64_t first_ns, last_ns;   /* CLOCK_MONOTONIC arrival times */
};

/* Loads the programs, pins everything under XI_PIN_ROOT/<ifname>/ and attaches.
 * Mounts bpffs when /sys/fs/bpf is not one. opts may be NULL (native, pass).
 * -ENODEV: no such interface; -EEXIST: already attached; -EPERM: not root.
 * Nothing is left behind on failure. cat is used to build chains. */
int xi_dataplane_attach(const char *ifname, const struct xi_attach_opts *opts,
			struct xi_catalog *cat, struct xi_dataplane **ret);
/* Re-opens an attached interface from its pins. -ENOENT when not attached. */
int xi_dataplane_open(const char *ifname, struct xi_catalog *cat,
		      struct xi_dataplane **ret);
/* Removes the XDP programs, every connection and every pin. -ENOENT when not attached. */
int xi_dataplane_detach(const char *ifname);
/* Lets go of the handle; kernel state stays. NULL is fine. */
void xi_dataplane_close(struct xi_dataplane *dp);
/* Names of attached interfaces (directories under XI_PIN_ROOT), sorted. */
int xi_dataplane_list(char ***ret_names, size_t *ret_n);

const char *xi_dataplane_ifname(const struct xi_dataplane *dp);
int xi_dataplane_info(struct xi_dataplane *dp, struct xi_dataplane_info *ret);

/* "10.0.0.1:5004", "[fd00::1]:5004". -EINVAL with a reason in err. */
int xi_endpoint_parse(const char *text, struct xi_endpoint *ret, struct xi_err *err);
/* "10.0.0.1:5004", "[fd00::1]:5004", or "*" for any; snprintf-like return. */
int xi_endpoint_format(const struct xi_endpoint *ep, char *buf, size_t size);
/* "SSRC:PT:CLOCKRATE", SSRC decimal or 0x hex. */
int xi_stream_spec_parse(const char *text, struct xi_stream_spec *ret, struct xi_err *err);

/* Builds the chain (through the catalog, so unknown names get a suggestion),
 * writes its configuration, streams and flow into the maps, and stores the
 * spec in the pins so other processes can rebuild the chain. All or nothing. */
int xi_dataplane_conn_add(struct xi_dataplane *dp, const struct xi_conn_spec *spec,
			  uint32_t *ret_id, struct xi_err *err);
/* Removes exactly the connection's entries. -ENOENT for an unknown id. */
int xi_dataplane_conn_del(struct xi_dataplane *dp, uint32_t id, struct xi_err *err);
int xi_dataplane_conn_get(struct xi_dataplane *dp, uint32_t id, struct xi_conn_spec *ret);
/* Sorted ids; free *ret_ids with free(). */
int xi_dataplane_conn_ids(struct xi_dataplane *dp, uint32_t **ret_ids, size_t *ret_n);

/* Stats of one connection, or XI_CONN_ANY for all, sorted by (conn, ssrc);
 * free *ret with free(). */
int xi_dataplane_ssrc_stats(struct xi_dataplane *dp, uint32_t conn_id,
			    struct xi_ssrc_stats **ret, size_t *ret_n);
/* Per-interface counters by reason, summed over CPUs. counts has room for
 * xi_reason_count() entries. */
int xi_dataplane_reasons(struct xi_dataplane *dp, uint64_t *counts, size_t n);
size_t xi_reason_count(void);
const char *xi_reason_name(size_t reason);   /* "unknown_flow", ...; NULL past the end */

#ifdef __cplusplus
}
#endif
#endif
