// SPDX-License-Identifier: MIT
/*
 * The engine's connections (see user/engine/conns.h). Each connection of the
 * pinned table gets its chain built here with the interface's dataplane, so
 * XDP-kind elements placed after a userspace one run their C twins against
 * the same maps XDP uses, and is bound from xi_chain_xdp_prefix(): exactly
 * the position xi_to_user reports, since both come from the same chain text.
 *
 * This file holds the table and its sync; user/engine/conns_internal.h
 * lists the others (the innermost reader and writer, one connection,
 * packets arriving, packets leaving).
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
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-bp.h>

#include "user/dataplane/swap.h"
#include "user/engine/conns_internal.h"

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

struct econn *conns_find(const struct conn_view *view, uint32_t id)
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
	struct econn *old = conns_find(t->view, id);
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
		struct econn *c = old->v[i], *now = conns_find(next, c->id);

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

int conns_sync_locked(struct xi_engine_conns *t)
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
			next->v[k] = conns_find(old, ids[i]);
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
