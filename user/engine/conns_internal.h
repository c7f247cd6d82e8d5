/* SPDX-License-Identifier: MIT */
/*
 * What the files of the engine's connections share (the table and its
 * threads are described in user/engine/conns.c):
 *   conns.c          the table: workers, sync, the RCU view;
 *   conns_wire.c     the innermost reader and writer of every chain;
 *   conns_econn.c    one connection: its chain built and bound;
 *   conns_packets.c  packets arriving, timers, counters;
 *   conns_egress.c   packets leaving (TC egress, through the tap).
 */
#ifndef XICEPT_ENGINE_CONNS_INTERNAL_H
#define XICEPT_ENGINE_CONNS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <urcu-bp.h>

#include <xicept/attributes.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/srtp.h>
#include <xicept/stream.h>

#include "user/engine/conns.h"
#include "user/lib/log.h"
#include "user/lib/tsan.h"
#include "user/lib/udp_frame.h"

/* SSRCs bound on the fly per connection, beyond the signalled ones: a bound
 * on what a stream of garbage SSRCs can make us allocate. */
#define ENGINE_STREAMS_MAX   (4 * XI_CONN_MAX_STREAMS)
#define DEFAULT_CLOCK_RATE  90000
#define FORCED_SYNC_NS      (20 * 1000 * 1000ull)
#define PKT_MAX             65536
#define FRAME_MAX           (XI_L2_MAX + XI_IP6_HDR_LEN + XI_UDP_HDR_LEN + 1500)

struct econn_stream {
	struct xi_stream_info info;
	struct xi_reader reader;
};

/* A local stream (BindLocalStream): copies of what left come through the
 * tap and are written to its writer; the innermost writer sends only what
 * the chain itself writes (retransmissions). */
struct econn_local {
	struct xi_stream_info info;
	struct xi_writer writer;
};

struct econn {
	uint32_t id;
	struct xi_engine_conns *table;
	struct xi_conn_spec spec;
	struct xi_chain *chain;       /* NULL: could not be built, packets pass as is */
	size_t from;                  /* the XDP prefix: where userspace resumes */
	uint32_t version;             /* of the chain in xi_conns this one is */
	uint32_t default_clock_rate;
	struct xi_reader rtcp_reader;
	struct econn_stream *streams;
	size_t n_streams;
	struct econn_local *locals;   /* the spec's local streams, bound */
	size_t n_locals;
	/* Learned from the last frame: how to send back. */
	bool have_peer;
	uint8_t l2[XI_L2_MAX];
	size_t l2_len;
	struct xi_endpoint peer;
	uint32_t queue;
	uint16_t ip_id;
	/* Held while the chain runs (a packet, a timer, a rebuild reading the
	 * peer); cur / cur_len are the packet the innermost reader returns. */
	pthread_mutex_t lock;
	const uint8_t *cur;
	size_t cur_len;
	bool observing_egress;        /* a copy of a packet that left is being written */
	/* SRTP (xi_conn.srtp_profiles set): the contexts, NULL when the keys
	 * could not be read (then nothing is emitted, no SRTCP read); the
	 * sender SSRC of every compound emitted, one no stream of the
	 * connection uses, drawn anew per engine; the tags' lengths. */
	bool srtp_on;
	struct xi_srtp_conn *srtp;
	uint32_t rtcp_ssrc;
	uint8_t srtp_tag_in, srtp_tag_out;
	uint8_t sbuf[FRAME_MAX + XI_SRTP_GROWTH_MAX];   /* under lock: SRTP in and out */
};

/* The connections as one sync left them, sorted by id. */
struct conn_view {
	size_t n;
	struct econn *v[];
};

#define WORKERS_MAX 64

struct xi_engine_worker {
	struct xi_engine_conns *table;
	struct xi_engine_conns_stats stats;   /* one writer: this worker's thread */
	struct xi_attributes attrs;
	uint8_t buf[PKT_MAX];
	uint8_t out[PKT_MAX];
};

