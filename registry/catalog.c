// SPDX-License-Identifier: MIT
/*
 * The name-keyed catalog of factories, in the manner of the kernel's
 * congestion-control registry: readers walk an RCU-published snapshot and
 * never block; writers serialize on a mutex, publish a new snapshot and wait
 * for a grace period before freeing the old one. Entries are refcounted, so a
 * replaced factory lives until the last chain built from it closes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-bp.h>

#include <xicept/catalog.h>
#include <xicept/config.h>

#include "registry/catalog_internal.h"

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
#define MISS_NAMES_MAX    256
#define MISS_NAME_LEN_MAX 128

struct xi_catalog_entry {
	unsigned long refs;
	const struct xi_factory *factory;
};

/* Immutable once published: sorted by name. */
struct snapshot {
	size_t n;
	struct xi_catalog_entry *e[];
};

struct hook {
	xi_catalog_hook_fn fn;
	void *user;
};

struct miss {
	char *name;
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
	pthread_mutex_t miss_lock;
	struct miss *misses;
	size_t n_misses;
	/* Touched by readers: atomics only. */
	uint64_t lookups, n_missed, registrations;
	uint64_t builds, build_failures, build_ns_total, build_ns_max;
};

/* A hook that tried to change its own catalog would wait on itself. */
static __thread const struct xi_catalog *in_hook;

