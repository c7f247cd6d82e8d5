// SPDX-License-Identifier: MIT
/*
 * A connection's chain changed while its packets flow (`xicept conn
 * set-chain`, `apply`), with no packet lost and each packet running the whole
 * old chain or the whole new one.
 *
 * The XDP part: xi_conns holds two banks per connection (struct xi_conn in
 * abi.h). The new chain's stage list goes into the bank no packet reads,
 * one byte (bank) flips, and an RCU grace period passes before that bank may
 * be written again, so xi_entry, which reads bank once and then that bank
 * alone, copies one whole chain into the packet's scratch. Each bank carries
 * its chain's version, which every packet takes to the end of its XDP chain
 * (xi_chain_runs counts them by version and stages run) and to userspace.
 *
 * State: per-stream state lives in the stages' maps keyed by connection and
 * SSRC, not in the chain, so whatever a stage of both chains keeps
 * (header-stats: counters, RFC 3550 sequence state and jitter; ssrc-filter:
 * its drop counters) goes on across the switch. A stage only the old chain
 * has loses its entries after the switch; a stage only the new one has starts
 * from nothing. The configuration of an XDP stage in both chains cannot
 * change in the same switch (it is read per packet, not per chain version):
 * that is refused, and takes two switches. Userspace elements are built anew
 * by `xicept run` for the new version, with fresh state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/dataplane.h>
#include <xicept/registry.h>
#include <xicept/stream.h>

#include "user/dataplane/chain.h"
#include "user/dataplane/internal.h"
#include "user/dataplane/swap.h"

/* Bank 0 (the value's own fields, copied into tmp) or 1 (alt): bank_set's
 * twin. */
static const struct xi_conn_bank *bank_get(const struct xi_conn *c, int bank,
					   struct xi_conn_bank *tmp)
{
	if (bank)
		return &c->alt;
	memset(tmp, 0, sizeof(*tmp));
	tmp->version = c->version;
	tmp->n_stages = c->n_stages;
	tmp->verdict = c->verdict;
	tmp->flags = c->flags;
	memcpy(tmp->stages, c->stages, sizeof(tmp->stages));
	return tmp;
}

const struct xi_conn_bank *xi_conn_bank_active(const struct xi_conn *c, struct xi_conn_bank *tmp)
{
	return bank_get(c, c->bank, tmp);
}

static void bank_set(struct xi_conn *c, int bank, const struct xi_conn_bank *b)
{
	if (bank) {
		c->alt = *b;
		return;
	}
	c->version = b->version;
	c->n_stages = b->n_stages;
	c->verdict = b->verdict;
	c->flags = b->flags;
	memcpy(c->stages, b->stages, sizeof(c->stages));
}

int xi_rcu_grace(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	__u32 zero = 0;
	int inner, outer, r = 0;

	/* The kernel waits for a grace period (synchronize_rcu) after every
	 * update of a map-in-map, so that the caller knows no program still
	 * uses the old value: the one wait userspace can ask for. */
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xi_grace_in", 4, 4, 1, NULL);
	if (inner < 0)
		return -errno;
	o.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "xi_grace", 4, 4, 1, &o);
	if (outer < 0 || bpf_map_update_elem(outer, &zero, &inner, BPF_ANY))
		r = -errno;
	if (outer >= 0)
		close(outer);
	close(inner);
	return r;
}

/* Bit per slot of the first k stages a bank runs: the stages_mask of its
 * packets that ran k stages. */
static uint32_t bank_prefix_slots(const struct xi_conn_bank *b, unsigned k)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < k && i < b->n_stages && i < XI_CHAIN_STAGES_MAX; i++)
		m |= 1u << (b->stages[i] & 31);
	return m;
}

static struct xi_chain_tally *tally_alloc(int *ret_ncpu)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return NULL;
	*ret_ncpu = ncpu;
	return calloc((size_t)ncpu, sizeof(struct xi_chain_tally));
}

