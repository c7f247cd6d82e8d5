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
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-bp.h>

#include <xicept/catalog.h>
#include <xicept/config.h>

#include "registry/catalog_internal.h"
#include "registry/config_internal.h"
#include "registry/entry_internal.h"

/*
 * ThreadSanitizer cannot see liburcu's grace period, so it would call the
 * free of an old snapshot a race with the readers that used it. Each reader
 * "releases" a sync object as it leaves, the writer "acquires" it after
 * synchronize: exactly the ordering the grace period provides.
 */
#if defined(__SANITIZE_THREAD__)
#define XI_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XI_TSAN 1
#endif
#endif

#ifdef XI_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(addr) __tsan_acquire(addr)
#define tsan_release(addr) __tsan_release(addr)
#else
#define tsan_acquire(addr) ((void)(addr))
#define tsan_release(addr) ((void)(addr))
#endif

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
	uint64_t builds, build_failures, build_ns_total, build_ns_max;
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

/* The index of name, or where it would go; *ret_found says which. */
static size_t snapshot_find(const struct snapshot *s, const char *name, bool *ret_found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, xi_catalog_entry_factory(s->e[mid])->name);

		if (c == 0) {
			*ret_found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*ret_found = false;
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
 * hands back the entry the catalog no longer holds. */
static int snapshot_change(struct xi_catalog *cat, enum xi_catalog_event ev,
			   const char *name, struct xi_catalog_entry *added,
			   struct xi_catalog_entry **ret_dropped)
{
	struct snapshot *old = cat->snap, *next;
	bool found;
	size_t at = snapshot_find(old, name, &found);
	size_t n = old->n + (ev == XI_CATALOG_REGISTERED) - (ev == XI_CATALOG_UNREGISTERED);

	if (ev == XI_CATALOG_REGISTERED && found)
		return -EEXIST;
	if (ev != XI_CATALOG_REGISTERED && !found)
		return -ENOENT;
	next = snapshot_new(n);
	if (!next)
		return -ENOMEM;
	memcpy(next->e, old->e, at * sizeof(old->e[0]));
	switch (ev) {
	case XI_CATALOG_REGISTERED:
		next->e[at] = added;
		memcpy(next->e + at + 1, old->e + at, (old->n - at) * sizeof(old->e[0]));
		break;
	case XI_CATALOG_REPLACED:
		next->e[at] = added;
		memcpy(next->e + at + 1, old->e + at + 1, (old->n - at - 1) * sizeof(old->e[0]));
		*ret_dropped = old->e[at];
		break;
	case XI_CATALOG_UNREGISTERED:
		memcpy(next->e + at, old->e + at + 1, (old->n - at - 1) * sizeof(old->e[0]));
		*ret_dropped = old->e[at];
		break;
	}
	snapshot_publish(cat, next);
	return 0;
}

/* ---- hooks ---- */

/* notify_lock held. */
static void hooks_run(struct xi_catalog *cat, enum xi_catalog_event ev, const char *name)
{
	struct hook_frame frame = { cat, hook_frames };

	hook_frames = &frame;
	for (size_t i = 0; i < cat->n_hooks; i++)
		cat->hooks[i].fn(cat, ev, name, cat->hooks[i].user);
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
			  const char *name, const struct xi_factory *f)
{
	struct xi_catalog_entry *added = NULL, *dropped = NULL;
	int rc;

	if (!cat || !name)
		return -EINVAL;
	if (in_hooks_of(cat))
		return -EDEADLK;
	if (f) {
		rc = xi_factory_check(f, NULL);
		if (!rc)
			rc = xi_entry_new(f, &added);
		if (rc)
			return rc;
	}
	pthread_mutex_lock(&cat->lock);
	rc = cat->frozen ? -EBUSY : snapshot_change(cat, ev, name, added, &dropped);
	if (rc) {
		pthread_mutex_unlock(&cat->lock);
		xi_entry_discard(added);        /* never published: f was never ours */
		return rc;
	}
	if (ev == XI_CATALOG_REGISTERED)
		count(&cat->registrations, 1);
	pthread_mutex_lock(&cat->notify_lock);
	pthread_mutex_unlock(&cat->lock);
	hooks_run(cat, ev, name);
	pthread_mutex_unlock(&cat->notify_lock);
	xi_catalog_entry_put(dropped);
	return 0;
}

int xi_catalog_register(struct xi_catalog *cat, const struct xi_factory *f)
{
	if (!f)
		return -EINVAL;
	return catalog_change(cat, XI_CATALOG_REGISTERED, f->name, f);
}

int xi_catalog_replace(struct xi_catalog *cat, const struct xi_factory *f)
{
	if (!f)
		return -EINVAL;
	return catalog_change(cat, XI_CATALOG_REPLACED, f->name, f);
}

int xi_catalog_unregister(struct xi_catalog *cat, const char *name)
{
	return catalog_change(cat, XI_CATALOG_UNREGISTERED, name, NULL);
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

/* ---- readers ---- */

int xi_catalog_lookup(struct xi_catalog *cat, const char *name,
		      struct xi_catalog_entry **ret)
{
	struct xi_catalog_entry *e = NULL;
	struct snapshot *s;
	bool found;
	size_t at;

	if (!cat || !name || !ret)
		return -EINVAL;
	count(&cat->lookups, 1);
	s = read_begin(cat);
	at = snapshot_find(s, name, &found);
	/* The snapshot's own reference keeps e alive until the grace period. */
	if (found)
		e = xi_catalog_entry_get(s->e[at]);
	read_end(cat);
	if (!e) {
		miss_record(cat, name);
		return -ENOENT;
	}
	*ret = e;
	return 0;
}

void xi_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Copies the names of s into a NULL-terminated vector. */
static int snapshot_names(const struct snapshot *s, char ***ret_names, size_t *ret_n)
{
	char **v = calloc(s->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		v[i] = strdup(xi_catalog_entry_factory(s->e[i])->name);
		if (!v[i]) {
			xi_strv_free(v, i);
			return -ENOMEM;
		}
	}
	*ret_names = v;
	*ret_n = s->n;
	return 0;
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

void xi_catalog_count_build(struct xi_catalog *cat, int rc, uint64_t ns)
{
	uint64_t max = counter(&cat->build_ns_max);

	if (rc) {
		count(&cat->build_failures, 1);
		return;
	}
	count(&cat->builds, 1);
	count(&cat->build_ns_total, ns);
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
	ret->build_ns_total = counter(&cat->build_ns_total);
	ret->build_ns_max = counter(&cat->build_ns_max);
}
