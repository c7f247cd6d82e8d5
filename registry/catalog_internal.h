/* SPDX-License-Identifier: MIT */
/* Shared by registry/catalog*.c and registry/builtin.c. */
#ifndef XICEPT_CATALOG_INTERNAL_H
#define XICEPT_CATALOG_INTERNAL_H

#include <stdint.h>
#include <xicept/catalog.h>

/* 0, or -EINVAL with err (may be NULL) saying what is wrong with f: its name,
 * kind, new_interceptor or key table. register's check. */
int xi_factory_check(const struct xi_factory *f, struct xi_err *err);

/* xi_catalog_lookup without its counters: for the registry's and the plugin
 * loader's own checks (is this NAME@VERSION taken?), which are no lookup a
 * user made and must not show as misses on /metrics. */
int xi_catalog_find(struct xi_catalog *cat, const char *name, struct xi_catalog_entry **ret);

/* Counts one build into the stats: a failure when rc != 0, else ns taken. */
void xi_catalog_count_build(struct xi_catalog *cat, int rc, uint64_t ns);

/* The names of cat, each once and sorted, joined by ", " into buf (cut when
 * it is too small), for an error that lists them. How many names there are,
 * or a negative errno. */
int xi_catalog_known(struct xi_catalog *cat, char *buf, size_t size);

/* Keeps every built-in in a static link (registry/builtin.c): calling it is
 * what pulls builtin.o, and its anchor uses, into the program. Returns how
 * many built-ins there are. */
unsigned xi_builtins_keep(void);

/* While set (not NULL), xi_catalog_register on this thread records this
 * origin: the plugin loader sets it around a plugin's init. */
void xi_catalog_origin_scope(enum xi_origin_kind kind, const char *origin);

#endif