/* Packets of the slot that ran k stages, over every CPU. */
static uint64_t tally_sum(const struct xi_chain_tally *t, int ncpu, unsigned k)
{
	uint64_t sum = 0;

	for (int c = 0; c < ncpu; c++)
		sum += t[c].runs[k];
	return sum;
}

int xi_dataplane_chain_tally_reset(struct xi_dataplane *dp, uint32_t conn_id, uint32_t version)
{
	struct xi_chain_tally *t;
	int ncpu, r = 0;

	t = tally_alloc(&ncpu);
	if (!t)
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++)
		t[c].version = version;
	if (bpf_map_update_elem(dp->map_fds[XI_MAP_CHAIN_TALLY], &conn_id, t, BPF_ANY))
		r = -errno;
	free(t);
	return r;
}

/* Moves the slot's counts of the old version (its chain: ob) into
 * xi_chain_runs and gives the slot to the new version. After the grace
 * period no packet of the old version is in flight: nothing else writes
 * either. */
static int chain_tally_harvest(struct xi_dataplane *dp, uint32_t id,
			       const struct xi_conn_bank *ob, uint32_t version)
{
	int fd = dp->map_fds[XI_MAP_CHAIN_RUNS], ncpu, r = 0;
	struct xi_chain_tally *t = tally_alloc(&ncpu);
	uint64_t *v = NULL;

	if (!t)
		return -ENOMEM;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v) {
		free(t);
		return -ENOMEM;
	}
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CHAIN_TALLY], &id, t))
		r = -errno;
	for (unsigned k = 0; !r && t[0].version == ob->version && k <= XI_CHAIN_STAGES_MAX; k++) {
		struct xi_chain_run_key key = {
			.conn_id = id, .version = ob->version,
			.stages_mask = bank_prefix_slots(ob, k),
		};
		if (!tally_sum(t, ncpu, k))
			continue;
		if (bpf_map_lookup_elem(fd, &key, v))
			memset(v, 0, (size_t)ncpu * sizeof(*v));
		for (int c = 0; c < ncpu; c++)
			v[c] += t[c].runs[k];
		if (bpf_map_update_elem(fd, &key, v, BPF_ANY))
			r = -errno;
	}
	free(v);
	free(t);
	if (!r)
		r = xi_dataplane_chain_tally_reset(dp, id, version);
	return r;
}

/* A harvest that failed at the last switch (set-chain below) left the slot
 * with the version before the current one, whose bank is still the other
 * one: its counts move now, before the swap overwrites that bank, and the
 * slot goes to the current version (whose packets meanwhile went to the
 * hash; the reader merges both). */
static int chain_tally_catch_up(struct xi_dataplane *dp, uint32_t id)
{
	struct xi_conn c;
	struct xi_conn_bank ta, to;
	const struct xi_conn_bank *a, *o;
	struct xi_chain_tally *t;
	int ncpu, r = 0;

	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &c) || c.conn_id != id)
		return 0;
	a = bank_get(&c, c.bank, &ta);
	o = bank_get(&c, !c.bank, &to);
	t = tally_alloc(&ncpu);
	if (!t)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CHAIN_TALLY], &id, t))
		r = -errno;
	else if (t[0].version && t[0].version == o->version && o->version != a->version)
		r = chain_tally_harvest(dp, id, o, a->version);
	free(t);
	return r;
}

