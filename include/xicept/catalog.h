/* SPDX-License-Identifier: MIT */
/*
 * The name-keyed catalog of factories.
 *
 * Readers (lookup, names, build) never block on writers and never see freed
 * memory: the catalog is an RCU-published snapshot. A lookup returns a counted
 * reference to an entry; chains built from it keep that version alive until
 * they close, even after replace or unregister.
 *
 * A global discovery list is filled before main() by XI_CATALOG_REGISTER, the
 * C counterpart of Go's init() plus a blank import. Programs copy it into a
 * scoped catalog with xi_catalog_new_from_global(); tests use scoped ones.
 */
#ifndef XICEPT_CATALOG_H
#define XICEPT_CATALOG_H

#include <stdint.h>
#include <stddef.h>
#include <xicept/error.h>
#include <xicept/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_catalog;
struct xi_catalog_entry;
struct xi_chain_desc;

enum xi_catalog_event {
	XI_CATALOG_REGISTERED,
	XI_CATALOG_REPLACED,
	XI_CATALOG_UNREGISTERED,
};

typedef void (*xi_catalog_hook_fn)(struct xi_catalog *cat, enum xi_catalog_event ev,
				   const char *name, void *user);

struct xi_catalog_stats {
	uint64_t size;            /* entries now */
	uint64_t lookups;         /* lookups, hits and misses */
	uint64_t misses;          /* lookups that found nothing */
	uint64_t registrations;   /* successful register calls */
	uint64_t builds;          /* successful chain builds */
	uint64_t build_failures;
	uint64_t build_ns_total;  /* time spent in successful builds */
	uint64_t build_ns_max;
};

struct xi_catalog *xi_catalog_new(void);              /* NULL + errno */
/* A new catalog holding every factory of the global discovery list. NULL and
 * errno EEXIST when two of them share a name (a build mistake), EINVAL when
 * one is malformed. */
struct xi_catalog *xi_catalog_new_from_global(void);
/* Drops the catalog's references; entries held by chains live on. No other
 * thread may use cat once this is called. NULL is fine. */
void xi_catalog_free(struct xi_catalog *cat);

/* -EINVAL: NULL factory, NULL/empty/malformed name, no new_interceptor, or a
 * key table that does not fit config_size or whose defaults do not parse;
 * -EEXIST: the name is taken; -EBUSY: frozen; -EDEADLK: called from one of
 * this catalog's hooks. The catalog keeps f itself (not a copy): f must stay
 * valid and unchanged until f->release is called, or the program ends. */
int xi_catalog_register(struct xi_catalog *cat, const struct xi_factory *f);
/* As register, but aborts with a message naming the duplicate on failure. */
void xi_catalog_must_register(struct xi_catalog *cat, const struct xi_factory *f);
/* Swaps in f for the entry of the same name. -ENOENT, -EBUSY, -EINVAL. */
int xi_catalog_replace(struct xi_catalog *cat, const struct xi_factory *f);
int xi_catalog_unregister(struct xi_catalog *cat, const char *name);
/* After this, register, replace and unregister fail with -EBUSY. */
void xi_catalog_freeze(struct xi_catalog *cat);

/* 0 and a reference in *ret, or -ENOENT (counted as a miss for that name). */
int xi_catalog_lookup(struct xi_catalog *cat, const char *name,
		      struct xi_catalog_entry **ret);
const struct xi_factory *xi_catalog_entry_factory(const struct xi_catalog_entry *e);
struct xi_catalog_entry *xi_catalog_entry_get(struct xi_catalog_entry *e);
void xi_catalog_entry_put(struct xi_catalog_entry *e);   /* NULL is fine */

/* Sorted names; free with xi_strv_free. */
int xi_catalog_names(struct xi_catalog *cat, char ***ret_names, size_t *ret_n);
void xi_strv_free(char **v, size_t n);
/* The known name nearest to name (edit distance with adjacent swaps), or
 * -ENOENT when none is within max(2, strlen(name) / 3). Ties go to the first
 * in sorted order. -ENOSPC when buf is too small (XI_NAME_MAX always fits). */
int xi_catalog_suggest(struct xi_catalog *cat, const char *name, char *buf, size_t size);

/* Hooks run after each successful register, replace or unregister, once the
 * change is visible to lookups, outside the writer lock and in the order the
 * changes were made (one event at a time). A hook may read the catalog; a
 * change to the same catalog from a hook fails with -EDEADLK. A replaced or
 * unregistered factory's release, if due, runs after the hooks. */
int xi_catalog_on_change(struct xi_catalog *cat, xi_catalog_hook_fn fn, void *user);

void xi_catalog_stats(struct xi_catalog *cat, struct xi_catalog_stats *ret);
/* How often lookups of this exact name missed (the first 256 distinct names
 * shorter than 128 bytes are tracked; all misses count in stats.misses). */
uint64_t xi_catalog_misses_for(struct xi_catalog *cat, const char *name);

/* Looks up every element of desc and parses its config into a new ordered
 * registry. Unknown names fail with -ENOENT and "unknown interceptor 'x'
 * (did you mean 'y'?)"; config errors name the element and the field. */
int xi_catalog_registry(struct xi_catalog *cat, const struct xi_chain_desc *desc,
			struct xi_registry **ret, struct xi_err *err);
/* Parse text, make the registry, build the chain: counted in the stats (any
 * failure, parse errors included, counts as a build failure). */
int xi_catalog_build(struct xi_catalog *cat, const char *chain_text,
		     const struct xi_build_ctx *ctx, struct xi_chain **ret,
		     struct xi_err *err);

/* ---- global discovery ---- */

struct xi_global_entry {
	const struct xi_factory *factory;
	struct xi_global_entry *next;
};

void xi_global_link(struct xi_global_entry *e);

/*
 * Put this at file scope beside a factory. The constructor only links a
 * static node into the global list. A factory that lives in libxicept.a also
 * needs an XI_CATALOG_ANCHOR so that static links keep its object file.
 */
#define XI_CATALOG_REGISTER(fac)                                              \
	static struct xi_global_entry xi__global_##fac = { &(fac), NULL };    \
	__attribute__((constructor)) static void xi__register_##fac(void)     \
	{                                                                     \
		xi_global_link(&xi__global_##fac);                            \
	}

/* Built-in interceptors define an anchor that registry/builtin.c references,
 * so linking libxicept.a pulls in their object files and constructors. */
#define XI_CATALOG_ANCHOR(sym) const char xi_anchor_##sym = 1;

#ifdef __cplusplus
}
#endif
#endif
