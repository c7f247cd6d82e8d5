// SPDX-License-Identifier: MIT
/*
 * Reading the counters back. Every stage whose descriptor has a stats schema
 * keeps per (connection, SSRC) values in a map of its own; an operator wants
 * them side by side, so the entries of all those maps are merged by key and
 * each stage names its fields. The reason counters are per CPU and summed;
 * the loss counters (xi_losses) are one array the AF_XDP engine adds to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/dataplane.h>
#include <xicept/plugin.h>

#include "user/dataplane/internal.h"
#include "user/dataplane/plugin_stage.h"

static const char *const reason_names[] = { XI_REASONS(XI_LIST_NAME) };

_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == XI_REASON__MAX,
	       "every enum xi_reason needs a name");

size_t xi_reason_count(void)
{
	return XI_REASON__MAX;
}

const char *xi_reason_name(size_t reason)
{
	return reason < XI_REASON__MAX ? reason_names[reason] : NULL;
}

static const char *const loss_names[] = { XI_LOSSES(XI_LIST_NAME) };

_Static_assert(sizeof(loss_names) / sizeof(loss_names[0]) == XI_LOSS__MAX,
	       "every enum xi_loss needs a name");

size_t xi_loss_count(void)
{
	return XI_LOSS__MAX;
}

const char *xi_loss_name(size_t loss)
{
	return loss < XI_LOSS__MAX ? loss_names[loss] : NULL;
}

/* A plain array: only the engine writes it, once per tick. */
int xi_dataplane_losses(struct xi_dataplane *dp, uint64_t *counts, size_t n)
{
	if (!dp || !counts || n < XI_LOSS__MAX)
		return -EINVAL;
	for (__u32 i = 0; i < XI_LOSS__MAX; i++) {
		__u64 v;

		if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_LOSSES], &i, &v))
			return -errno;
		counts[i] = v;
	}
	return 0;
}

int xi_dataplane_reasons(struct xi_dataplane *dp, uint64_t *counts, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (!dp || !counts || n < XI_REASON__MAX)
		return -EINVAL;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < XI_REASON__MAX; i++) {
		if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_REASONS], &i, vals)) {
			int r = -errno;

			free(vals);
			return r;
		}
		counts[i] = 0;
		for (int c = 0; c < ncpu; c++)
			counts[i] += vals[c];
	}
	free(vals);
	return 0;
}

void xi_ssrc_stats_set(struct xi_ssrc_stats *s, const char *name, int64_t value)
{
	if (s->n_fields < XI_SSRC_STATS_FIELDS_MAX)
		s->fields[s->n_fields++] = (struct xi_stat_field){ .name = name, .value = value };
}

int xi_ssrc_stats_find(const struct xi_ssrc_stats *s, const char *name, int64_t *ret)
{
	for (size_t i = 0; s && name && i < s->n_fields; i++)
		if (!strcmp(s->fields[i].name, name)) {
			if (ret)
				*ret = s->fields[i].value;
			return 0;
		}
	return -ENOENT;
}

int64_t xi_ssrc_stats_get(const struct xi_ssrc_stats *s, const char *name)
{
	int64_t v = 0;

	xi_ssrc_stats_find(s, name, &v);
	return v;
}

/* The (conn, ssrc) keys of every stats map, sorted and unique. */
struct key_vec {
	struct xi_stream_key *v;
	size_t n, cap;
};

