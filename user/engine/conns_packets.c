// SPDX-License-Identifier: MIT
/*
 * Packets through the engine's connections: a frame from AF_XDP (process)
 * or the tap (observe) runs its connection's chain under the connection's
 * lock, inside an RCU read-side section; timers (poll) and the counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <urcu-bp.h>

#include "user/dataplane/egress.h"
#include "user/dataplane/internal.h"
#include "user/engine/conns_internal.h"
#include "user/proto/rtcp_check.h"

bool conns_meta_valid(const struct xi_xsk_meta *m, size_t len)
{
	return m && m->magic == XI_XSK_META_MAGIC && m->l3_off < m->l4_off &&
	       m->l4_off + XI_UDP_HDR_LEN == m->payload_off &&
	       (size_t)m->payload_off + m->payload_len <= len && m->l3_off <= XI_L2_MAX &&
	       m->l3_off >= 14;
}

/* Where to send what the chain emits: back the way this frame came, or,
 * for a frame that left (before anything arrived), where it went, with its
 * MACs turned round as if it had been received. */
void conns_peer_learn(struct econn *c, const struct xi_xsk_meta *m, uint32_t queue,
		      const uint8_t *frame, bool left)
{
	const uint8_t *l3 = frame + m->l3_off, *udp = frame + m->l4_off;
	bool v4 = l3[0] >> 4 == 4;

	memcpy(c->l2, frame, m->l3_off);
	if (left) {
		memcpy(c->l2, frame + 6, 6);
		memcpy(c->l2 + 6, frame, 6);
	}
	c->l2_len = m->l3_off;
	c->queue = queue;
	memset(&c->peer, 0, sizeof(c->peer));
	c->peer.family = v4 ? AF_INET : AF_INET6;
	/* The peer is the frame's source, or its destination for one that left. */
	memcpy(c->peer.addr, l3 + (v4 ? (left ? 16 : 12) : (left ? 24 : 8)), v4 ? 4 : 16);
	c->peer.port = (uint16_t)(left ? udp[2] << 8 | udp[3] : udp[0] << 8 | udp[1]);
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
	s = econn_stream_find(c, m->ssrc);
	if (!s) {
		/* Not signalled: bound now with the connection's defaults, as
		 * an SFU wants for a sender that adds a stream. */
		r = econn_stream_bind(c, m->ssrc, payload[1] & 0x7f, c->default_clock_rate, &s);
		if (r)
			return r;
	}
	*ret = s->reader;
	return 0;
}

