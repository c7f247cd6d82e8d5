/* SPDX-License-Identifier: MIT */
/*
 * The control plane of one network interface: its XDP programs, its maps
 * pinned under /sys/fs/bpf/xicept/<ifname>/, and its connections. struct
 * xi_dataplane is the control plane's handle on that data plane; every
 * function on it is xi_dataplane_*.
 *
 * Kernel state outlives the process: xi_dataplane_close() only lets go of the
 * handle, so a CLI can attach, add a connection and exit while traffic keeps
 * flowing, and any later process re-opens the same state from the pins with
 * xi_dataplane_open(). Only conn_del and detach remove state.
 */
#ifndef XICEPT_DATAPLANE_H
#define XICEPT_DATAPLANE_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <xicept/error.h>
#include <xicept/srtp.h>

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
	/* Table sizes, fixed at attach; 0 takes the XI_DEFAULT_* below. */
	uint32_t max_conns;           /* connections */
	uint32_t max_flows;           /* flows: one per connection */
	uint32_t max_streams;         /* (connection, SSRC) entries of each per-stream map */
};

/* Sized for a large SFU host: tens of thousands of connections with a few
 * SSRCs each (audio, simulcast video, RTX). */
#define XI_DEFAULT_MAX_CONNS   65536u
#define XI_DEFAULT_MAX_FLOWS   65536u
#define XI_DEFAULT_MAX_STREAMS 262144u
/* The most any table may be given; attach takes 1..XI_TABLE_MAX. */
#define XI_TABLE_MAX           (1u << 24)

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

/* A stream the application sends from the connection's local endpoint
 * (pion's BindLocalStream), with its RFC 4588 retransmission stream. */
struct xi_local_stream_spec {
	uint32_t ssrc;
	uint8_t payload_type;
	uint32_t clock_rate;          /* Hz */
	bool has_rtx;
	uint32_t rtx_ssrc;
	uint8_t rtx_payload_type;
};

struct xi_conn_spec {
	struct xi_endpoint local;     /* required */
	struct xi_endpoint remote;    /* family 0: any peer (wildcard) */
	char chain[XI_CHAIN_TEXT_MAX];
	size_t n_streams;
	struct xi_stream_spec streams[XI_CONN_MAX_STREAMS];
	size_t n_local_streams;
	struct xi_local_stream_spec local_streams[XI_CONN_MAX_STREAMS];
	/* SRTP (<xicept/srtp.h>): with has_srtp, the connection's keys, which
	 * conn_add keeps in a file readable by root alone, never in a map.
	 * conn_get leaves them out (has_srtp false) and says the profiles in
	 * srtp_in / srtp_out (0: plain RTP); xi_dataplane_conn_srtp_keys reads
	 * the keys. Wipe a spec that held keys (xi_srtp_keys_wipe). */
	bool has_srtp;
	struct xi_srtp_keys srtp;
	unsigned srtp_in, srtp_out;   /* enum xi_srtp_profile */
};

struct xi_dataplane_info {
	char ifname[16];
	int ifindex;
	enum xi_xdp_mode mode;
	enum xi_policy unknown_flow;
	enum xi_policy non_rtp;
	enum xi_policy no_daemon;
	uint32_t entry_prog_id;       /* kernel program id of xi_entry */
	size_t n_stage_progs;         /* slots holding a program */
	uint32_t stage_prog_ids[16];  /* by stage id; 0 where the slot is empty */
	/* by stage id: the interceptor a slot is described for ("ssrc-filter",
	 * "to-user"), NULL for an undescribed slot */
	const char *stage_names[16];
	size_t n_conns;
	uint32_t max_conns;           /* the table sizes, read back from the maps */
	uint32_t max_flows;
	uint32_t max_streams;
};

/*
 * Per (connection, SSRC): the counters of every XDP stage that keeps some
 * (header-stats: packets, bytes, header_bytes, payload_bytes, rtp_packets,
 * rtcp_packets, markers, payload_type, clock_rate, expected, lost,
 * ext_highest_seq, jitter, first_ns, last_ns; ssrc-filter: dropped,
 * dropped_bytes), by name. A stage with nothing for the SSRC gives zeros, so
 * every entry has the same fields in the same order. lost (RFC 3550 A.3) may
 * be negative; arrival times are CLOCK_MONOTONIC ns.
 */
#define XI_SSRC_STATS_FIELDS_MAX 48

struct xi_stat_field {
	const char *stage;            /* "header-stats" */
	const char *name;             /* "packets" */
	int64_t value;
};