struct xi_engine_conns {
	struct xi_dataplane *dp;
	struct xi_catalog *cat;
	struct xi_engine_conns_cbs cbs;
	uint8_t mac[6];
	struct conn_view *view;       /* RCU: readers rcu_dereference it */
	/* emitted, emit_failed, rtp_resent, rtp_resend_failed, poll_errors:
	 * atomic adds from any thread. */
	struct xi_engine_conns_stats stats;
	/* Syncs, and what they change, one at a time. */
	pthread_mutex_t sync_lock;
	uint64_t forced_sync_ns;      /* last sync a packet of an unknown id caused */
	struct xi_engine_worker *workers[WORKERS_MAX];
	size_t n_workers;
	char gp;                      /* the grace period, for TSan (user/lib/tsan.h) */
	pthread_mutex_t rtcp_lock;    /* xi_rtcp_ignored's read-modify-write */
};

/* The view's publication: rcu_assign_pointer / rcu_dereference spelled as
 * the release store and acquire load they are on x86 (no cost), so that
 * ThreadSanitizer, which does not know liburcu's barriers, sees them. */
static inline void view_publish(struct xi_engine_conns *t, struct conn_view *v)
{
	__atomic_store_n(&t->view, v, __ATOMIC_RELEASE);
}

static inline struct conn_view *view_get(struct xi_engine_conns *t)
{
	return __atomic_load_n(&t->view, __ATOMIC_ACQUIRE);
}

static inline void read_end(struct xi_engine_conns *t)
{
	tsan_release(&t->gp);
	rcu_read_unlock();
}

/* A worker counter: its thread adds, any thread reads. */
#define W_INC(w, f) __atomic_store_n(&(w)->stats.f, (w)->stats.f + 1, __ATOMIC_RELAXED)
#define T_INC(t, f) __atomic_fetch_add(&(t)->stats.f, 1, __ATOMIC_RELAXED)

#define tlog(t, ...) xi_logf((t)->cbs.log, (t)->cbs.user, __VA_ARGS__)

/* conns_wire.c: the innermost reader (the packet being processed) and
 * writer (a frame to the connection's remote endpoint) of a chain; ctx is
 * the struct econn. */
ssize_t econn_wire_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs);
/* The RTCP writer: on SRTP the compound is protected (its first sender
 * SSRC made c->rtcp_ssrc) first. */
ssize_t econn_wire_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs);
/* The local streams' writer (retransmissions): on SRTP, a packet written
 * with XI_ATTR_SRTP_PLAIN is protected first, else it goes as it is. */
ssize_t econn_wire_write_rtp(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs);
/* xi_rtcp_ignored[why]++ (conns_packets.c). */
void conns_rtcp_ignored(struct xi_engine_conns *t, int why);

/* conns_econn.c */
struct econn_stream *econn_stream_find(struct econn *c, uint32_t ssrc);
/* Binds one more remote stream to the chain (-ENOSPC past ENGINE_STREAMS_MAX). */
int econn_stream_bind(struct econn *c, uint32_t ssrc, uint8_t pt, uint32_t clock_rate,
		      struct econn_stream **ret);
/* A connection with its chain built and bound; one whose chain fails is
 * kept without it (its packets pass) and the failure logged. 0 or -ENOMEM. */
int econn_new(struct xi_engine_conns *t, uint32_t id, const struct xi_conn_spec *spec,
	      struct econn **ret);
void econn_free(struct econn *c);

/* conns.c */
struct econn *conns_find(const struct conn_view *view, uint32_t id);
/* Under sync_lock: the next view published, the old one retired; how many
 * connections changed, or -errno. */
int conns_sync_locked(struct xi_engine_conns *t);

/* conns_packets.c */
bool conns_meta_valid(const struct xi_xsk_meta *m, size_t len);
/* Learns where to send what the chain emits from frame: its source, or, for
 * a frame that left (TC egress), its destination (conns_packets.c). */
void conns_peer_learn(struct econn *c, const struct xi_xsk_meta *m, uint32_t queue,
		      const uint8_t *frame, bool left);
/* trailer: XI_ATTR_SRTP_TRAILER's value, 0 for none. */
int conns_attrs_fill(struct xi_attributes *a, const struct xi_xsk_meta *m, uint8_t *frame,
		     size_t len, size_t caplen, unsigned trailer);
void conns_forced_sync(struct xi_engine_conns *t, uint64_t now_ns);

#endif
