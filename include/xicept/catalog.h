/* SPDX-License-Identifier: MIT */
/*
 * The catalog: the registry of interceptor factories, keyed by name.
 *
 * Readers (lookup, names, suggest, stats, misses) never block: the catalog is
 * an RCU-published snapshot and misses are counted lock-free. A lookup
 * returns a counted reference to an entry; chains built from it keep that
 * version alive until they close, even after replace or unregister.
 *
 * Factory lifetime. A factory's release runs exactly once, when the last
 * reference to it is gone. Every catalog entry holds one on its factory, and
 * entries are themselves counted: the catalog that made an entry, lookups,
 * chain builders (xi_chain_builder_add_entry) and chains each hold one. The
 * count on a factory is kept per factory pointer across all catalogs, so the
 * same factory may sit in several catalogs, or replace itself, and is
 * released only once the last of them and of their chains let it go. A
 * factory given to xi_chain_builder_add directly is not counted. Once
 * released, f may be registered again, and is then released again.
 *
 * A global discovery list is filled before main() by XI_CATALOG_REGISTER, the
 * C counterpart of Go's init() plus a blank import. Programs copy it into a
 * scoped catalog with xi_catalog_new_from_global(); tests use scoped ones.
 */
#ifndef XICEPT_CATALOG_H
#define XICEPT_CATALOG_H

#include <xicept/export.h>
#include <stdbool.h>
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

/* e is the entry the change is about: the one registered, the one a replace
 * swapped in, or the one unregistered. It names the factory, its version and
 * its origin; it is valid during the hook, and xi_catalog_entry_get keeps it
 * longer. */
typedef void (*xi_catalog_hook_fn)(struct xi_catalog *cat, enum xi_catalog_event ev,
				   struct xi_catalog_entry *e, void *user);

struct xi_catalog_stats {
	uint64_t size;            /* entries now */
	uint64_t lookups;         /* lookups, hits and misses */
	uint64_t misses;          /* lookups that found nothing */
	uint64_t registrations;   /* successful register calls */
	uint64_t builds;          /* successful chain builds */
	uint64_t build_failures;
	uint64_t build_ns_total;  /* time spent in successful builds */
	uint64_t build_ns_max;
	uint64_t register_ns_total;  /* time spent in successful registrations */
};

XI_API struct xi_catalog *xi_catalog_new(void);              /* NULL + errno */
/* A new catalog holding every factory of the global discovery list. -EEXIST
 * when two of them share a name (a build mistake), -EINVAL when one is
 * malformed, -ENOMEM; err (may be NULL) names the factory, e.g.
 * "global list: interceptor 'noop' is registered twice". */
XI_API int xi_catalog_new_from_global_err(struct xi_catalog **ret, struct xi_err *err);
/* The same, NULL and errno (EEXIST, EINVAL, ENOMEM) on failure. */
XI_API struct xi_catalog *xi_catalog_new_from_global(void);
/* Drops the catalog's references; entries held by chains live on. No other
 * thread may use cat once this is called. NULL is fine. */
XI_API void xi_catalog_free(struct xi_catalog *cat);

/* -EINVAL: NULL factory, NULL/empty/malformed name, no new_interceptor, or a
 * key table that does not fit config_size or whose defaults do not parse;
 * -EEXIST: the name is taken; -EBUSY: frozen; -EDEADLK: called from a hook of
 * this catalog (see xi_catalog_on_change). The catalog keeps f itself (not a
 * copy): f must stay valid and unchanged until f->release is called, or the
 * program ends. */
XI_API int xi_catalog_register(struct xi_catalog *cat, const struct xi_factory *f);
/* Swaps in f for the entry of the same name; f may be the factory already
 * there (it is not released). -ENOENT, -EBUSY, -EINVAL, -EDEADLK. */
XI_API int xi_catalog_replace(struct xi_catalog *cat, const struct xi_factory *f);
XI_API int xi_catalog_unregister(struct xi_catalog *cat, const char *name);
/* After this, register, replace and unregister fail with -EBUSY. */
XI_API void xi_catalog_freeze(struct xi_catalog *cat);
XI_API bool xi_catalog_frozen(struct xi_catalog *cat);
/* xi_catalog_register, with err (may be NULL) saying why it failed, e.g.
 * "cannot register 'x@1.0': the catalog is frozen (...)". */
XI_API int xi_catalog_register_err(struct xi_catalog *cat, const struct xi_factory *f,
				   struct xi_err *err);

/*
 * Versions and origins.
 *
 * A catalog holds one entry per NAME@MAJOR.MINOR (struct xi_factory's
 * version, 1.0 when unset): registering a name at a version it does not have
 * yet adds that version beside the others, and -EEXIST means this exact
 * version is taken. Wherever a name is looked up (lookup, chain text,
 * unregister), a bare NAME means its highest version and NAME@MAJOR.MINOR
 * that one. replace swaps f in for the entry of f's name and version, or,
 * when there is none, for the name's highest version. Chains keep the entry
 * they were built from, so replacing a name while chains use it changes
 * only the chains built afterwards.
 *
 * Each entry records where it came from: "file:line" of its
 * XI_CATALOG_REGISTER for the built-ins (and any factory of the global
 * list), the shared object's path for a plugin, and the path of the
 * program for a factory the program registered through this API.
 */