int xi_dataplane_chain_runs_delete(struct xi_dataplane *dp, uint32_t conn_id, uint32_t below)
{
	struct xi_chain_run_key k, *keys = NULL, *nk;
	int fd = dp->map_fds[XI_MAP_CHAIN_RUNS];
	size_t n = 0;

	if (fd < 0)
		return 0;
	for (int e = bpf_map_get_next_key(fd, NULL, &k); !e; e = bpf_map_get_next_key(fd, &k, &k)) {
		if (k.conn_id != conn_id || k.version >= below)
			continue;
		nk = realloc(keys, (n + 1) * sizeof(*keys));
		if (!nk) {
			free(keys);
			return -ENOMEM;
		}
		keys = nk;
		keys[n++] = k;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
	free(keys);
	return (int)n;
}

static int runs_append(struct xi_chain_run **v, size_t *n, struct xi_chain_run run)
{
	struct xi_chain_run *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = run;
	return 0;
}

/* Connection c's slot (t: a buffer of every CPU's) as entries of v, each
 * added to the hash's entry of the same key if there is one. The slot's
 * version is one of the connection's two banks. */
static int tally_runs(struct xi_dataplane *dp, uint32_t c, struct xi_chain_tally *t, int ncpu,
		      struct xi_chain_run **v, size_t *n)
{
	const struct xi_conn_bank *b;
	struct xi_conn_bank tmp;
	struct xi_conn cv;
	int r = 0;

	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &c, &cv) || cv.conn_id != c ||
	    bpf_map_lookup_elem(dp->map_fds[XI_MAP_CHAIN_TALLY], &c, t) || !t[0].version)
		return 0;
	/* Either bank. */
	b = bank_get(&cv, 0, &tmp);
	if (b->version != t[0].version)
		b = bank_get(&cv, 1, &tmp);
	for (unsigned k = 0; !r && b->version == t[0].version && k <= XI_CHAIN_STAGES_MAX; k++) {
		uint32_t mask = bank_prefix_slots(b, k);
		uint64_t sum = tally_sum(t, ncpu, k);
		size_t i;

		if (!sum)
			continue;
		for (i = 0; i < *n; i++)
			if ((*v)[i].conn_id == c && (*v)[i].version == t[0].version &&
			    (*v)[i].stages_mask == mask)
				break;
		if (i < *n)
			(*v)[i].packets += sum;
		else
			r = runs_append(v, n, (struct xi_chain_run){ .conn_id = c,
					.version = t[0].version, .stages_mask = mask, .packets = sum });
	}
	return r;
}

int xi_dataplane_chain_runs(struct xi_dataplane *dp, uint32_t conn_id,
			    struct xi_chain_run **ret, size_t *ret_n)
{
	struct xi_chain_run_key k;
	struct xi_chain_run *v = NULL;
	int fd, r = 0;
	size_t n = 0;

	if (!dp || !ret || !ret_n)
		return -EINVAL;
	fd = dp->map_fds[XI_MAP_CHAIN_RUNS];
	for (int e = bpf_map_get_next_key(fd, NULL, &k); !e; e = bpf_map_get_next_key(fd, &k, &k)) {
		uint64_t packets;

		if (conn_id != XI_CONN_ANY && k.conn_id != conn_id)
			continue;
		r = xi_percpu_sum(fd, &k, &packets, 1);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r)
			break;
		r = runs_append(&v, &n, (struct xi_chain_run){ .conn_id = k.conn_id,
				.version = k.version, .stages_mask = k.stages_mask, .packets = packets });
		if (r)
			break;
	}
	/* The slots: the current versions' counts, merged into the entries of
	 * the same key. One buffer of every CPU's slot serves each connection;
	 * the connections are xi_conn_meta's keys. */
	int ncpu = 0;
	struct xi_chain_tally *t = r ? NULL : tally_alloc(&ncpu);
	uint32_t c;

	if (!r && !t)
		r = -ENOMEM;
	if (!r && conn_id != XI_CONN_ANY)
		r = tally_runs(dp, conn_id, t, ncpu, &v, &n);
	fd = dp->map_fds[XI_MAP_CONN_META];
	for (int e = !r && conn_id == XI_CONN_ANY ? bpf_map_get_next_key(fd, NULL, &c) : -1;
	     !e && !r; e = bpf_map_get_next_key(fd, &c, &c))
		r = tally_runs(dp, c, t, ncpu, &v, &n);
	free(t);
	if (r) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int xi_dataplane_conn_version(struct xi_dataplane *dp, uint32_t id, uint32_t *ret)
{
	struct xi_conn_bank tmp;
	struct xi_conn c;

	if (!dp || !ret)
		return -EINVAL;
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &c))
		return errno == E2BIG ? -ENOENT : -errno;
	if (c.conn_id != id)
		return -ENOENT;
	*ret = xi_conn_bank_active(&c, &tmp)->version;
	return 0;
}