static void count(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static uint64_t counter(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ---- entries ---- */

const struct xi_factory *xi_catalog_entry_factory(const struct xi_catalog_entry *e)
{
	return e ? e->factory : NULL;
}

struct xi_catalog_entry *xi_catalog_entry_get(struct xi_catalog_entry *e)
{
	if (e)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	return e;
}

void xi_catalog_entry_put(struct xi_catalog_entry *e)
{
	if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (e->factory->release)
		e->factory->release(e->factory);
	free(e);
}

bool xi_name_valid(const char *name)
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

static int factory_check(const struct xi_factory *f)
{
	if (!f || !xi_name_valid(f->name) || !f->new_interceptor)
		return -EINVAL;
	if (f->kind != XI_KIND_USERSPACE && f->kind != XI_KIND_XDP)
		return -EINVAL;
	return xi_config_check(f, NULL);
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
		int c = strcmp(name, s->e[mid]->factory->name);

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
	const struct xi_catalog *outer = in_hook;

	in_hook = cat;
	for (size_t i = 0; i < cat->n_hooks; i++)
		cat->hooks[i].fn(cat, ev, name, cat->hooks[i].user);
	in_hook = outer;
}

int xi_catalog_on_change(struct xi_catalog *cat, xi_catalog_hook_fn fn, void *user)
{
	struct hook *hooks;

	if (!cat || !fn)
		return -EINVAL;
	if (in_hook == cat)
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
	if (in_hook == cat)
		return -EDEADLK;
	if (f) {
		rc = factory_check(f);
		if (rc)
			return rc;
		added = malloc(sizeof(*added));
		if (!added)
			return -ENOMEM;
		*added = (struct xi_catalog_entry){ 1, f };
	}
	pthread_mutex_lock(&cat->lock);
	rc = cat->frozen ? -EBUSY : snapshot_change(cat, ev, name, added, &dropped);
	if (rc) {
		pthread_mutex_unlock(&cat->lock);
		free(added);    /* never published, so f was never ours to release */
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

void xi_catalog_must_register(struct xi_catalog *cat, const struct xi_factory *f)
{
	const char *name = f && f->name ? f->name : "(null)";
	int rc = xi_catalog_register(cat, f);

	if (!rc)
		return;
	/* The one place the library prints: there is no caller left to tell. */
	if (rc == -EEXIST)
		fprintf(stderr, "xicept: duplicate interceptor '%s': the name is already registered\n",
			name);
	else
		fprintf(stderr, "xicept: cannot register interceptor '%s': %s\n", name,
			strerror(-rc));
	abort();
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
	if (!cat->snap) {
		free(cat);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&cat->lock, NULL);
	pthread_mutex_init(&cat->notify_lock, NULL);
	pthread_mutex_init(&cat->miss_lock, NULL);
	return cat;
}

void xi_catalog_free(struct xi_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->snap->n; i++)
		xi_catalog_entry_put(cat->snap->e[i]);
	free(cat->snap);
	for (size_t i = 0; i < cat->n_misses; i++)
		free(cat->misses[i].name);
	free(cat->misses);
	free(cat->hooks);
	pthread_mutex_destroy(&cat->lock);
	pthread_mutex_destroy(&cat->notify_lock);
	pthread_mutex_destroy(&cat->miss_lock);
	free(cat);
}

/* ---- readers ---- */

static void miss_record(struct xi_catalog *cat, const char *name)
{
	size_t i;

	count(&cat->n_missed, 1);
	if (strlen(name) >= MISS_NAME_LEN_MAX)
		return;
	pthread_mutex_lock(&cat->miss_lock);
	for (i = 0; i < cat->n_misses; i++) {
		if (strcmp(cat->misses[i].name, name) == 0)
			break;
	}
	if (i == cat->n_misses && i < MISS_NAMES_MAX) {
		struct miss *m = realloc(cat->misses, (i + 1) * sizeof(*m));
		char *copy = strdup(name);

		if (m)
			cat->misses = m;
		if (m && copy)
			cat->misses[cat->n_misses++] = (struct miss){ copy, 0 };
		else
			free(copy);
	}
	if (i < cat->n_misses)
		cat->misses[i].n++;
	pthread_mutex_unlock(&cat->miss_lock);
}

uint64_t xi_catalog_misses_for(struct xi_catalog *cat, const char *name)
{
	uint64_t n = 0;

	if (!cat || !name)
		return 0;
	pthread_mutex_lock(&cat->miss_lock);
	for (size_t i = 0; i < cat->n_misses; i++) {
		if (strcmp(cat->misses[i].name, name) == 0)
			n = cat->misses[i].n;
	}
	pthread_mutex_unlock(&cat->miss_lock);
	return n;
}

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
		v[i] = strdup(s->e[i]->factory->name);
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

/* Optimal string alignment distance (Levenshtein plus adjacent swaps).
 * b is a catalog name, so three rows of XI_NAME_MAX cells suffice. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t rows[3][XI_NAME_MAX + 1];
	size_t nb = strlen(b), *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;

	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; a[i - 1]; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = prev[j - 1] + cost;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[nb];
}

int xi_catalog_suggest(struct xi_catalog *cat, const char *name, char *buf, size_t size)
{
	char best[XI_NAME_MAX] = "";
	size_t len, limit, best_d = SIZE_MAX;
	struct snapshot *s;

	if (!cat || !name || !buf || !size)
		return -EINVAL;
	len = strlen(name);
	limit = len / 3 > 2 ? len / 3 : 2;
	if (!len)
		return -ENOENT;
	s = read_begin(cat);
	for (size_t i = 0; i < s->n; i++) {
		const char *cand = s->e[i]->factory->name;
		size_t nc = strlen(cand), d;

		if ((nc > len ? nc - len : len - nc) > limit)
			continue;
		d = edit_distance(name, cand);
		if (d <= limit && d < best_d) {
			best_d = d;
			strcpy(best, cand);
		}
	}
	read_end(cat);
	if (!best[0])
		return -ENOENT;
	if (strlen(best) >= size)
		return -ENOSPC;
	strcpy(buf, best);
	return 0;
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

/* ---- building ---- */

static int unknown_name(struct xi_catalog *cat, const char *name, struct xi_err *err)
{
	char near[XI_NAME_MAX];

	if (xi_catalog_suggest(cat, name, near, sizeof(near)) == 0)
		return xi_err_set(err, -ENOENT, "unknown interceptor '%s' (did you mean '%s'?)",
				  name, near);
	return xi_err_set(err, -ENOENT, "unknown interceptor '%s'", name);
}

static int registry_add_elem(struct xi_catalog *cat, struct xi_registry *reg,
			     const struct xi_chain_elem *elem, struct xi_err *err)
{
	struct xi_catalog_entry *e;
	const struct xi_factory *f;
	void *cfg;
	int rc;

	if (!elem->name)
		return xi_err_set(err, -EINVAL, "chain: an element has no name");
	rc = xi_catalog_lookup(cat, elem->name, &e);
	if (rc)
		return rc == -ENOENT ? unknown_name(cat, elem->name, err) : xi_err_set(err, rc,
			"%s: lookup failed: %s", elem->name, strerror(-rc));
	f = e->factory;
	cfg = calloc(1, f->config_size ? f->config_size : 1);
	rc = cfg ? xi_config_parse(f, elem, cfg, err) : -ENOMEM;
	if (!rc) {
		rc = xi_registry_add_entry(reg, e, cfg);
		if (rc)
			xi_err_set(err, rc, "%s: cannot add to the registry: %s", elem->name,
				   strerror(-rc));
	} else if (rc == -ENOMEM) {
		xi_err_set(err, rc, "%s: out of memory", elem->name);
	}
	free(cfg);
	xi_catalog_entry_put(e);
	return rc;
}

int xi_catalog_registry(struct xi_catalog *cat, const struct xi_chain_desc *desc,
			struct xi_registry **ret, struct xi_err *err)
{
	struct xi_registry *reg;
	int rc;

	if (!cat || !desc || !ret || desc->n > XI_CHAIN_MAX)
		return xi_err_set(err, -EINVAL, "catalog: bad arguments");
	reg = xi_registry_new();
	if (!reg)
		return xi_err_set(err, -ENOMEM, "catalog: out of memory");
	for (size_t i = 0; i < desc->n; i++) {
		rc = registry_add_elem(cat, reg, &desc->elems[i], err);
		if (rc) {
			xi_registry_free(reg);
			return rc;
		}
	}
	*ret = reg;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void build_timed(struct xi_catalog *cat, uint64_t ns)
{
	uint64_t max = counter(&cat->build_ns_max);

	count(&cat->builds, 1);
	count(&cat->build_ns_total, ns);
	while (ns > max && !__atomic_compare_exchange_n(&cat->build_ns_max, &max, ns, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

int xi_catalog_build(struct xi_catalog *cat, const char *chain_text,
		     const struct xi_build_ctx *ctx, struct xi_chain **ret,
		     struct xi_err *err)
{
	static const struct xi_build_ctx no_ctx;
	struct xi_chain_desc *desc = NULL;
	struct xi_registry *reg = NULL;
	uint64_t start = now_ns();
	int rc;

	if (!cat || !chain_text || !ret)
		return xi_err_set(err, -EINVAL, "catalog: bad arguments");
	rc = xi_chain_desc_parse(chain_text, &desc, err);
	if (!rc)
		rc = xi_catalog_registry(cat, desc, &reg, err);
	if (!rc)
		rc = xi_registry_build(reg, ctx ? ctx : &no_ctx, ret, err);
	xi_registry_free(reg);
	xi_chain_desc_free(desc);
	if (rc) {
		count(&cat->build_failures, 1);
		return rc;
	}
	build_timed(cat, now_ns() - start);
	return 0;
}

/* ---- global discovery ---- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xi_global_entry *global_head;

void xi_global_link(struct xi_global_entry *e)
{
	struct xi_global_entry *it;

	if (!e || !e->factory)
		return;
	pthread_mutex_lock(&global_lock);
	for (it = global_head; it && it != e; it = it->next)
		;
	if (!it) {
		e->next = global_head;
		global_head = e;
	}
	pthread_mutex_unlock(&global_lock);
}

/* Two factories of one name in the global list is a build mistake; the copy
 * fails with EEXIST rather than picking one silently. */
struct xi_catalog *xi_catalog_new_from_global(void)
{
	struct xi_catalog *cat;
	int rc = 0;

	xi_builtins_keep();
	cat = xi_catalog_new();
	if (!cat)
		return NULL;
	pthread_mutex_lock(&global_lock);
	for (struct xi_global_entry *g = global_head; g && !rc; g = g->next)
		rc = xi_catalog_register(cat, g->factory);
	pthread_mutex_unlock(&global_lock);
	if (rc) {
		xi_catalog_free(cat);
		errno = -rc;
		return NULL;
	}
	return cat;
}
