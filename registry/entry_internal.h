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
int xi_entry_new(const struct xi_factory *f, struct xi_catalog_entry **ret);
/* Frees an entry nobody else ever saw, dropping its count on f without
 * calling release: a registration that failed never owned f. */
void xi_entry_discard(struct xi_catalog_entry *e);

#endif