/* Bit per slot of the stages a bank runs. */
static uint32_t bank_slots(const struct xi_conn_bank *b)
{
	return bank_prefix_slots(b, XI_CHAIN_STAGES_MAX);
}

/* Each XDP element of the new chain's prefix whose factory is also in the
 * old chain's prefix must have the same configuration there: compared on the
 * parsed forms, one element formatted at a time. */
static int config_check(const struct xi_chain_desc *od, const struct xi_chain *old,
			const struct xi_chain_desc *nd, const struct xi_chain *new,
			struct xi_err *err)
{
	size_t op = xi_chain_xdp_prefix(old), np = xi_chain_xdp_prefix(new);
	char a[XI_CHAIN_TEXT_MAX], b[XI_CHAIN_TEXT_MAX];
	struct xi_chain_desc *one = calloc(1, sizeof(*one));
	int r = one ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < np && i < nd->n; i++)
		for (size_t j = 0; !r && j < op && j < od->n; j++) {
			if (xi_chain_factory(new, i) != xi_chain_factory(old, j))
				continue;
			one->n = 1;
			one->elems[0] = od->elems[j];
			xi_chain_desc_format(one, a, sizeof(a));
			one->elems[0] = nd->elems[i];
			xi_chain_desc_format(one, b, sizeof(b));
			if (strcmp(a, b))
				r = xi_err_set(err, -EBUSY,
					       "%s: its configuration differs from the running chain's "
					       "('%s'); an XDP stage in both chains keeps it (switch to a "
					       "chain without it first)", nd->elems[i].name, a);
		}
	free(one);
	return r;
}

/* The chain this handle built for id, if any, closed (KEEP) and forgotten:
 * conn_del rebuilds from the meta. */
static void conns_forget(struct xi_dataplane *dp, uint32_t id)
{
	for (size_t i = 0; i < dp->n_conns; i++)
		if (dp->conns[i].id == id) {
			xi_chain_close(dp->conns[i].chain, NULL);
			dp->conns[i] = dp->conns[--dp->n_conns];
			return;
		}
}

/* The flip: the new bank first, then the byte that selects it, then a grace
 * period so that no packet still reads the old bank. */
static int banks_swap(struct xi_dataplane *dp, uint32_t id, struct xi_conn_bank *nb,
		      struct xi_conn_bank *ret_old, struct xi_err *err)
{
	int fd = dp->map_fds[XI_MAP_CONNS], r;
	struct xi_conn_bank t;
	struct xi_conn c;
	int b;

	if (bpf_map_lookup_elem(fd, &id, &c) || c.conn_id != id)
		return xi_err_set(err, -ENOENT, "no connection %u", id);
	b = c.bank ? 1 : 0;
	*ret_old = *xi_conn_bank_active(&c, &t);
	nb->version = ret_old->version + 1;
	bank_set(&c, !b, nb);
	if (bpf_map_update_elem(fd, &id, &c, BPF_EXIST))
		return xi_err_set(err, -errno, "writing connection %u: %s", id, strerror(errno));
	c.bank = !b;
	if (bpf_map_update_elem(fd, &id, &c, BPF_EXIST))
		return xi_err_set(err, -errno, "writing connection %u: %s", id, strerror(errno));
	r = xi_rcu_grace();
	if (r)
		return xi_err_set(err, r, "waiting for a grace period: %s", strerror(-r));
	return 0;
}

