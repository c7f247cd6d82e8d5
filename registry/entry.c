// SPDX-License-Identifier: MIT
/*
 * Catalog entries and the factories they point at.
 *
 * An entry is a counted reference to a factory, made by a catalog and held by
 * lookups, chain builders and chains. Several entries may point at one
 * factory (the same factory in two catalogs, or replaced by itself), so the
 * factory has a count of its own, kept here per factory pointer: its release
 * runs when the last entry pointing at it is freed, and only then.
 *
 * The factory count changes only when an entry is made or freed, which is a
 * catalog writer's work (or the last put of an entry a writer dropped), so a
 * plain mutex over a small table is enough; lookups never come here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "registry/entry_internal.h"

struct xi_catalog_entry {
	unsigned long refs;
	const struct xi_factory *factory;
};

#define FACTORY_BUCKETS 64

struct factory_ref {
	const struct xi_factory *factory;
	unsigned long entries;
	struct factory_ref *next;
};

static pthread_mutex_t factories_lock = PTHREAD_MUTEX_INITIALIZER;
static struct factory_ref *factories[FACTORY_BUCKETS];

static struct factory_ref **factory_slot(const struct xi_factory *f)
{
	uintptr_t h = (uintptr_t)f;

	h ^= h >> 17;
	return &factories[(h >> 4) % FACTORY_BUCKETS];
}

/* factories_lock held. The link that points at f's node, or at NULL. */
static struct factory_ref **factory_find(const struct xi_factory *f)
{
	struct factory_ref **it = factory_slot(f);

	while (*it && (*it)->factory != f)
		it = &(*it)->next;
	return it;
}

static int factory_hold(const struct xi_factory *f)
{
	struct factory_ref **at, *r;
	int rc = 0;

	pthread_mutex_lock(&factories_lock);
	at = factory_find(f);
	if (*at) {
		(*at)->entries++;
	} else {
		r = malloc(sizeof(*r));
		if (r)
			*r = (struct factory_ref){ f, 1, NULL };
		*at = r;
		rc = r ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&factories_lock);
	return rc;
}

/* Runs release outside the lock: it is the factory's code, and may well
 * register or unregister something itself. */
static void factory_put(const struct xi_factory *f, bool release)
{
	struct factory_ref **at, *gone = NULL;

	pthread_mutex_lock(&factories_lock);
	at = factory_find(f);
	if (*at && --(*at)->entries == 0) {
		gone = *at;
		*at = gone->next;
	}
	pthread_mutex_unlock(&factories_lock);
	if (!gone)
		return;
	free(gone);
	if (release && f->release)
		f->release(f);
}

const char *xi_kind_name(enum xi_kind kind)
{
	switch (kind) {
	case XI_KIND_USERSPACE:
		return "userspace";
	case XI_KIND_XDP:
		return "xdp";
	}
	return "unknown";
}

int xi_entry_new(const struct xi_factory *f, struct xi_catalog_entry **ret)
{
	struct xi_catalog_entry *e = malloc(sizeof(*e));
	int rc;

	if (!e)
		return -ENOMEM;
	rc = factory_hold(f);
	if (rc) {
		free(e);
		return rc;
	}
	*e = (struct xi_catalog_entry){ 1, f };
	*ret = e;
	return 0;
}

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
	const struct xi_factory *f;

	if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	f = e->factory;
	free(e);
	factory_put(f, true);
}

void xi_entry_discard(struct xi_catalog_entry *e)
{
	if (!e)
		return;
	factory_put(e->factory, false);
	free(e);
}