static int key_push(struct key_vec *kv, const struct xi_stream_key *key)
{
	if (kv->n == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 16;
		struct xi_stream_key *v = realloc(kv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		kv->v = v;
		kv->cap = cap;
	}
	kv->v[kv->n++] = *key;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct xi_stream_key *x = a, *y = b;

	if (x->conn_id != y->conn_id)
		return x->conn_id < y->conn_id ? -1 : 1;
	return x->ssrc < y->ssrc ? -1 : x->ssrc > y->ssrc;
}

static void keys_unique(struct key_vec *kv)
{
	size_t out = 0;

	if (kv->n)
		qsort(kv->v, kv->n, sizeof(*kv->v), key_cmp);
	for (size_t i = 0; i < kv->n; i++)
		if (!out || key_cmp(&kv->v[out - 1], &kv->v[i]))
			kv->v[out++] = kv->v[i];
	kv->n = out;
}

/* A stage's schemas: its stats, then its stats2. */
static const struct xi_stage_stats *schema_at(const struct xi_stage *d, unsigned k)
{
	return k == 0 ? d->stats : k == 1 ? d->stats2 : NULL;
}

static int stats_fd(struct xi_dataplane *dp, const struct xi_stage *d,
		    const struct xi_stage_stats *st)
{
	return xi_dataplane_stage_fd(dp, d->slot, st->map);
}

static int keys_collect(struct xi_dataplane *dp, uint32_t conn, struct key_vec *kv)
{
	const struct xi_stage *d;
	const struct xi_stage_stats *st;
	struct xi_stream_key key;

	for (size_t i = 0; (d = xi_dataplane_stage_at(dp, i)); i++)
		for (unsigned k = 0; k < 2; k++) {
			int fd;

			if (!(st = schema_at(d, k)))
				continue;
			fd = stats_fd(dp, d, st);
			if (fd < 0)
				return fd;
			for (int e = bpf_map_get_next_key(fd, NULL, &key); !e;
			     e = bpf_map_get_next_key(fd, &key, &key))
				if ((conn == XI_CONN_ANY || key.conn_id == conn) && key_push(kv, &key))
					return -ENOMEM;
		}
	keys_unique(kv);
	return 0;
}

/* One schema's fields of one key; zeros when the stage has no entry for it
 * (absent true). With only_present, a stage without an entry adds nothing
 * and says so in *absent. */
static int stage_fields(struct xi_dataplane *dp, const struct xi_stage *d,
			const struct xi_stage_stats *st, const struct xi_stream_key *key,
			void *value, struct xi_ssrc_stats *s, bool only_present, bool *absent)
{
	size_t first = s->n_fields;
	int r = 0;

	/* BPF_F_LOCK: a consistent copy while packets update it. */
	if (st->percpu)
		r = xi_percpu_sum(stats_fd(dp, d, st), key, value, st->value_size / 8);
	else if (bpf_map_lookup_elem_flags(stats_fd(dp, d, st), key, value,
					   st->locked ? BPF_F_LOCK : 0))
		r = -errno;
	*absent = r == -ENOENT;
	if (r == -ENOENT && only_present)
		return 0;
	if (r == -ENOENT)
		memset(value, 0, st->value_size);
	else if (r)
		return r;
	st->fields(value, s);
	for (size_t i = first; i < s->n_fields; i++)
		s->fields[i].stage = d->name;
	if (r != -ENOENT && st->local)
		s->local = true;
	return 0;
}

/* value has room for the largest stats value of any stage. The fields of
 * stages that count this key come first, then the zeros of those that do
 * not: two stages may name a field alike (ssrc-filter's and a plugin's
 * "dropped"), and xi_ssrc_stats_find returns the first. */
static int stats_fill(struct xi_dataplane *dp, const struct xi_stream_key *key, void *value,
		      struct xi_ssrc_stats *s)
{
	const struct xi_stage *d;
	const struct xi_stage_stats *st;
	uint64_t absent = 0;
	bool a;
	int r = 0;

	memset(s, 0, sizeof(*s));
	s->conn_id = key->conn_id;
	s->ssrc = key->ssrc;
	/* Bit 2i + k: schema k of stage i had no entry for the key. */
	for (size_t i = 0; !r && (d = xi_dataplane_stage_at(dp, i)); i++)
		for (unsigned k = 0; !r && k < 2; k++) {
			size_t bit = i * 2 + k;

			if (!(st = schema_at(d, k)))
				continue;
			r = stage_fields(dp, d, st, key, value, s, bit < 64, &a);
			if (a && bit < 64)
				absent |= 1ull << bit;
		}
	for (size_t i = 0; !r && i < 32 && (d = xi_dataplane_stage_at(dp, i)); i++)
		for (unsigned k = 0; !r && k < 2; k++)
			if ((st = schema_at(d, k)) && (absent & (1ull << (i * 2 + k))))
				r = stage_fields(dp, d, st, key, value, s, false, &a);
	return r;
}

size_t xi_dataplane_stat_defs(const struct xi_dataplane *dp, const struct xi_stat_def **defs,
			      bool *local, size_t cap)
{
	const struct xi_stage *d;
	const struct xi_stage_stats *st;
	size_t n = 0;

	for (size_t a = 0; (d = xi_dataplane_stage_at(dp, a)); a++)
		for (unsigned k = 0; k < 2; k++)
			for (size_t f = 0; (st = schema_at(d, k)) && st->schema &&
					   st->schema[f].name && n < cap; f++) {
				bool seen = false;

				/* Each name once: the first stage's (see stats_fill). */
				for (size_t m = 0; m < n && !seen; m++)
					seen = !strcmp(defs[m]->name, st->schema[f].name);
				if (seen)
					continue;
				if (local)
					local[n] = st->local;
				defs[n++] = &st->schema[f];
			}
	return n;
}

static size_t stats_value_max(const struct xi_dataplane *dp)
{
	const struct xi_stage *d;
	const struct xi_stage_stats *st;
	size_t max = 0;

	for (size_t i = 0; (d = xi_dataplane_stage_at(dp, i)); i++)
		for (unsigned k = 0; k < 2; k++)
			if ((st = schema_at(d, k)) && st->value_size > max)
				max = st->value_size;
	return max;
}

int xi_dataplane_ssrc_stats(struct xi_dataplane *dp, uint32_t conn_id,
			    struct xi_ssrc_stats **ret, size_t *ret_n)
{
	struct key_vec kv = { 0 };
	struct xi_ssrc_stats *v = NULL;
	void *value = NULL;
	int r;

	if (!dp || !ret || !ret_n)
		return -EINVAL;
	r = keys_collect(dp, conn_id, &kv);
	if (!r && kv.n && (!(v = calloc(kv.n, sizeof(*v))) ||
			   !(value = malloc(stats_value_max(dp)))))
		r = -ENOMEM;
	for (size_t i = 0; !r && i < kv.n; i++)
		r = stats_fill(dp, &kv.v[i], value, &v[i]);
	free(value);
	free(kv.v);
	if (r) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = kv.n;
	return 0;
}
