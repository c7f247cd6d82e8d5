// SPDX-License-Identifier: MIT
/*
 * The engine's connections (see user/engine/conns.h). Each connection of the
 * pinned table gets its chain built here with the interface's dataplane, so
 * XDP-kind elements placed after a userspace one run their C twins against
 * the same maps XDP uses, and is bound from xi_chain_xdp_prefix(): exactly
 * the position xi_to_user reports, since both come from the same chain text.
 *
 * The innermost reader hands out the UDP payload of the packet being
 * processed; the innermost RTCP writer turns what the chain emits into a
 * frame from the connection's local endpoint to its remote one.
 *
 * Threads: every engine thread runs packets through the same connections,
 * each with a worker of its own (scratch buffers, counters). The table is a
 * view published under RCU (liburcu-bp): a packet reads it inside a
 * read-side section, and a sync builds the next view, publishes it and
 * frees what it replaced only after a grace period. A connection's chain
 * runs under the connection's own lock, so packets of one connection that
 * arrive on two queues see its per-stream state one at a time, in the
 * order they take the lock. Counters: a worker's have one writer (its
 * thread) and are read with relaxed atomic loads; the table's own (emitted
 * RTCP, timers) are atomic adds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <urcu-bp.h>

#include <xicept/attributes.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/stream.h>

#include "user/lib/log.h"
#include "user/lib/tsan.h"
#include "user/dataplane/egress.h"
#include "user/dataplane/internal.h"
#include "user/dataplane/swap.h"
#include "user/engine/conns.h"
#include "user/lib/udp_frame.h"
#include "user/proto/rtcp_check.h"

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
	/* emitted, emit_failed, poll_errors: atomic adds from any thread. */
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

/* ---- innermost reader and writer ---- */

static ssize_t wire_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct econn *c = ctx;

	if (!c->cur)
		return -ENODATA;
	if (c->cur_len > cap)
		return -ENOSPC;
	memcpy(buf, c->cur, c->cur_len);
	return (ssize_t)c->cur_len;
}

/* Ethernet header of the last frame, turned around: to its sender, from us. */
static void l2_reply(const struct econn *c, const uint8_t mac[6], uint8_t *ret)
{
	memcpy(ret, c->l2, c->l2_len);
	memcpy(ret, c->l2 + 6, 6);
	memcpy(ret + 6, mac, 6);
}

/* Walks an RTCP compound by its length fields, counting NACKs and RRs. */
static void count_rtcp_kinds(struct xi_engine_conns *t, const uint8_t *p, size_t len)
{
	while (len >= 4 && (p[0] >> 6) == 2) {
		size_t n = 4 * ((size_t)((p[2] << 8) | p[3]) + 1);

		if (n > len)
			break;
		if (p[1] == 205 && (p[0] & 0x1f) == 1)
			T_INC(t, nacks_sent);
		else if (p[1] == 201)
			T_INC(t, rrs_sent);
		p += n;
		len -= n;
	}
}

static ssize_t wire_write(void *ctx, const uint8_t *pkt, size_t len, struct xi_attributes *attrs)
{
	struct econn *c = ctx;
	struct xi_engine_conns *t = c->table;
	const struct xi_endpoint *dst = c->spec.remote.family ? &c->spec.remote : &c->peer;
	uint8_t l2[XI_L2_MAX], tx[FRAME_MAX];
	int n;

	/* Nothing received yet: no peer MAC to send to, and for a wildcard
	 * connection no peer at all. */
	if (!c->have_peer) {
		T_INC(t, emit_failed);
		return -ENOTCONN;
	}
	l2_reply(c, t->mac, l2);
	n = xi_udp_frame_build(tx, sizeof(tx), l2, c->l2_len, &c->spec.local, dst,
			       c->ip_id++, pkt, len);
	if (n >= 0)
		n = t->cbs.emit ? t->cbs.emit(t->cbs.user, c->queue, tx, (size_t)n) : -ENOSYS;
	if (n < 0) {
		T_INC(t, emit_failed);
		return n;
	}
	T_INC(t, emitted);
	count_rtcp_kinds(t, pkt, len);
	return (ssize_t)len;
}

