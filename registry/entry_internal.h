/* SPDX-License-Identifier: MIT */
/*
 * Making catalog entries: for the catalog only. Everyone else holds entries
 * through the public get and put of catalog.h.
 */
#ifndef XICEPT_ENTRY_INTERNAL_H
#define XICEPT_ENTRY_INTERNAL_H

#include <xicept/catalog.h>

/* A new entry for f with one reference, which also counts on f: f's release
 * waits for this entry, and every other one pointing at f, to be freed.
 * -ENOMEM. */
int xi_entry_new(const struct xi_factory *f, enum xi_origin_kind kind, const char *origin,
		 struct xi_catalog_entry **ret);
/* Frees an entry nobody else ever saw, dropping its count on f without
 * calling release: a registration that failed never owned f. */
void xi_entry_discard(struct xi_catalog_entry *e);
/* A chain made from e opened (+1) or closed (-1): the entry's use count. */
void xi_entry_use(struct xi_catalog_entry *e, int delta);
/* MAJOR << 16 | MINOR, 1.0 for a factory that says nothing: the order of versions. */
uint32_t xi_factory_version_u32(const struct xi_factory *f);

#endif