#define XI_ID_MAX (XI_NAME_MAX + 12)   /* "name@65535.65535" and its NUL */

enum xi_origin_kind {
	XI_ORIGIN_BUILTIN = 0,
	XI_ORIGIN_PLUGIN = 1,
	XI_ORIGIN_PROGRAM = 2,
};

XI_API void xi_factory_version(const struct xi_factory *f, unsigned *ret_major,
			       unsigned *ret_minor);
/* "name@1.0" into buf; -ENOSPC when it does not fit (XI_ID_MAX always does). */
XI_API int xi_factory_id(const struct xi_factory *f, char *buf, size_t size);
/* Splits "name" or "name@MAJOR.MINOR" (decimal, each at most 65535) into
 * name (XI_NAME_MAX bytes) and a version: *ret_versioned false for a bare
 * name. -EINVAL for anything else. */
XI_API int xi_name_split(const char *text, char *name, bool *ret_versioned,
			 unsigned *ret_major, unsigned *ret_minor);
XI_API const char *xi_catalog_entry_origin(const struct xi_catalog_entry *e);
XI_API enum xi_origin_kind xi_catalog_entry_origin_kind(const struct xi_catalog_entry *e);
XI_API const char *xi_origin_kind_name(enum xi_origin_kind kind);  /* "builtin", ... */
/* Chains built from this entry that are still open. */
XI_API uint64_t xi_catalog_entry_uses(const struct xi_catalog_entry *e);
/* Registers f with an origin of the caller's choosing. */
XI_API int xi_catalog_register_origin(struct xi_catalog *cat, const struct xi_factory *f,
				      enum xi_origin_kind kind, const char *origin);
/* Every entry, each version its own, sorted by name and newest version
 * first, each with a reference; free with xi_catalog_entries_free. */
XI_API int xi_catalog_entries(struct xi_catalog *cat, struct xi_catalog_entry ***ret,
			      size_t *ret_n);
XI_API void xi_catalog_entries_free(struct xi_catalog_entry **v, size_t n);

/* 0 and a reference in *ret, or -ENOENT (counted as a miss for that name). */
XI_API int xi_catalog_lookup(struct xi_catalog *cat, const char *name,
			     struct xi_catalog_entry **ret);
XI_API const struct xi_factory *xi_catalog_entry_factory(const struct xi_catalog_entry *e);
XI_API struct xi_catalog_entry *xi_catalog_entry_get(struct xi_catalog_entry *e);
XI_API void xi_catalog_entry_put(struct xi_catalog_entry *e);   /* NULL is fine */

/* Sorted names, each once however many versions it has; free with xi_strv_free. */
XI_API int xi_catalog_names(struct xi_catalog *cat, char ***ret_names, size_t *ret_n);
XI_API void xi_strv_free(char **v, size_t n);
/* The known name nearest to name (edit distance with adjacent swaps), or
 * -ENOENT when none is within max(2, strlen(name) / 3). Ties go to the first
 * in sorted order. -ENOSPC when buf is too small (XI_NAME_MAX always fits). */
XI_API int xi_catalog_suggest(struct xi_catalog *cat, const char *name, char *buf, size_t size);

/* Hooks run after each successful register, replace or unregister, once the
 * change is visible to lookups, outside the writer lock and in the order the
 * changes were made (one event at a time). A hook may read any catalog and
 * change another one, but a change to a catalog whose hooks are running on
 * this thread, directly or through nested hooks (a hook on A changes B, whose
 * hook changes A), fails with -EDEADLK, as does on_change from such a hook.
 * Hooks on several threads must not change each other's catalogs in a
 * cycle: that would wait forever. A replaced or unregistered factory's
 * release, if due, runs after the hooks. */
XI_API int xi_catalog_on_change(struct xi_catalog *cat, xi_catalog_hook_fn fn, void *user);

XI_API void xi_catalog_stats(struct xi_catalog *cat, struct xi_catalog_stats *ret);
/* How often lookups of this exact name missed. Up to 256 distinct names
 * shorter than 128 bytes are tracked, first come first served (without locks,
 * so two threads missing a new name at once may use two of them); every miss
 * counts in stats.misses. */
XI_API uint64_t xi_catalog_misses_for(struct xi_catalog *cat, const char *name);
/* Every name misses were tracked for (see above), each once, with its count;
 * free *ret_names with xi_strv_free and *ret_counts with free(). */
XI_API int xi_catalog_miss_list(struct xi_catalog *cat, char ***ret_names,
				uint64_t **ret_counts, size_t *ret_n);