/* ---- one connection ---- */

/* The spec does not say which RTCP feedback a stream negotiated; a chain
 * that holds nack-generator means the operator wants NACKs for it. */
static void stream_info_make(uint32_t ssrc, uint8_t pt, uint32_t clock_rate,
			     struct xi_stream_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->id, sizeof(ret->id), "ssrc-%u", ssrc);
	ret->ssrc = ssrc;
	ret->payload_type = pt;
	ret->clock_rate = clock_rate;
	ret->n_rtcp_feedback = 2;
	strcpy(ret->rtcp_feedback[0].type, "nack");
	strcpy(ret->rtcp_feedback[1].type, "nack");
	strcpy(ret->rtcp_feedback[1].parameter, "pli");
}

static struct econn_stream *stream_find(struct econn *c, uint32_t ssrc)
{
	for (size_t i = 0; i < c->n_streams; i++)
		if (c->streams[i].info.ssrc == ssrc)
			return &c->streams[i];
	return NULL;
}

static int stream_bind(struct econn *c, uint32_t ssrc, uint8_t pt, uint32_t clock_rate,
		       struct econn_stream **ret)
{
	struct xi_reader inner = { .read = wire_read, .ctx = c };
	struct econn_stream *s;
	int r;

	if (c->n_streams >= ENGINE_STREAMS_MAX)
		return -ENOSPC;
	s = &c->streams[c->n_streams];
	stream_info_make(ssrc, pt, clock_rate, &s->info);
	r = xi_chain_bind_remote_stream_from(c->chain, c->from, &s->info, inner, &s->reader);
	if (r)
		return r;
	c->n_streams++;
	if (ret)
		*ret = s;
	return 0;
}

static uint32_t conn_default_rate(struct xi_engine_conns *t, uint32_t id)
{
	struct xi_conn val;

	if (bpf_map_lookup_elem(xi_dataplane_map_fd(t->dp, XI_MAP_CONNS), &id, &val) == 0 &&
	    val.conn_id == id && val.default_clock_rate)
		return val.default_clock_rate;
	return DEFAULT_CLOCK_RATE;
}

static void econn_free(struct econn *c)
{
	if (!c)
		return;
	if (c->chain) {
		for (size_t i = c->n_locals; i-- > 0;)
			xi_chain_unbind_local_stream_from(c->chain, c->from, &c->locals[i].info);
		for (size_t i = c->n_streams; i-- > 0;)
			xi_chain_unbind_remote_stream_from(c->chain, c->from, &c->streams[i].info);
		xi_chain_close(c->chain, NULL);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->streams);
	free(c->locals);
	free(c);
}

static ssize_t wire_local_write(void *ctx, const uint8_t *pkt, size_t len,
				struct xi_attributes *attrs)
{
	struct econn *c = ctx;

	/* A copy of a packet that left already: it must not leave twice. */
	if (c->observing_egress)
		return (ssize_t)len;
	return wire_write(ctx, pkt, len, attrs);
}

static int econn_bind_locals(struct econn *c)
{
	struct xi_writer wire = { .write = wire_local_write, .ctx = c };
	int r = 0;

	if (!c->spec.n_local_streams)
		return 0;
	c->locals = calloc(c->spec.n_local_streams, sizeof(*c->locals));
	if (!c->locals)
		return -ENOMEM;
	for (size_t i = 0; !r && i < c->spec.n_local_streams; i++) {
		const struct xi_local_stream_spec *s = &c->spec.local_streams[i];
		struct econn_local *l = &c->locals[i];

		stream_info_make(s->ssrc, s->payload_type, s->clock_rate, &l->info);
		if (s->has_rtx) {
			l->info.ssrc_rtx = s->rtx_ssrc;
			l->info.payload_type_rtx = s->rtx_payload_type;
		}
		r = xi_chain_bind_local_stream_from(c->chain, c->from, &l->info, wire, &l->writer);
		if (!r)
			c->n_locals++;
	}
	return r;
}

