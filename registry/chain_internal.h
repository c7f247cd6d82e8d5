/* SPDX-License-Identifier: MIT */
/*
 * The chain's layout, shared by chain.c and chain_builder.c only: the builder
 * fills each slot's factory, config copy and entry reference while it builds.
 */
#ifndef XICEPT_CHAIN_INTERNAL_H
#define XICEPT_CHAIN_INTERNAL_H

#include <stddef.h>
#include <xicept/registry.h>

#define XI_HIDDEN __attribute__((visibility("hidden")))

struct xi_chain_slot {
	struct xi_interceptor *ic;
	const struct xi_factory *factory; /* NULL unless made by a chain builder */
	void *config;                     /* the chain's own copy, or NULL */
	struct xi_catalog_entry *entry;   /* a held reference, or NULL */
};

struct xi_chain {
	struct xi_interceptor self;       /* the chain viewed as one interceptor */
	size_t n;
	struct xi_chain_slot *slots;
};

/* n empty slots; NULL + errno. */
XI_HIDDEN struct xi_chain *xi_chain_alloc(size_t n);
/* Frees configs, drops entry references and frees the chain, without closing
 * any interceptor: the caller closed them first, or never made them. */
XI_HIDDEN void xi_chain_discard(struct xi_chain *chain);

#endif