/* Successful builds (xi_catalog_build) by how long they took: counts[i] is
 * how many took more than bucket i-1's bound and at most bucket i's,
 * xi_catalog_build_bucket_le(i) seconds (the last bucket's is INFINITY).
 * Not cumulative; the bounds never change (0.1 ms to 250 ms). */
#define XI_BUILD_BUCKETS 12
XI_API double xi_catalog_build_bucket_le(size_t i);
XI_API void xi_catalog_build_histogram(struct xi_catalog *cat, uint64_t counts[XI_BUILD_BUCKETS]);
/* Successful registrations (register, register_origin: what plugins and the
 * global list go through) the same way, with the same buckets, each timed
 * until lookups see the entry, hooks not included. */
XI_API void xi_catalog_register_histogram(struct xi_catalog *cat,
					  uint64_t counts[XI_BUILD_BUCKETS]);

/* Looks up every element of desc and parses its config into a new chain
 * builder. Unknown names fail with -ENOENT and "unknown interceptor 'x'
 * (did you mean 'y'?)", or, with no name near, "(known: a, b, c)"; config
 * errors name the element and the field. */
XI_API int xi_catalog_builder(struct xi_catalog *cat, const struct xi_chain_desc *desc,
			      struct xi_chain_builder **ret, struct xi_err *err);
/* Builds b's chain (b from xi_catalog_builder: text parsed once may be built
 * more than once), counted in cat's stats as xi_catalog_build counts. */
XI_API int xi_catalog_build_from(struct xi_catalog *cat, struct xi_chain_builder *b,
				 const struct xi_build_ctx *ctx, struct xi_chain **ret,
				 struct xi_err *err);
/* Parse text, make the builder, build the chain: counted in the stats (any
 * failure, parse errors included, counts as a build failure). */
XI_API int xi_catalog_build(struct xi_catalog *cat, const char *chain_text,
			    const struct xi_build_ctx *ctx, struct xi_chain **ret,
			    struct xi_err *err);

/* The chain text with every element named by the exact version a bare name
 * resolves to now ("ssrc-filter@1.0 mode=allow ! header-stats@1.0"). */
XI_API int xi_catalog_resolve(struct xi_catalog *cat, const char *chain_text, char *buf,
			      size_t size, struct xi_err *err);

/* ---- global discovery ---- */

struct xi_global_entry {
	const struct xi_factory *factory;
	struct xi_global_entry *next;
	const char *file;          /* where XI_CATALOG_REGISTER stands: the origin */
	unsigned line;
};

/* Both are idempotent and thread-safe; NULL is fine. */
XI_API void xi_global_link(struct xi_global_entry *e);
XI_API void xi_global_unlink(struct xi_global_entry *e);

/*
 * Put this at file scope beside a factory. The constructor only links a
 * static node into the global list; the destructor unlinks it, so a shared
 * object that registers and is later dlclose()d leaves nothing dangling.
 * Copies already made (catalogs, chains) still point at the factory: free
 * them before dlclose(). In a static library, pair it with
 * XI_CATALOG_ANCHOR, or the linker may leave the object file out.
 */
#define XI_CATALOG_REGISTER(fac)                                              \
	static struct xi_global_entry xi__global_##fac = { &(fac), NULL, __FILE__, __LINE__ }; \
	__attribute__((constructor)) static void xi__register_##fac(void)     \
	{                                                                     \
		xi_global_link(&xi__global_##fac);                            \
	}                                                                     \
	__attribute__((destructor)) static void xi__unregister_##fac(void)    \
	{                                                                     \
		xi_global_unlink(&xi__global_##fac);                          \
	}

/*
 * Static links. A linker takes an object file out of a static library only
 * when something already linked refers to one of its symbols, and nothing
 * refers to a factory that only registers itself. The pair below makes that
 * reference, for any library, without --whole-archive:
 *
 *   XI_CATALOG_ANCHOR(my_filter)  in the factory's .c file, beside
 *                                 XI_CATALOG_REGISTER: defines the symbol
 *                                 xi_anchor_my_filter;
 *   XI_CATALOG_USE(my_filter)     in a .c file of the program (or in a header
 *                                 of the library that the program includes):
 *                                 refers to it, so the object is kept.
 *
 * sym is any C identifier unique across the program. libxicept's built-ins
 * are used by registry/builtin.c, so programs need no XI_CATALOG_USE for
 * them. A shared library needs neither.
 */
#define XI_CATALOG_ANCHOR(sym)                                                \
	extern const char xi_anchor_##sym;                                    \
	const char xi_anchor_##sym = 1;

#define XI_CATALOG_USE(sym)                                                   \
	extern const char xi_anchor_##sym;                                    \
	__attribute__((used)) static const char *const xi__use_##sym = &xi_anchor_##sym;

#ifdef __cplusplus
}
#endif
#endif
