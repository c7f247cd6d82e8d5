// SPDX-License-Identifier: MIT
/*
 * Packets leaving (TC egress, through the tap): a copy of what the
 * application sent on a local stream is written to that stream's writer,
 * so that interceptors such as sender-report and nack-responder see it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include <urcu-bp.h>

#include "user/engine/conns_internal.h"

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
	if (!conns_meta_valid(m, len)) {
		W_INC(w, observe_errors);
		return -EBADMSG;
	}
	rcu_read_lock();
	c = conns_find(view_get(t), m->conn_id);
	if (!c && m->now_ns - __atomic_load_n(&t->forced_sync_ns, __ATOMIC_RELAXED) >= FORCED_SYNC_NS) {
		read_end(t);
		conns_forced_sync(t, m->now_ns);
		rcu_read_lock();
		c = conns_find(view_get(t), m->conn_id);
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
		conns_peer_learn(c, m, 0, frame, true);
	r = conns_attrs_fill(&w->attrs, m, frame, len, len, c->srtp_tag_out);
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
