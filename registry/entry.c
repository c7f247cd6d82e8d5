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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/entry_internal.h"

struct xi_catalog_entry {
	unsigned long refs;
	unsigned long uses;               /* chains built from it, still open */
	const struct xi_factory *factory;
	enum xi_origin_kind origin_kind;
	char *origin;
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

int xi_entry_new(const struct xi_factory *f, enum xi_origin_kind kind, const char *origin,
		 struct xi_catalog_entry **ret)
{
	struct xi_catalog_entry *e = malloc(sizeof(*e));
	char *o = strdup(origin ? origin : "");
	int rc;

	if (!e || !o) {
		free(e);
		free(o);
		return -ENOMEM;
	}
	rc = factory_hold(f);
	if (rc) {
		free(e);
		free(o);
		return rc;
	}
	*e = (struct xi_catalog_entry){ .refs = 1, .factory = f, .origin_kind = kind, .origin = o };
	*ret = e;
	return 0;
}

void xi_factory_version(const struct xi_factory *f, unsigned *ret_major, unsigned *ret_minor)
{
	unsigned maj = f ? f->version_major : 0, min = f ? f->version_minor : 0;

	if (!maj && !min)
		maj = 1;   /* a factory that says nothing is 1.0 */
	if (ret_major)
		*ret_major = maj;
	if (ret_minor)
		*ret_minor = min;
}

uint32_t xi_factory_version_u32(const struct xi_factory *f)
{
	unsigned maj, min;

	xi_factory_version(f, &maj, &min);
	return (uint32_t)maj << 16 | min;
}

int xi_factory_id(const struct xi_factory *f, char *buf, size_t size)
{
	unsigned maj, min;
	int n;

	if (!f || !buf)
		return -EINVAL;
	xi_factory_version(f, &maj, &min);
	n = snprintf(buf, size, "%s@%u.%u", f->name, maj, min);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

const char *xi_catalog_entry_origin(const struct xi_catalog_entry *e)
{
	return e ? e->origin : NULL;
}

enum xi_origin_kind xi_catalog_entry_origin_kind(const struct xi_catalog_entry *e)
{
	return e ? e->origin_kind : XI_ORIGIN_PROGRAM;
}

const char *xi_origin_kind_name(enum xi_origin_kind kind)
{
	switch (kind) {
	case XI_ORIGIN_BUILTIN:
		return "builtin";
	case XI_ORIGIN_PLUGIN:
		return "plugin";
	case XI_ORIGIN_PROGRAM:
		return "program";
	}
	return "unknown";
}

uint64_t xi_catalog_entry_uses(const struct xi_catalog_entry *e)
{
	return e ? __atomic_load_n(&e->uses, __ATOMIC_RELAXED) : 0;
}

void xi_entry_use(struct xi_catalog_entry *e, int delta)
{
	if (e)
		__atomic_add_fetch(&e->uses, (unsigned long)(long)delta, __ATOMIC_RELAXED);
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
	free(e->origin);
	free(e);
	factory_put(f, true);
}

void xi_entry_discard(struct xi_catalog_entry *e)
{
	if (!e)
		return;
	factory_put(e->factory, false);
	free(e->origin);
	free(e);
}
