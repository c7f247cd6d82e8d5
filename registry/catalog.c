// SPDX-License-Identifier: MIT
/*
 * The name-keyed catalog of factories, in the manner of the kernel's
 * congestion-control registry: readers walk an RCU-published snapshot and
 * never block; writers serialize on a mutex, publish a new snapshot and wait
 * for a grace period before freeing the old one. Entries are refcounted
 * (entry.c), so a replaced factory lives until the last chain built from it
 * closes.
 *
 * This file is the entries' life in one catalog: snapshots, register,
 * replace, unregister, hooks, lookups and their counters. Suggestions, chain
 * building and the global list sit beside it (catalog_*.c).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-bp.h>

#include <xicept/catalog.h>
#include <xicept/config.h>

#include "registry/catalog_internal.h"
#include "registry/config_internal.h"
#include "registry/entry_internal.h"
#include "user/lib/clock.h"
#include "user/lib/tsan.h"

/* The grace period, as TSan sees it: user/lib/tsan.h. */

/* Misses by name are a diagnostic: bound what a stream of bad names costs. */
#define MISS_SLOTS    256
#define MISS_NAME_MAX 128

/* Immutable once published: sorted by name. */
struct snapshot {
	size_t n;
	struct xi_catalog_entry *e[];
};

struct hook {
	xi_catalog_hook_fn fn;
	void *user;
};

/* How long the successful ones of a kind of call took: not cumulative, by
 * the buckets of build_bucket_ns, and their sum. Atomics only. */
struct timing {
	uint64_t buckets[XI_BUILD_BUCKETS];
	uint64_t ns_total;
};

enum miss_state { MISS_FREE, MISS_CLAIMED, MISS_READY };

/* Claimed with a CAS and published with a release store, never freed before
 * the catalog: readers count misses without a lock. */
struct miss_slot {
	unsigned char state;    /* enum miss_state */
	char name[MISS_NAME_MAX];
	uint64_t n;
};

struct xi_catalog {
	struct snapshot *snap;          /* published with release, read with acquire */
	char gp;                        /* TSan's stand-in for the grace period */
	pthread_mutex_t lock;           /* writers */
	bool frozen;
	/* Taken before the writer lock is dropped, so hooks run outside it yet
	 * see events in the order the changes were made. */
	pthread_mutex_t notify_lock;
	struct hook *hooks;
	size_t n_hooks;
	struct miss_slot *misses;       /* MISS_SLOTS, open addressing */
	/* Touched by readers: atomics only. */
	uint64_t lookups, n_missed, registrations;
	uint64_t builds, build_failures, build_ns_max;
	struct timing build_time, register_time;
};

/*
 * The catalogs whose hooks are running on this thread, innermost first. A
 * change to any of them would wait for its own notify_lock: with one frame
 * only, a hook on A changing B whose hook changes A would hang.
 */
struct hook_frame {
	const struct xi_catalog *cat;
	const struct hook_frame *outer;
};

static __thread const struct hook_frame *hook_frames;

static bool in_hooks_of(const struct xi_catalog *cat)
{
	for (const struct hook_frame *fr = hook_frames; fr; fr = fr->outer) {
		if (fr->cat == cat)
			return true;
	}
	return false;
}

