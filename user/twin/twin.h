/* SPDX-License-Identifier: MIT */
/*
 * C twins of the XDP programs: the same semantics over the same abi.h
 * structs, for stateless stages that run in userspace (after a stateful one)
 * and as the reference in tests. This header has the twin of xi_entry, the
 * per-SSRC table the stage twins keep, and the readers that run a stage twin
 * in a userspace chain; each stage's own twin is declared beside it
 * (user/interceptors/<name>/twin.h). Internal to libxicept.
 *
 * A packet is described by struct xi_pkt_ctx, as xi_entry leaves it in
 * xi_scratch: xi_twin_parse_frame() and xi_twin_classify_payload() fill it
 * from a frame or from a bare UDP payload; the caller sets conn_id, now_ns
 * and default_clock_rate. Stage twins keep one connection's state each.
 */
#ifndef XICEPT_USER_TWIN_H
#define XICEPT_USER_TWIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <xicept/abi.h>
#include <xicept/interceptor.h>

/* xi_twin_parse_frame's "parsed to UDP" result: no reason yet. */
#define XI_TWIN_PARSED XI_REASON__MAX

/* ---- xi_entry ---- */

/* Ethernet/VLAN/IP/UDP as xi_entry parses them. Returns XI_TWIN_PARSED with
 * *ret_key (ingress orientation) and the offsets of *ret_ctx filled, or the
 * reason (< XI_REASON_UNKNOWN_FLOW) the frame is not a UDP datagram. */
uint32_t xi_twin_parse_frame(const uint8_t *frame, size_t len,
			     struct xi_flow_key *ret_key, struct xi_pkt_ctx *ret_ctx);

/* RFC 7983/5761 class of a UDP payload: XI_REASON_RTP or XI_REASON_RTCP with
 * the RTP fields of *ctx filled (ssrc, seq, ...), or XI_REASON_STUN, _DTLS,
 * _OTHER, _BAD_RTP. payload_len is set to len. */
uint32_t xi_twin_classify_payload(const uint8_t *payload, size_t len,
				  struct xi_pkt_ctx *ctx);
/* The same on a connection whose SRTP tag is trailer bytes (0: plain RTP):
 * no padding is read (it is encrypted), the tag must fit, and RTCP is
 * XI_REASON_SRTCP. */
uint32_t xi_twin_classify_srtp(const uint8_t *payload, size_t len, uint8_t trailer,
			       struct xi_pkt_ctx *ctx);

/* The map lookups xi_entry makes. flow: 0 and the conn id, or -ENOENT.
 * conn: the connection or NULL. */
struct xi_twin_lookup {
	int (*flow)(void *user, const struct xi_flow_key *key, uint32_t *ret_conn_id);
	const struct xi_conn *(*conn)(void *user, uint32_t conn_id);
	void *user;
};

/* The whole of xi_entry but the chain: returns the reason xi_entry counts.
 * For XI_REASON_RTP and XI_REASON_RTCP, *ret_ctx is ready to run the chain
 * (stages, verdict, now_ns); otherwise *ret_action is the packet's verdict. */
uint32_t xi_twin_entry(const struct xi_twin_lookup *lk, const struct xi_iface_config *cfg,
		       const uint8_t *frame, size_t len, uint64_t now_ns,
		       struct xi_pkt_ctx *ret_ctx, enum xi_action *ret_action);

/* ---- per-SSRC tables ---- */

/* A sorted table of fixed-size values keyed by SSRC. */
struct xi_twin_table {
	uint32_t *keys;
	uint8_t *values;
	size_t n, cap, value_size;
};

void xi_twin_table_init(struct xi_twin_table *t, size_t value_size);
void xi_twin_table_fini(struct xi_twin_table *t);
void *xi_twin_table_find(const struct xi_twin_table *t, uint32_t key);
/* The value under key, inserted zeroed when missing; NULL when out of memory. */
void *xi_twin_table_get(struct xi_twin_table *t, uint32_t key);
int xi_twin_table_remove(struct xi_twin_table *t, uint32_t key);   /* 0 or -ENOENT */

/* ---- stage readers ---- */

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

#endif