static int econn_bind(struct econn *c)
{
	struct xi_reader inner = { .read = wire_read, .ctx = c };
	struct xi_writer wire = { .write = wire_write, .ctx = c }, unused;
	int r;

	c->from = xi_chain_xdp_prefix(c->chain);
	r = xi_chain_bind_rtcp_reader_from(c->chain, c->from, inner, &c->rtcp_reader);
	if (!r)
		r = xi_chain_bind_rtcp_writer_from(c->chain, c->from, wire, &unused);
	for (size_t i = 0; !r && i < c->spec.n_streams; i++) {
		const struct xi_stream_spec *s = &c->spec.streams[i];

		r = stream_bind(c, s->ssrc, s->payload_type, s->clock_rate, NULL);
	}
	if (!r)
		r = econn_bind_locals(c);
	return r;
}

static int econn_new(struct xi_engine_conns *t, uint32_t id, const struct xi_conn_spec *spec,
		     struct econn **ret)
{
	struct xi_build_ctx ctx = { .conn_id = id, .dp = t->dp };
	struct xi_err err = { 0 };
	struct econn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->streams = calloc(ENGINE_STREAMS_MAX, sizeof(*c->streams));
	if (!c->streams) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->id = id;
	c->table = t;
	c->spec = *spec;
	c->default_clock_rate = conn_default_rate(t, id);
	r = xi_catalog_build(t->cat, spec->chain, &ctx, &c->chain, &err);
	if (!r) {
		r = econn_bind(c);
		if (r)
			snprintf(err.msg, sizeof(err.msg), "binding: %s", strerror(-r));
	}
	if (r) {
		/* Kept without a chain, so that its packets pass and the
		 * failure is reported once, not per sync. */
		tlog(t, "connection %u: cannot build '%s': %s", id, spec->chain,
		      err.msg[0] ? err.msg : strerror(-r));
		if (c->chain)
			xi_chain_close(c->chain, NULL);
		c->chain = NULL;
		c->n_streams = 0;
	}
	*ret = c;
	return 0;
}

/* ---- the table ---- */

int xi_engine_conns_new(struct xi_dataplane *dp, struct xi_catalog *cat, const uint8_t mac[6],
		  const struct xi_engine_conns_cbs *cbs, struct xi_engine_conns **ret)
{
	struct xi_engine_conns *t;

	if (!dp || !cat || !mac || !ret)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->view = calloc(1, sizeof(*t->view));
	if (!t->view) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->sync_lock, NULL);
	pthread_mutex_init(&t->rtcp_lock, NULL);
	t->dp = dp;
	t->cat = cat;
	if (cbs)
		t->cbs = *cbs;
	memcpy(t->mac, mac, 6);
	*ret = t;
	return 0;
}

/* No thread may run packets any more: the view is freed at once. */
void xi_engine_conns_free(struct xi_engine_conns *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->view->n; i++)
		econn_free(t->view->v[i]);
	free(t->view);
	for (size_t i = 0; i < t->n_workers; i++)
		free(t->workers[i]);
	pthread_mutex_destroy(&t->sync_lock);
	pthread_mutex_destroy(&t->rtcp_lock);
	free(t);
}

int xi_engine_worker_new(struct xi_engine_conns *t, struct xi_engine_worker **ret)
{
	struct xi_engine_worker *w;
	int r = 0;

	if (!t || !ret)
		return -EINVAL;
	pthread_mutex_lock(&t->sync_lock);
	if (t->n_workers == WORKERS_MAX) {
		r = -ENOSPC;
	} else if (!(w = calloc(1, sizeof(*w)))) {
		r = -ENOMEM;
	} else {
		w->table = t;
		t->workers[t->n_workers++] = w;
		*ret = w;
	}
	pthread_mutex_unlock(&t->sync_lock);
	return r;
}