static void count(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static uint64_t counter(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Upper bounds of the buckets of struct timing, in ns; the last bucket has none. */
static const uint64_t build_bucket_ns[XI_BUILD_BUCKETS - 1] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000,
};

static size_t build_bucket(uint64_t ns)
{
	size_t i = 0;

	while (i < XI_BUILD_BUCKETS - 1 && ns > build_bucket_ns[i])
		i++;
	return i;
}

static void timing_count(struct timing *t, uint64_t ns)
{
	count(&t->buckets[build_bucket(ns)], 1);
	count(&t->ns_total, ns);
}

static void timing_read(const struct timing *t, uint64_t counts[XI_BUILD_BUCKETS])
{
	for (size_t i = 0; i < XI_BUILD_BUCKETS; i++)
		counts[i] = t ? counter(&t->buckets[i]) : 0;
}

/* ---- factories ---- */

static bool name_valid(const char *name)
{
	size_t i;

	if (!name || name[0] < 'a' || name[0] > 'z')
		return false;
	for (i = 1; name[i]; i++) {
		char c = name[i];

		if (i + 1 >= XI_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

int xi_factory_check(const struct xi_factory *f, struct xi_err *err)
{
	if (!f)
		return xi_err_set(err, -EINVAL, "no factory");
	if (!name_valid(f->name))
		return xi_err_set(err, -EINVAL,
				  "interceptor name '%s' is not [a-z][a-z0-9-]* shorter than %d",
				  f->name ? f->name : "(null)", XI_NAME_MAX);
	if (!f->new_interceptor)
		return xi_err_set(err, -EINVAL, "%s: no new_interceptor", f->name);
	if (f->kind != XI_KIND_USERSPACE && f->kind != XI_KIND_XDP)
		return xi_err_set(err, -EINVAL, "%s: unknown kind %d", f->name, (int)f->kind);
	return xi_config_check(f, err);
}

/* ---- snapshots ---- */

static struct snapshot *snapshot_new(size_t n)
{
	struct snapshot *s = malloc(sizeof(*s) + n * sizeof(s->e[0]));

	if (s)
		s->n = n;
	return s;
}

/* What a lookup names: a name and a version, UINT32_MAX for "the highest". */
struct entry_key {
	char name[XI_NAME_MAX];
	uint32_t version;
};

int xi_name_split(const char *text, char *name, bool *ret_versioned, unsigned *ret_major,
		  unsigned *ret_minor)
{
	const char *at = text ? strchr(text, '@') : NULL;
	size_t len = at ? (size_t)(at - text) : (text ? strlen(text) : 0);
	unsigned long v[2] = { 0, 0 };
	const char *p;

	if (!text || !name || len == 0 || len >= XI_NAME_MAX)
		return -EINVAL;
	memcpy(name, text, len);
	name[len] = '\0';
	if (ret_versioned)
		*ret_versioned = at != NULL;
	if (at) {
		p = at + 1;
		for (int i = 0; i < 2; i++) {
			char *end;

			if (*p < '0' || *p > '9')
				return -EINVAL;
			v[i] = strtoul(p, &end, 10);
			if (v[i] > 65535 || end - p > 5)
				return -EINVAL;
			p = end;
			if (i == 0 && *p++ != '.')
				return -EINVAL;
		}
		if (*p)
			return -EINVAL;
	}
	if (ret_major)
		*ret_major = (unsigned)v[0];
	if (ret_minor)
		*ret_minor = (unsigned)v[1];
	return 0;
}

static int entry_key_parse(const char *text, struct entry_key *ret)
{
	unsigned maj, min;
	bool versioned;
	int rc = xi_name_split(text, ret->name, &versioned, &maj, &min);

	if (rc)
		return rc;
	ret->version = versioned ? (uint32_t)maj << 16 | min : UINT32_MAX;
	return 0;
}

static void entry_key_of(const struct xi_factory *f, struct entry_key *ret)
{
	snprintf(ret->name, sizeof(ret->name), "%s", f->name);
	ret->version = xi_factory_version_u32(f);
}

/* Names ascending, versions descending: a name's highest version first. */
static int entry_key_cmp(const struct entry_key *k, const struct xi_catalog_entry *e)
{
	const struct xi_factory *f = xi_catalog_entry_factory(e);
	int c = strcmp(k->name, f->name);
	uint32_t v;

	if (c)
		return c;
	v = xi_factory_version_u32(f);
	return k->version > v ? -1 : k->version < v;
}

/*
 * The index of the first entry not before k, and in *ret_found whether it
 * is the entry k names: that exact version, or for UINT32_MAX the name's
 * highest one.
 */
static size_t snapshot_find(const struct snapshot *s, const struct entry_key *k,
			    bool *ret_found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_key_cmp(k, s->e[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_found = false;
	if (lo < s->n) {
		const struct xi_factory *f = xi_catalog_entry_factory(s->e[lo]);

		*ret_found = !strcmp(f->name, k->name) &&
			     (k->version == UINT32_MAX || k->version == xi_factory_version_u32(f));
	}
	return lo;
}

static struct snapshot *read_begin(struct xi_catalog *cat)
{
	urcu_bp_read_lock();
	return __atomic_load_n(&cat->snap, __ATOMIC_ACQUIRE);
}

static void read_end(struct xi_catalog *cat)
{
	tsan_release(&cat->gp);
	urcu_bp_read_unlock();
}

/* Writer lock held. Readers that still see the old snapshot are done with it
 * once synchronize returns. */
static void snapshot_publish(struct xi_catalog *cat, struct snapshot *next)
{
	struct snapshot *old = __atomic_load_n(&cat->snap, __ATOMIC_RELAXED);

	__atomic_store_n(&cat->snap, next, __ATOMIC_RELEASE);
	urcu_bp_synchronize_rcu();
	tsan_acquire(&cat->gp);
	free(old);
}

/* Writer lock held. Makes the snapshot with the change, publishes it, and
 * hands back the entry the catalog no longer holds. key names the entry to
 * register (its exact version), replace or unregister. */
static int snapshot_change(struct xi_catalog *cat, enum xi_catalog_event ev,
			   const struct entry_key *key, struct xi_catalog_entry *added,
			   struct xi_catalog_entry **ret_dropped)
{
	struct snapshot *old = cat->snap, *next;
	struct entry_key ak, bare;
	bool found;
	size_t drop = SIZE_MAX, put = 0, o = 0;
	size_t at = snapshot_find(old, key, &found);

	if (ev == XI_CATALOG_REGISTERED && found)
		return -EEXIST;
	if (ev == XI_CATALOG_REPLACED && !found) {
		/* No entry of this version: the name's highest one goes. */
		bare = *key;
		bare.version = UINT32_MAX;
		at = snapshot_find(old, &bare, &found);
	}
	if (ev != XI_CATALOG_REGISTERED && !found)
		return -ENOENT;
	if (ev != XI_CATALOG_REGISTERED)
		drop = at;
	next = snapshot_new(old->n + (ev == XI_CATALOG_REGISTERED) -
			    (ev == XI_CATALOG_UNREGISTERED));
	if (!next)
		return -ENOMEM;
	if (added) {
		entry_key_of(xi_catalog_entry_factory(added), &ak);
		put = snapshot_find(old, &ak, &found);
	}
	for (size_t i = 0; i <= old->n; i++) {
		if (added && i == put)
			next->e[o++] = added;
		if (i < old->n && i != drop)
			next->e[o++] = old->e[i];
	}
	if (drop != SIZE_MAX)
		*ret_dropped = old->e[drop];
	snapshot_publish(cat, next);
	return 0;
}

/* ---- hooks ---- */

/* notify_lock held. e: the entry changed, held by the catalog or the caller. */
static void hooks_run(struct xi_catalog *cat, enum xi_catalog_event ev,
		      struct xi_catalog_entry *e)
{
	struct hook_frame frame = { cat, hook_frames };

	hook_frames = &frame;
	for (size_t i = 0; i < cat->n_hooks; i++)
		cat->hooks[i].fn(cat, ev, e, cat->hooks[i].user);
	hook_frames = frame.outer;
}

int xi_catalog_on_change(struct xi_catalog *cat, xi_catalog_hook_fn fn, void *user)
{
	struct hook *hooks;

	if (!cat || !fn)
		return -EINVAL;
	if (in_hooks_of(cat))
		return -EDEADLK;
	pthread_mutex_lock(&cat->notify_lock);
	hooks = realloc(cat->hooks, (cat->n_hooks + 1) * sizeof(*hooks));
	if (hooks) {
		hooks[cat->n_hooks++] = (struct hook){ fn, user };
		cat->hooks = hooks;
	}
	pthread_mutex_unlock(&cat->notify_lock);
	return hooks ? 0 : -ENOMEM;
}

/* ---- writers ---- */

/*
 * Every change goes through here. Hooks run after the change is visible and
 * outside the writer lock; the entry that left the catalog is put last, so a
 * factory's release runs outside every lock too.
 */
static int catalog_change(struct xi_catalog *cat, enum xi_catalog_event ev,
			  const char *name, const struct xi_factory *f,
			  enum xi_origin_kind kind, const char *origin)
{
	struct xi_catalog_entry *added = NULL, *dropped = NULL;
	uint64_t start = xi_mono_ns();
	struct entry_key key;
	int rc;

	if (!cat || !name)
		return -EINVAL;
	if (in_hooks_of(cat))
		return -EDEADLK;
	if (f) {
		rc = xi_factory_check(f, NULL);
		if (!rc)
			rc = xi_entry_new(f, kind, origin, &added);
		if (rc)
			return rc;
		entry_key_of(f, &key);
	} else if (entry_key_parse(name, &key)) {
		return -ENOENT;
	}
	pthread_mutex_lock(&cat->lock);
	rc = cat->frozen ? -EBUSY : snapshot_change(cat, ev, &key, added, &dropped);
	if (rc) {
		pthread_mutex_unlock(&cat->lock);
		xi_entry_discard(added);        /* never published: f was never ours */
		return rc;
	}
	/* Timed to when lookups see it, hooks not included: they are the
	 * caller's time. */
	if (ev == XI_CATALOG_REGISTERED) {
		count(&cat->registrations, 1);
		timing_count(&cat->register_time, xi_mono_ns() - start);
	}
	pthread_mutex_lock(&cat->notify_lock);
	pthread_mutex_unlock(&cat->lock);
	/* An unregistered entry is still ours: it is put only after the hooks. */
	hooks_run(cat, ev, ev == XI_CATALOG_UNREGISTERED ? dropped : added);
	pthread_mutex_unlock(&cat->notify_lock);
	xi_catalog_entry_put(dropped);
	return 0;
}

static char program_path[256];

static void program_origin_init(void)
{
	ssize_t n = readlink("/proc/self/exe", program_path, sizeof(program_path) - 1);

	program_path[n > 0 ? n : 0] = '\0';
}

/* Set around a plugin's init (plugin.c): what its registrations came from. */
static __thread const char *origin_override;
static __thread enum xi_origin_kind origin_override_kind;

void xi_catalog_origin_scope(enum xi_origin_kind kind, const char *origin)
{
	origin_override_kind = kind;
	origin_override = origin;
}

/* The program's own path: where a factory it registers came from. */
static const char *program_origin(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, program_origin_init);
	return program_path[0] ? program_path : "program";
}

int xi_catalog_register(struct xi_catalog *cat, const struct xi_factory *f)
{
	if (!f)
		return -EINVAL;
	if (origin_override)
		return catalog_change(cat, XI_CATALOG_REGISTERED, f->name, f,
				      origin_override_kind, origin_override);
	return catalog_change(cat, XI_CATALOG_REGISTERED, f->name, f, XI_ORIGIN_PROGRAM,
			      program_origin());
}

int xi_catalog_register_origin(struct xi_catalog *cat, const struct xi_factory *f,
			       enum xi_origin_kind kind, const char *origin)
{
	if (!f)
		return -EINVAL;
	return catalog_change(cat, XI_CATALOG_REGISTERED, f->name, f, kind, origin);
}

int xi_catalog_register_err(struct xi_catalog *cat, const struct xi_factory *f,
			    struct xi_err *err)
{
	char id[XI_ID_MAX] = "?";
	int rc = xi_catalog_register(cat, f);

	if (!rc)
		return 0;
	if (f && f->name)
		xi_factory_id(f, id, sizeof(id));
	switch (rc) {
	case -EBUSY:
		return xi_err_set(err, rc, "cannot register '%s': the catalog is frozen "
				  "(a running daemon freezes its catalog once its plugins are "
				  "loaded; register from xicept_plugin_init)", id);
	case -EEXIST:
		return xi_err_set(err, rc, "cannot register '%s': that name and version "
				  "is registered already", id);
	case -EINVAL:
		return xi_factory_check(f, err);
	default:
		return xi_err_set(err, rc, "cannot register '%s': %s", id, strerror(-rc));
	}
}

int xi_catalog_replace(struct xi_catalog *cat, const struct xi_factory *f)
{
	if (!f)
		return -EINVAL;
	return catalog_change(cat, XI_CATALOG_REPLACED, f->name, f,
			      origin_override ? origin_override_kind : XI_ORIGIN_PROGRAM,
			      origin_override ? origin_override : program_origin());
}

int xi_catalog_unregister(struct xi_catalog *cat, const char *name)
{
	return catalog_change(cat, XI_CATALOG_UNREGISTERED, name, NULL, XI_ORIGIN_PROGRAM, NULL);
}

bool xi_catalog_frozen(struct xi_catalog *cat)
{
	bool frozen;

	if (!cat)
		return false;
	pthread_mutex_lock(&cat->lock);
	frozen = cat->frozen;
	pthread_mutex_unlock(&cat->lock);
	return frozen;
}

void xi_catalog_freeze(struct xi_catalog *cat)
{
	if (!cat)
		return;
	pthread_mutex_lock(&cat->lock);
	cat->frozen = true;
	pthread_mutex_unlock(&cat->lock);
}

/* ---- life cycle ---- */

struct xi_catalog *xi_catalog_new(void)
{
	struct xi_catalog *cat = calloc(1, sizeof(*cat));

	if (!cat)
		return NULL;
	cat->snap = snapshot_new(0);
	cat->misses = calloc(MISS_SLOTS, sizeof(*cat->misses));
	if (!cat->snap || !cat->misses) {
		free(cat->snap);
		free(cat->misses);
		free(cat);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&cat->lock, NULL);
	pthread_mutex_init(&cat->notify_lock, NULL);
	return cat;
}

void xi_catalog_free(struct xi_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->snap->n; i++)
		xi_catalog_entry_put(cat->snap->e[i]);
	free(cat->snap);
	free(cat->misses);
	free(cat->hooks);
	pthread_mutex_destroy(&cat->lock);
	pthread_mutex_destroy(&cat->notify_lock);
	free(cat);
}

/* ---- misses by name ---- */

static size_t miss_hash(const char *name)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % MISS_SLOTS;
}

/* false when another thread claimed the slot first. */
static bool miss_claim(struct miss_slot *m, const char *name, size_t len)
{
	unsigned char expect = MISS_FREE;

	if (!__atomic_compare_exchange_n(&m->state, &expect, MISS_CLAIMED, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	memcpy(m->name, name, len + 1);
	__atomic_store_n(&m->state, MISS_READY, __ATOMIC_RELEASE);
	return true;
}

/*
 * Linear probing from the name's hash; slots are never freed, so a free one
 * ends the search. A slot another thread is still claiming is skipped, not
 * waited for: the same name may then take two slots, which misses_for adds.
 */
static void miss_record(struct xi_catalog *cat, const char *name)
{
	size_t len = strlen(name), at = miss_hash(name);

	count(&cat->n_missed, 1);
	if (len >= MISS_NAME_MAX)
		return;
	for (size_t i = 0; i < MISS_SLOTS; i++) {
		struct miss_slot *m = &cat->misses[(at + i) % MISS_SLOTS];
		unsigned char st = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);

		if (st == MISS_FREE) {
			if (miss_claim(m, name, len)) {
				count(&m->n, 1);
				return;
			}
			st = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
		}
		if (st == MISS_READY && strcmp(m->name, name) == 0) {
			count(&m->n, 1);
			return;
		}
	}
}

uint64_t xi_catalog_misses_for(struct xi_catalog *cat, const char *name)
{
	uint64_t n = 0;
	size_t at;

	if (!cat || !name || strlen(name) >= MISS_NAME_MAX)
		return 0;
	at = miss_hash(name);
	for (size_t i = 0; i < MISS_SLOTS; i++) {
		struct miss_slot *m = &cat->misses[(at + i) % MISS_SLOTS];
		unsigned char st = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);

		if (st == MISS_FREE)
			break;
		if (st == MISS_READY && strcmp(m->name, name) == 0)
			n += counter(&m->n);
	}
	return n;
}

/* Names once each, their slots summed (two threads may have given one name two). */
int xi_catalog_miss_list(struct xi_catalog *cat, char ***ret_names, uint64_t **ret_counts,
			 size_t *ret_n)
{
	char **names;
	uint64_t *counts;
	size_t n = 0;

	if (!cat || !ret_names || !ret_counts || !ret_n)
		return -EINVAL;
	names = calloc(MISS_SLOTS, sizeof(*names));
	counts = calloc(MISS_SLOTS, sizeof(*counts));
	if (!names || !counts)
		goto nomem;
	for (size_t i = 0; i < MISS_SLOTS; i++) {
		const struct miss_slot *m = &cat->misses[i];
		size_t k;

		if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != MISS_READY)
			continue;
		for (k = 0; k < n && strcmp(names[k], m->name); k++)
			;
		if (k == n) {
			names[n] = strdup(m->name);
			if (!names[n])
				goto nomem;
			n++;
		}
		counts[k] += counter(&m->n);
	}
	*ret_names = names;
	*ret_counts = counts;
	*ret_n = n;
	return 0;
nomem:
	xi_strv_free(names, n);
	free(counts);
	return -ENOMEM;
}

/* ---- readers ---- */

int xi_catalog_find(struct xi_catalog *cat, const char *name, struct xi_catalog_entry **ret)
{
	struct xi_catalog_entry *e = NULL;
	struct entry_key key;
	struct snapshot *s;
	bool found = false;
	size_t at;

	if (!cat || !name || !ret)
		return -EINVAL;
	if (entry_key_parse(name, &key))
		return -ENOENT;
	s = read_begin(cat);
	at = snapshot_find(s, &key, &found);
	/* The snapshot's own reference keeps e alive until the grace period. */
	if (found)
		e = xi_catalog_entry_get(s->e[at]);
	read_end(cat);
	if (!e)
		return -ENOENT;
	*ret = e;
	return 0;
}

int xi_catalog_lookup(struct xi_catalog *cat, const char *name,
		      struct xi_catalog_entry **ret)
{
	int rc;

	if (!cat || !name || !ret)
		return -EINVAL;
	count(&cat->lookups, 1);
	rc = xi_catalog_find(cat, name, ret);
	if (rc == -ENOENT)
		miss_record(cat, name);
	return rc;
}

void xi_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Copies the names of s, each once, into a NULL-terminated vector. */
static int snapshot_names(const struct snapshot *s, char ***ret_names, size_t *ret_n)
{
	char **v = calloc(s->n + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const char *name = xi_catalog_entry_factory(s->e[i])->name;

		if (n && !strcmp(v[n - 1], name))
			continue;   /* another version of the same name */
		v[n] = strdup(name);
		if (!v[n]) {
			xi_strv_free(v, n);
			return -ENOMEM;
		}
		n++;
	}
	*ret_names = v;
	*ret_n = n;
	return 0;
}

int xi_catalog_entries(struct xi_catalog *cat, struct xi_catalog_entry ***ret, size_t *ret_n)
{
	struct xi_catalog_entry **v;
	struct snapshot *s;
	int rc = 0;

	if (!cat || !ret || !ret_n)
		return -EINVAL;
	s = read_begin(cat);
	v = calloc(s->n + 1, sizeof(*v));
	if (v) {
		for (size_t i = 0; i < s->n; i++)
			v[i] = xi_catalog_entry_get(s->e[i]);
		*ret_n = s->n;
	} else {
		rc = -ENOMEM;
	}
	read_end(cat);
	if (!rc)
		*ret = v;
	return rc;
}

void xi_catalog_entries_free(struct xi_catalog_entry **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		xi_catalog_entry_put(v[i]);
	free(v);
}

int xi_catalog_names(struct xi_catalog *cat, char ***ret_names, size_t *ret_n)
{
	int rc;

	if (!cat || !ret_names || !ret_n)
		return -EINVAL;
	rc = snapshot_names(read_begin(cat), ret_names, ret_n);
	read_end(cat);
	return rc;
}

double xi_catalog_build_bucket_le(size_t i)
{
	return i < XI_BUILD_BUCKETS - 1 ? (double)build_bucket_ns[i] / 1e9 : INFINITY;
}

void xi_catalog_build_histogram(struct xi_catalog *cat, uint64_t counts[XI_BUILD_BUCKETS])
{
	timing_read(cat ? &cat->build_time : NULL, counts);
}

void xi_catalog_register_histogram(struct xi_catalog *cat, uint64_t counts[XI_BUILD_BUCKETS])
{
	timing_read(cat ? &cat->register_time : NULL, counts);
}

void xi_catalog_count_build(struct xi_catalog *cat, int rc, uint64_t ns)
{
	uint64_t max = counter(&cat->build_ns_max);

	if (rc) {
		count(&cat->build_failures, 1);
		return;
	}
	count(&cat->builds, 1);
	timing_count(&cat->build_time, ns);
	while (ns > max && !__atomic_compare_exchange_n(&cat->build_ns_max, &max, ns, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void xi_catalog_stats(struct xi_catalog *cat, struct xi_catalog_stats *ret)
{
	if (!ret)
		return;
	memset(ret, 0, sizeof(*ret));
	if (!cat)
		return;
	ret->size = read_begin(cat)->n;
	read_end(cat);
	ret->lookups = counter(&cat->lookups);
	ret->misses = counter(&cat->n_missed);
	ret->registrations = counter(&cat->registrations);
	ret->builds = counter(&cat->builds);
	ret->build_failures = counter(&cat->build_failures);
	ret->build_ns_total = counter(&cat->build_time.ns_total);
	ret->build_ns_max = counter(&cat->build_ns_max);
	ret->register_ns_total = counter(&cat->register_time.ns_total);
}