int conns_attrs_fill(struct xi_attributes *a, const struct xi_xsk_meta *m, uint8_t *frame,
		     size_t len, size_t caplen, unsigned trailer)
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
	if (!r && trailer)
		r = xi_attributes_set_u64(a, XI_ATTR_SRTP_TRAILER, trailer);
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
void conns_rtcp_ignored(struct xi_engine_conns *t, int why)
{
	__u32 key = (__u32)why;
	__u64 v = 0;
	int fd;

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

static void rtcp_check(struct xi_engine_conns *t, const uint8_t *buf, size_t len)
{
	int why = xi_rtcp_bad_reason(buf, len);

	if (why >= 0)
		conns_rtcp_ignored(t, why);
}

/*
 * SRTCP from the remote, unprotected into c->sbuf with the in keys, for the
 * chain to read. 0, or 1 when it must reach no interceptor (it failed
 * authentication, was a replay, or there are no keys): counted, and the
 * packet itself goes on to the application as it came, its business.
 */
static int srtcp_open(struct econn *c, const uint8_t *payload, size_t len)
{
	size_t n = len;
	int r;

	if (!c->srtp) {
		conns_rtcp_ignored(c->table, XI_RTCP_BAD_SRTCP_NO_KEYS);
		return 1;
	}
	if (len > sizeof(c->sbuf))
		r = -EMSGSIZE;
	else {
		memcpy(c->sbuf, payload, len);
		r = xi_srtp_unprotect_rtcp(c->srtp, c->sbuf, &n);
	}
	if (r) {
		conns_rtcp_ignored(c->table, r == -EALREADY ? XI_RTCP_BAD_SRTCP_REPLAY
							   : XI_RTCP_BAD_SRTCP_AUTH);
		return 1;
	}
	rtcp_check(c->table, c->sbuf, n);
	c->cur = c->sbuf;
	c->cur_len = n;
	return 0;
}

/* Under c->lock: the chain's state is the connection's, whichever queue
 * the packet came on. *ret_as_is: the packet goes on as it came whatever
 * the chain read (SRTCP: the chain read its plain form, or nothing). */
static ssize_t chain_read(struct xi_engine_worker *w, struct econn *c, const struct xi_xsk_meta *m,
			  uint32_t queue, uint8_t *frame, size_t len, size_t caplen, bool *ret_as_is)
{
	const uint8_t *payload = frame + m->payload_off;
	struct xi_reader rd;
	ssize_t n;
	int r;

	*ret_as_is = false;
	conns_peer_learn(c, m, queue, frame, false);
	r = reader_for(c, m, payload, &rd);
	if (!r)
		r = conns_attrs_fill(&w->attrs, m, frame, len, caplen,
				     m->is_rtcp ? 0 : c->srtp_tag_in);
	if (r)
		return r;
	c->cur = payload;
	c->cur_len = m->payload_len;
	if (m->is_rtcp && c->srtp_on) {
		*ret_as_is = true;
		if (srtcp_open(c, payload, m->payload_len)) {
			c->cur = NULL;
			return (ssize_t)m->payload_len;
		}
	} else if (m->is_rtcp) {
		rtcp_check(c->table, payload, m->payload_len);
	}
	n = xi_reader_read(rd, w->buf, sizeof(w->buf), &w->attrs);
	c->cur = NULL;
	return n;
}

static int run_chain(struct xi_engine_worker *w, struct econn *c, const struct xi_xsk_meta *m,
		     uint32_t queue, uint8_t *frame, size_t len, size_t caplen,
		     const uint8_t **ret_l3, size_t *ret_len)
{
	const uint8_t *payload = frame + m->payload_off;
	bool as_is;
	ssize_t n;

	pthread_mutex_lock(&c->lock);
	n = chain_read(w, c, m, queue, frame, len, caplen, &as_is);
	pthread_mutex_unlock(&c->lock);
	if (n < 0)
		return (int)n;
	if (n == 0) {
		W_INC(w, dropped);
		return 0;
	}
	/* SRTCP cannot be rewritten (xicept holds only the remote's keys to
	 * read it): it is delivered or dropped, never changed. */
	if (as_is || ((size_t)n == m->payload_len && !memcmp(w->buf, payload, (size_t)n)))
		return deliver_as_is(w, frame, len, m, ret_l3, ret_len);
	return deliver_changed(w, frame, m, (size_t)n, ret_l3, ret_len);
}

/* A packet of a connection added or changed since the last sync: sync
 * now, at most once per FORCED_SYNC_NS whatever the packet rate. Outside
 * any read-side section (the sync waits for a grace period). */
void conns_forced_sync(struct xi_engine_conns *t, uint64_t now_ns)
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
	struct econn *c = conns_find(view_get(w->table), meta->conn_id);

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

	*ret_bad_meta = !conns_meta_valid(meta, len);
	if (*ret_bad_meta)
		return -EBADMSG;
	rcu_read_lock();
	if (!conn_runs(conns_find(view_get(t), meta->conn_id), meta) &&
	    meta->now_ns - __atomic_load_n(&t->forced_sync_ns, __ATOMIC_RELAXED) >= FORCED_SYNC_NS) {
		read_end(t);
		conns_forced_sync(t, meta->now_ns);
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
	ret->rtp_resent = LOAD(t->stats.rtp_resent);
	ret->rtp_resend_failed = LOAD(t->stats.rtp_resend_failed);
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