struct xi_ssrc_stats {
	uint32_t conn_id;
	uint32_t ssrc;
	bool local;                   /* a local stream's: a local schema has it */
	size_t n_fields;
	struct xi_stat_field fields[XI_SSRC_STATS_FIELDS_MAX];
};

struct xi_stat_def;
/* The fields of the stats schemas of dp's stages (built-ins, then the plugin
 * stages loaded there), in that order, each name once (the first stage's),
 * into defs (at most cap); local[i] (local may be NULL) says whether field
 * i's schema is a local one. Returns how many. What `stats` and /metrics
 * print comes from here. */
#define XI_STAT_DEFS_MAX XI_SSRC_STATS_FIELDS_MAX
XI_API size_t xi_dataplane_stat_defs(const struct xi_dataplane *dp, const struct xi_stat_def **defs,
				     bool *local, size_t cap);

/* The field called name: 0 and its value, or -ENOENT. */
XI_API int xi_ssrc_stats_find(const struct xi_ssrc_stats *s, const char *name, int64_t *ret);
/* The field called name, 0 when there is none. */
XI_API int64_t xi_ssrc_stats_get(const struct xi_ssrc_stats *s, const char *name);

/* Loads the programs, pins everything under XI_PIN_ROOT/<ifname>/ and attaches.
 * Mounts bpffs when /sys/fs/bpf is not one. opts may be NULL (native, pass,
 * default sizes). -ENODEV: no such interface; -EEXIST: already attached;
 * -EPERM: not root; -EINVAL: a table size above XI_TABLE_MAX.
 * Nothing is left behind on failure. cat is used to build chains. */
XI_API int xi_dataplane_attach(const char *ifname, const struct xi_attach_opts *opts,
			struct xi_catalog *cat, struct xi_dataplane **ret);
/* Re-opens an attached interface from its pins. -ENOENT when not attached. */
XI_API int xi_dataplane_open(const char *ifname, struct xi_catalog *cat,
		      struct xi_dataplane **ret);
/* Removes the XDP programs, every connection and every pin. -ENOENT when not attached. */
XI_API int xi_dataplane_detach(const char *ifname);
/* Lets go of the handle; kernel state stays. NULL is fine. */
XI_API void xi_dataplane_close(struct xi_dataplane *dp);
/* Names of attached interfaces (directories under XI_PIN_ROOT), sorted. */
XI_API int xi_dataplane_list(char ***ret_names, size_t *ret_n);

XI_API const char *xi_dataplane_ifname(const struct xi_dataplane *dp);
XI_API int xi_dataplane_info(struct xi_dataplane *dp, struct xi_dataplane_info *ret);

/* "10.0.0.1:5004", "[fd00::1]:5004". -EINVAL with a reason in err. */
XI_API int xi_endpoint_parse(const char *text, struct xi_endpoint *ret, struct xi_err *err);
/* "10.0.0.1:5004", "[fd00::1]:5004", or "*" for any; snprintf-like return. */
XI_API int xi_endpoint_format(const struct xi_endpoint *ep, char *buf, size_t size);
/* "SSRC:PT:CLOCKRATE", SSRC decimal or 0x hex. */
XI_API int xi_stream_spec_parse(const char *text, struct xi_stream_spec *ret, struct xi_err *err);

/* "SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]". */
XI_API int xi_local_stream_spec_parse(const char *text, struct xi_local_stream_spec *ret,
				      struct xi_err *err);
/* "SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]"; snprintf-like return. */
XI_API int xi_local_stream_spec_format(const struct xi_local_stream_spec *s, char *buf,
				       size_t size);

/* Builds the chain (through the catalog, so unknown names get a suggestion),
 * writes its configuration, streams and flow into the maps, and stores the
 * spec in the pins so other processes can rebuild the chain. All or nothing.
 * -ENOSPC when a table is full (err names the attach option that sizes it). */
XI_API int xi_dataplane_conn_add(struct xi_dataplane *dp, const struct xi_conn_spec *spec,
			  uint32_t *ret_id, struct xi_err *err);
/* Removes exactly the connection's entries. -ENOENT for an unknown id. */
XI_API int xi_dataplane_conn_del(struct xi_dataplane *dp, uint32_t id, struct xi_err *err);
/* conn_del of each id in order, with one walk of each per-stream map for
 * all of them instead of one per connection: what removing many takes.
 * Stops at the first failure; *ret_done (may be NULL) counts the ids
 * deleted before it. */