static struct econn *conn_find(const struct conn_view *view, uint32_t id)
{
	size_t lo = 0, hi = view->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (view->v[mid]->id == id)
			return view->v[mid];
		if (view->v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* What a rebuilt connection keeps from its old self: where its peer is.
 * The old one may be running a packet on another thread. */
static void econn_inherit(struct econn *c, struct econn *old)
{
	if (!old)
		return;
	pthread_mutex_lock(&old->lock);
	if (old->have_peer) {
		c->have_peer = true;
		memcpy(c->l2, old->l2, sizeof(c->l2));
		c->l2_len = old->l2_len;
		c->peer = old->peer;
		c->queue = old->queue;
		c->ip_id = old->ip_id;
	}
	pthread_mutex_unlock(&old->lock);
}

/* The connection for id as the table is now: the old one when its spec did
 * not change, else a new one. */
static int sync_one(struct xi_engine_conns *t, uint32_t id, struct econn **ret, bool *ret_changed)
{
	struct econn *old = conn_find(t->view, id);
	struct xi_conn_spec spec;
	uint32_t version = 0;
	int r;

	/* The version first: set-chain flips XDP to the new chain, then
	 * writes the spec, so a new version with the old spec is a switch
	 * half-way: the next sync takes it. */
	r = xi_dataplane_conn_version(t->dp, id, &version);
	if (!r)
		r = xi_dataplane_conn_get(t->dp, id, &spec);
	if (r)
		return r;
	*ret_changed = !old || memcmp(&old->spec, &spec, sizeof(spec));
	if (!*ret_changed) {
		*ret = old;
		return 0;
	}
	r = econn_new(t, id, &spec, ret);
	if (!r)
		(*ret)->version = version;
	if (!r) {
		econn_inherit(*ret, old);
		tlog(t, "connection %u: %s chain '%s'%s", id, old ? "rebuilt" : "added",
		      spec.chain, (*ret)->chain ? "" : " (passing its packets unchanged)");
	}
	return r;
}

/* The old connections the next view does not hold as they are: closed once
 * no thread can be running them. */
static int conns_retire(struct xi_engine_conns *t, const struct conn_view *old,
			const struct conn_view *next)
{
	int removed = 0;

	for (size_t i = 0; i < old->n; i++) {
		struct econn *c = old->v[i], *now = conn_find(next, c->id);

		if (now == c)
			continue;
		if (!now) {
			tlog(t, "connection %u: removed", c->id);
			removed++;
		}
		econn_free(c);
	}
	return removed;
}

static int conns_sync_locked(struct xi_engine_conns *t)
{
	struct conn_view *next, *old = t->view;
	uint32_t *ids = NULL;
	size_t n = 0, k = 0;
	int r, changed = 0;

	r = xi_dataplane_conn_ids(t->dp, &ids, &n);
	if (r)
		return r;
	next = calloc(1, sizeof(*next) + (n ? n : 1) * sizeof(next->v[0]));
	if (!next) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		bool ch = false;

		r = sync_one(t, ids[i], &next->v[k], &ch);
		if (r == -ENOENT)
			continue;   /* deleted since the listing */
		if (r) {
			/* Out of memory: keep what runs now, try again next sync. */
			next->v[k] = conn_find(old, ids[i]);
			if (!next->v[k])
				continue;
		}
		changed += ch;
		k++;
	}
	free(ids);
	next->n = k;
	if (!changed && k == old->n) {
		free(next);   /* the same connections: nothing to publish */
		return 0;
	}
	view_publish(t, next);
	synchronize_rcu();
	tsan_acquire(&t->gp);
	changed += conns_retire(t, old, next);
	free(old);
	return changed;
}

int xi_engine_conns_sync(struct xi_engine_conns *t)
{
	int r;

	pthread_mutex_lock(&t->sync_lock);
	r = conns_sync_locked(t);
	pthread_mutex_unlock(&t->sync_lock);
	return r;
}

/* ---- packets ---- */

static bool meta_valid(const struct xi_xsk_meta *m, size_t len)
{
	return m && m->magic == XI_XSK_META_MAGIC && m->l3_off < m->l4_off &&
	       m->l4_off + XI_UDP_HDR_LEN == m->payload_off &&
	       (size_t)m->payload_off + m->payload_len <= len && m->l3_off <= XI_L2_MAX &&
	       m->l3_off >= 14;
}

/* Where to send what the chain emits: back the way this frame came. */
static void peer_learn(struct econn *c, const struct xi_xsk_meta *m, uint32_t queue,
		       const uint8_t *frame)
{
	const uint8_t *l3 = frame + m->l3_off, *udp = frame + m->l4_off;

	memcpy(c->l2, frame, m->l3_off);
	c->l2_len = m->l3_off;
	c->queue = queue;
	memset(&c->peer, 0, sizeof(c->peer));
	if (l3[0] >> 4 == 4) {
		c->peer.family = AF_INET;
		memcpy(c->peer.addr, l3 + 12, 4);
	} else {
		c->peer.family = AF_INET6;
		memcpy(c->peer.addr, l3 + 8, 16);
	}
	c->peer.port = (uint16_t)(udp[0] << 8 | udp[1]);
	c->have_peer = true;
}

static int reader_for(struct econn *c, const struct xi_xsk_meta *m, const uint8_t *payload,
		      struct xi_reader *ret)
{
	struct econn_stream *s;
	int r;