int xi_dataplane_conn_set_chain(struct xi_dataplane *dp, uint32_t id, const char *text,
				uint32_t *ret_version, struct xi_err *err)
{
	struct xi_chain *old = NULL, *new = NULL;
	struct xi_chain_plan np = { 0 }, op = { 0 };
	struct xi_conn_bank nb = { 0 }, ob;
	struct xi_conn tmp = { 0 }, cur;
	struct xi_conn_meta meta;
	int r;

	if (!dp || !text)
		return xi_err_set(err, -EINVAL, "no interface or no chain given");
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONN_META], &id, &meta))
		return xi_err_set(err, -ENOENT, "no connection %u", id);
	if (strlen(text) >= XI_CONN_META_CHAIN_MAX)
		return xi_err_set(err, -E2BIG, "chain text longer than %d bytes",
				  XI_CONN_META_CHAIN_MAX - 1);
	meta.chain[XI_CONN_META_CHAIN_MAX - 1] = '\0';
	if (!strcmp(meta.chain, text))   /* the same chain: nothing to switch */
		return ret_version ? xi_dataplane_conn_version(dp, id, ret_version) : 0;
	/* Everything checked before anything is written. Each text is parsed
	 * once; the new chain is built twice, without writes for the checks and
	 * with them once they passed. An old chain that no longer builds (a
	 * factory gone) has nothing to compare. */
	r = xi_chain_plan_make(dp, text, &np, err);
	if (!r)
		r = xi_chain_plan_build(dp, id, &np, 0, &new, err);
	if (!r)
		r = xi_dataplane_conn_value_make(dp, new, &tmp, err);
	if (!r && bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &cur) == 0 &&
	    cur.srtp_profiles)
		r = xi_dataplane_chain_srtp_check(new, err);
	if (!r && xi_chain_plan_make(dp, meta.chain, &op, NULL) == 0 &&
	    xi_chain_plan_build(dp, id, &op, 0, &old, NULL) == 0)
		r = config_check(op.desc, old, np.desc, new, err);
	xi_chain_close(old, NULL);
	xi_chain_close(new, NULL);
	xi_chain_plan_free(&op);
	new = NULL;
	if (r) {
		xi_chain_plan_free(&np);
		return r;
	}
	r = chain_tally_catch_up(dp, id);
	if (r) {
		xi_chain_plan_free(&np);
		return xi_err_set(err, r, "moving connection %u's chain counts: %s", id,
				  strerror(-r));
	}
	nb.n_stages = tmp.n_stages;
	nb.verdict = tmp.verdict;
	nb.flags = tmp.flags;
	memcpy(nb.stages, tmp.stages, sizeof(nb.stages));
	/* The new chain's configuration and per-stream entries: stages the old
	 * chain also has write what is there already (config_check). */
	r = xi_chain_plan_build(dp, id, &np, XI_BUILD_WRITE_STATE, &new, err);
	xi_chain_plan_free(&np);
	if (!r)
		r = xi_dataplane_streams_bind(new, &meta, err);
	if (new)
		xi_chain_close(new, NULL);
	if (!r)
		r = banks_swap(dp, id, &nb, &ob, err);
	if (r) {
		struct xi_conn c;
		struct xi_conn_bank t;

		/* Undo what only the new chain's stages wrote. */
		if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &c) == 0)
			xi_dataplane_stages_sweep(dp, id, bank_slots(&nb) &
					     ~bank_slots(xi_conn_bank_active(&c, &t)));
		return r;
	}
	memset(meta.chain, 0, sizeof(meta.chain));
	strcpy(meta.chain, text);
	if (bpf_map_update_elem(dp->map_fds[XI_MAP_CONN_META], &id, &meta, BPF_EXIST))
		return xi_err_set(err, -errno, "writing connection %u's spec: %s", id,
				  strerror(errno));
	/* No packet reads the old bank any more: what only its stages kept goes. */
	xi_dataplane_stages_sweep(dp, id, bank_slots(&ob) & ~bank_slots(&nb));
	/* The slot's counts of the old version join the hash's. Should that
	 * fail, they stay in the slot, reported, and the next switch moves
	 * them first (chain_tally_catch_up): the switch itself is done. */
	chain_tally_harvest(dp, id, &ob, nb.version);
	/* The counts of the last 16 versions stay. */
	if (nb.version > 16)
		xi_dataplane_chain_runs_delete(dp, id, nb.version - 15);
	conns_forget(dp, id);
	if (ret_version)
		*ret_version = nb.version;
	return 0;
}