XI_API int xi_dataplane_conn_del_many(struct xi_dataplane *dp, const uint32_t *ids, size_t n,
				      size_t *ret_done, struct xi_err *err);
/* How a connection's packets travel: XDP alone; XDP, then a copy through the
 * tap to `xicept run` for observers (media never waits); or XDP, then the
 * packet itself through AF_XDP to `xicept run` (interceptors that may change
 * or drop it). */
enum xi_conn_path {
	XI_PATH_XDP = 0,
	XI_PATH_TAP = 1,
	XI_PATH_AFXDP = 2,
};

XI_API int xi_dataplane_conn_path(struct xi_dataplane *dp, uint32_t id, enum xi_conn_path *ret);
XI_API const char *xi_conn_path_name(enum xi_conn_path path);   /* "xdp", "tap", "afxdp" */
XI_API int xi_dataplane_conn_get(struct xi_dataplane *dp, uint32_t id, struct xi_conn_spec *ret);
/* The SRTP keys conn_add kept for connection id (root only): what an
 * engine needs to run its chain. -ENOENT: none kept (plain RTP, or erased). */
XI_API int xi_dataplane_conn_srtp_keys(struct xi_dataplane *dp, uint32_t id,
				       struct xi_srtp_keys *ret);
/* The connection's default RTP clock rate (Hz), for SSRCs bound without one:
 * what its packets' xi_pkt_ctx.default_clock_rate says. -ENOENT: no such
 * connection. */
XI_API int xi_dataplane_conn_set_clock_rate(struct xi_dataplane *dp, uint32_t id, uint32_t rate);
/* What the remote's receiver reports say of local stream (id, ssrc), in the
 * pinned map xi_remote_reports (struct xi_remote_report, abi.h), where
 * `stats` in any process reads it: the interceptors that read the reports
 * (sender-report) or answer NACKs (nack-responder) write it. Adds the
 * counters of add (reports, rtt_reports, nack_*) and, with set_report,
 * replaces the report fields (fraction, lost, jitter, highest) by add's,
 * with set_rtt rtt_q16. 0 without dp; -ENOSPC: the map is full. */
struct xi_remote_report;
XI_API int xi_dataplane_remote_report_merge(struct xi_dataplane *dp, uint32_t id, uint32_t ssrc,
					    const struct xi_remote_report *add, bool set_report,
					    bool set_rtt);
/* Sorted ids; free *ret_ids with free(). */
XI_API int xi_dataplane_conn_ids(struct xi_dataplane *dp, uint32_t **ret_ids, size_t *ret_n);

/* Stats of one connection, or XI_CONN_ANY for all, sorted by (conn, ssrc);
 * free *ret with free(). */
XI_API int xi_dataplane_ssrc_stats(struct xi_dataplane *dp, uint32_t conn_id,
			    struct xi_ssrc_stats **ret, size_t *ret_n);
/* Per-interface counters by reason, summed over CPUs. counts has room for
 * xi_reason_count() entries. */
XI_API int xi_dataplane_reasons(struct xi_dataplane *dp, uint64_t *counts, size_t n);
XI_API size_t xi_reason_count(void);
XI_API const char *xi_reason_name(size_t reason);   /* "unknown_flow", ...; NULL past the end */
/* Packets XDP handed to the AF_XDP path (`xicept run`) that did not reach
 * where they were going, by reason (enum xi_loss in abi.h): what the engine
 * learned from its sockets' XDP_STATISTICS and its own failures, totals
 * since the attach. counts has room for xi_loss_count() entries. */
XI_API int xi_dataplane_losses(struct xi_dataplane *dp, uint64_t *counts, size_t n);
XI_API size_t xi_loss_count(void);
/* Packets leaving (TC egress) by the reason that decided their fate, summed
 * over CPUs; counts has room for xi_reason_count() entries. */
XI_API int xi_dataplane_egress_reasons(struct xi_dataplane *dp, uint64_t *counts, size_t n);
/* RTCP the userspace interceptors received and ignored, by reason (enum
 * xi_rtcp_bad in abi.h); counts has room for xi_rtcp_ignored_count(). */
XI_API int xi_dataplane_rtcp_ignored(struct xi_dataplane *dp, uint64_t *counts, size_t n);
XI_API size_t xi_rtcp_ignored_count(void);
XI_API const char *xi_rtcp_ignored_name(size_t i);  /* "malformed", ...; NULL past the end */
XI_API const char *xi_loss_name(size_t loss);       /* "rx_ring_full", ...; NULL past the end */

#ifdef __cplusplus
}
#endif
#endif