	if (m->is_rtcp) {
		*ret = c->rtcp_reader;
		return 0;
	}
	s = stream_find(c, m->ssrc);
	if (!s) {
		/* Not signalled: bound now with the connection's defaults, as
		 * an SFU wants for a sender that adds a stream. */
		r = stream_bind(c, m->ssrc, payload[1] & 0x7f, c->default_clock_rate, &s);
		if (r)
			return r;
	}
	*ret = s->reader;
	return 0;
}

static int attrs_fill(struct xi_attributes *a, const struct xi_xsk_meta *m, uint8_t *frame,
		      size_t len, size_t caplen)
{
	int r;

	xi_attributes_reset(a);
	r = xi_attributes_set_u64(a, XI_ATTR_CONN_ID, m->conn_id);
	if (!r)
		r = xi_attributes_set_u64(a, XI_ATTR_ARRIVAL_NS, m->now_ns);
	if (!r)
		r = xi_attributes_set_ptr(a, XI_ATTR_FRAME, frame);
	if (!r)
		r = xi_attributes_set_u64(a, XI_ATTR_FRAME_LEN, len);
	if (!r && caplen < len)
		r = xi_attributes_set_u64(a, XI_ATTR_FRAME_CAPLEN, caplen);
	return r;
}

/* The datagram as received, without any Ethernet padding after it. */
static int deliver_as_is(struct xi_engine_worker *w, uint8_t *frame, size_t len,
			 const struct xi_xsk_meta *m, const uint8_t **ret_l3, size_t *ret_len)
{
	uint8_t *l3 = frame + m->l3_off;
	int n;

	if (m->l3_off >= len)
		return -EBADMSG;
	n = xi_ip_datagram_len(l3, len - m->l3_off);
	if (n < 0)
		return n;
	if (xi_udp_csum_complete(l3, (size_t)m->l4_off - m->l3_off, (size_t)n) == 1)
		W_INC(w, csum_completed);
	*ret_l3 = l3;
	*ret_len = (size_t)n;
	return 1;
}

/* The chain changed the payload: same IP and UDP headers, new lengths and
 * checksums. */
static int deliver_changed(struct xi_engine_worker *w, const uint8_t *frame, const struct xi_xsk_meta *m,
			   size_t n, const uint8_t **ret_l3, size_t *ret_len)
{
	size_t hdrs = (size_t)m->payload_off - m->l3_off;
	int r;

	if (hdrs + n > sizeof(w->out))
		return -EMSGSIZE;
	memcpy(w->out, frame + m->l3_off, hdrs);
	memcpy(w->out + hdrs, w->buf, n);
	r = xi_udp_datagram_fix(w->out, (size_t)m->l4_off - m->l3_off, n);
	if (r)
		return r;
	W_INC(w, modified);
	*ret_l3 = w->out;
	*ret_len = hdrs + n;
	return 1;
}

/* RTCP the interceptors will not act on, counted once per compound under
 * its reason (xi_rtcp_ignored); they ignore it themselves. Any thread: the
 * map's read-modify-write under the table's rtcp_lock. */
static void rtcp_check(struct xi_engine_conns *t, const uint8_t *buf, size_t len)
{
	int why = xi_rtcp_bad_reason(buf, len);
	__u32 key = (__u32)why;
	__u64 v = 0;
	int fd;

	if (why < 0)
		return;
	fd = xi_dataplane_stage_fd(t->dp, XI_STAGE_EGRESS, XI_EGRESS_MAP_RTCP_IGNORED);
	if (fd < 0)
		return;
	pthread_mutex_lock(&t->rtcp_lock);
	if (!bpf_map_lookup_elem(fd, &key, &v)) {
		v++;
		bpf_map_update_elem(fd, &key, &v, BPF_ANY);
	}
	pthread_mutex_unlock(&t->rtcp_lock);
}

/* Under c->lock: the chain's state is the connection's, whichever queue
 * the packet came on. */
static ssize_t chain_read(struct xi_engine_worker *w, struct econn *c, const struct xi_xsk_meta *m,
			  uint32_t queue, uint8_t *frame, size_t len, size_t caplen)
{
	const uint8_t *payload = frame + m->payload_off;
	struct xi_reader rd;
	ssize_t n;
	int r;

	peer_learn(c, m, queue, frame);
	r = reader_for(c, m, payload, &rd);
	if (!r)
		r = attrs_fill(&w->attrs, m, frame, len, caplen);
	if (r)
		return r;
	if (m->is_rtcp)
		rtcp_check(c->table, payload, m->payload_len);
	c->cur = payload;
	c->cur_len = m->payload_len;
	n = xi_reader_read(rd, w->buf, sizeof(w->buf), &w->attrs);
	c->cur = NULL;
	return n;
}

static int run_chain(struct xi_engine_worker *w, struct econn *c, const struct xi_xsk_meta *m,
		     uint32_t queue, uint8_t *frame, size_t len, size_t caplen,
		     const uint8_t **ret_l3, size_t *ret_len)
{
	const uint8_t *payload = frame + m->payload_off;
	ssize_t n;

	pthread_mutex_lock(&c->lock);
	n = chain_read(w, c, m, queue, frame, len, caplen);
	pthread_mutex_unlock(&c->lock);
	if (n < 0)
		return (int)n;
	if (n == 0) {
		W_INC(w, dropped);
		return 0;
	}
	if ((size_t)n == m->payload_len && !memcmp(w->buf, payload, (size_t)n))
		return deliver_as_is(w, frame, len, m, ret_l3, ret_len);
	return deliver_changed(w, frame, m, (size_t)n, ret_l3, ret_len);
}

/* A packet of a connection added or changed since the last sync: sync
 * now, at most once per FORCED_SYNC_NS whatever the packet rate. Outside
 * any read-side section (the sync waits for a grace period). */
static void forced_sync(struct xi_engine_conns *t, uint64_t now_ns)
{
	pthread_mutex_lock(&t->sync_lock);
	if (now_ns - t->forced_sync_ns >= FORCED_SYNC_NS) {
		__atomic_store_n(&t->forced_sync_ns, now_ns, __ATOMIC_RELAXED);
		conns_sync_locked(t);
	}
	pthread_mutex_unlock(&t->sync_lock);
}

/* Built, and for the chain the packet ran in XDP: the same resume position
 * and chain version (a packet of another version is not run through it). */
static bool conn_runs(const struct econn *c, const struct xi_xsk_meta *meta)
{
	return c && c->chain && c->from == meta->resume && (uint16_t)c->version == meta->version;
}

/* Inside a read-side section: c stays valid until it ends. */
static int conns_run_rcu(struct xi_engine_worker *w, const struct xi_xsk_meta *meta, uint32_t queue,
			 uint8_t *frame, size_t len, size_t caplen, const uint8_t **ret_l3,
			 size_t *ret_len)
{
	struct econn *c = conn_find(view_get(w->table), meta->conn_id);

	if (!conn_runs(c, meta)) {
		W_INC(w, unknown_conn);
		return deliver_as_is(w, frame, len, meta, ret_l3, ret_len);
	}
	return run_chain(w, c, meta, queue, frame, len, caplen, ret_l3, ret_len);
}

/* What process and observe share: 1 with the datagram to deliver, 0 when
 * an interceptor dropped the packet, or a negative errno (*ret_bad_meta:
 * the metadata was unusable, nothing ran). */
static int conns_run(struct xi_engine_worker *w, const struct xi_xsk_meta *meta, uint32_t queue,
		     uint8_t *frame, size_t len, size_t caplen, const uint8_t **ret_l3,
		     size_t *ret_len, bool *ret_bad_meta)
{
	struct xi_engine_conns *t = w->table;
	int r;

	*ret_bad_meta = !meta_valid(meta, len);
	if (*ret_bad_meta)
		return -EBADMSG;
	rcu_read_lock();
	if (!conn_runs(conn_find(view_get(t), meta->conn_id), meta) &&
	    meta->now_ns - __atomic_load_n(&t->forced_sync_ns, __ATOMIC_RELAXED) >= FORCED_SYNC_NS) {
		read_end(t);
		forced_sync(t, meta->now_ns);
		rcu_read_lock();
	}
	r = conns_run_rcu(w, meta, queue, frame, len, caplen, ret_l3, ret_len);
	read_end(t);
	return r;
}

int xi_engine_conns_process(struct xi_engine_worker *w, const struct xi_xsk_meta *meta, uint32_t queue,
		      uint8_t *frame, size_t len, const uint8_t **ret_l3, size_t *ret_len)
{
	bool bad_meta;
	int r;

	if (!w || !frame || !ret_l3 || !ret_len)
		return -EINVAL;
	W_INC(w, packets);
	r = conns_run(w, meta, queue, frame, len, len, ret_l3, ret_len, &bad_meta);
	/* Every packet ends up in exactly one of delivered, dropped (by an
	 * interceptor), errors and bad_meta: the last two are losses. */
	if (bad_meta) {
		W_INC(w, bad_meta);
		return -EBADMSG;
	}
	if (r < 0) {
		W_INC(w, errors);
		return 0;
	}
	if (r == 1)
		W_INC(w, delivered);
	return r;
}

int xi_engine_conns_observe(struct xi_engine_worker *w, const struct xi_xsk_meta *meta,
			    uint32_t queue, uint8_t *frame, size_t len, size_t caplen)
{
	const uint8_t *l3;
	size_t l3_len;
	bool bad_meta;
	int r;

	if (!w || !frame)
		return -EINVAL;
	W_INC(w, observed);
	r = conns_run(w, meta, queue, frame, len, caplen, &l3, &l3_len, &bad_meta);
	if (r < 0) {
		W_INC(w, observe_errors);
		return r;
	}
	return 0;
}

void xi_engine_conns_poll(struct xi_engine_conns *t, uint64_t now_ns)
{
	struct conn_view *view;

	if (!t)
		return;
	rcu_read_lock();
	view = view_get(t);
	for (size_t i = 0; i < view->n; i++) {
		struct econn *c = view->v[i];
		int r;

		if (!c->chain)
			continue;
		pthread_mutex_lock(&c->lock);
		r = xi_chain_poll(c->chain, now_ns);
		pthread_mutex_unlock(&c->lock);
		if (r < 0)
			T_INC(t, poll_errors);
	}
	read_end(t);
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void xi_engine_conns_stats(struct xi_engine_conns *t, struct xi_engine_conns_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->emitted = LOAD(t->stats.emitted);
	ret->emit_failed = LOAD(t->stats.emit_failed);
	ret->nacks_sent = LOAD(t->stats.nacks_sent);
	ret->rrs_sent = LOAD(t->stats.rrs_sent);
	ret->poll_errors = LOAD(t->stats.poll_errors);
	pthread_mutex_lock(&t->sync_lock);
	for (size_t i = 0; i < t->n_workers; i++) {
		const struct xi_engine_conns_stats *s = &t->workers[i]->stats;

		ret->packets += LOAD(s->packets);
		ret->delivered += LOAD(s->delivered);
		ret->modified += LOAD(s->modified);
		ret->csum_completed += LOAD(s->csum_completed);
		ret->dropped += LOAD(s->dropped);
		ret->errors += LOAD(s->errors);
		ret->bad_meta += LOAD(s->bad_meta);
		ret->unknown_conn += LOAD(s->unknown_conn);
		ret->observed += LOAD(s->observed);
		ret->observe_errors += LOAD(s->observe_errors);
		ret->egress_observed += LOAD(s->egress_observed);
		ret->egress_undeclared += LOAD(s->egress_undeclared);
	}
	ret->conns = t->view->n;   /* the writers' pointer: we hold their lock */
	pthread_mutex_unlock(&t->sync_lock);
}

/* ---- packets leaving (TC egress, through the tap) ---- */

/* Before anything arrived: where to send is where the packet that left
 * went, from its own frame (the MACs turned round, as if received). */
static void peer_learn_egress(struct econn *c, const struct xi_xsk_meta *m, const uint8_t *frame)
{
	const uint8_t *l3 = frame + m->l3_off, *udp = frame + m->l4_off;

	memcpy(c->l2, frame, m->l3_off);
	memcpy(c->l2, frame + 6, 6);
	memcpy(c->l2 + 6, frame, 6);
	c->l2_len = m->l3_off;
	c->queue = 0;
	memset(&c->peer, 0, sizeof(c->peer));
	if (l3[0] >> 4 == 4) {
		c->peer.family = AF_INET;
		memcpy(c->peer.addr, l3 + 16, 4);
	} else {
		c->peer.family = AF_INET6;
		memcpy(c->peer.addr, l3 + 24, 16);
	}
	c->peer.port = (uint16_t)(udp[2] << 8 | udp[3]);
	c->have_peer = true;
}

int xi_engine_conns_observe_egress(struct xi_engine_worker *w, const struct xi_xsk_meta *m,
				   uint8_t *frame, size_t len)
{
	struct xi_engine_conns *t;
	struct econn_local *l = NULL;
	struct econn *c;
	ssize_t n = 0;
	int r;

	if (!w || !frame)
		return -EINVAL;
	t = w->table;
	W_INC(w, egress_observed);
	if (!meta_valid(m, len)) {
		W_INC(w, observe_errors);
		return -EBADMSG;
	}
	rcu_read_lock();
	c = conn_find(view_get(t), m->conn_id);
	if (!c && m->now_ns - __atomic_load_n(&t->forced_sync_ns, __ATOMIC_RELAXED) >= FORCED_SYNC_NS) {
		read_end(t);
		forced_sync(t, m->now_ns);
		rcu_read_lock();
		c = conn_find(view_get(t), m->conn_id);
	}
	if (!c || !c->chain || m->is_rtcp) {
		read_end(t);
		return 0;   /* the application's own RTCP: no local stream writes it */
	}
	for (size_t i = 0; i < c->n_locals && !l; i++)
		if (c->locals[i].info.ssrc == m->ssrc)
			l = &c->locals[i];
	if (!l) {
		read_end(t);
		W_INC(w, egress_undeclared);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->have_peer)
		peer_learn_egress(c, m, frame);
	r = attrs_fill(&w->attrs, m, frame, len, len);
	if (!r) {
		c->observing_egress = true;
		n = xi_writer_write(l->writer, frame + m->payload_off, m->payload_len, &w->attrs);
		c->observing_egress = false;
	}
	pthread_mutex_unlock(&c->lock);
	read_end(t);
	if (r)
		return r;
	if (n < 0) {
		W_INC(w, observe_errors);
		return (int)n;
	}
	return 0;
}
