// SPDX-License-Identifier: MIT
/*
 * The chain builder, pion's interceptor.Registry: (factory, config) pairs in
 * execution order. Each build gives a chain of new interceptors that owns
 * copies of the configs and catalog entry references of its own, so it
 * outlives the builder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/registry.h>

#include "registry/chain_internal.h"
#include "registry/entry_internal.h"

struct builder_elem {
	const struct xi_factory *factory;
	struct xi_catalog_entry *entry;   /* a held reference, or NULL */
	void *config;                     /* factory->config_size bytes, or NULL */
};

struct xi_chain_builder {
	size_t n;
	struct builder_elem elems[XI_CHAIN_MAX];
};

struct xi_chain_builder *xi_chain_builder_new(void)
{
	struct xi_chain_builder *b = calloc(1, sizeof(*b));

	if (!b)
		errno = ENOMEM;
	return b;
}

void xi_chain_builder_free(struct xi_chain_builder *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++) {
		xi_catalog_entry_put(b->elems[i].entry);
		free(b->elems[i].config);
	}
	free(b);
}

size_t xi_chain_builder_len(const struct xi_chain_builder *b)
{
	return b ? b->n : 0;
}

/* A zero-size config is no config: NULL, never a zero-byte allocation. */
static int config_dup(const struct xi_factory *f, const void *src, void **ret)
{
	void *cfg;
	int rc;

	*ret = NULL;
	if (!f->config_size)
		return 0;
	cfg = malloc(f->config_size);
	if (!cfg)
		return -ENOMEM;
	if (src) {
		memcpy(cfg, src, f->config_size);
	} else {
		rc = xi_config_defaults(f, cfg, NULL);
		if (rc < 0) {
			free(cfg);
			return rc;
		}
	}
	*ret = cfg;
	return 0;
}

static int builder_append(struct xi_chain_builder *b, const struct xi_factory *f,
			  struct xi_catalog_entry *entry, const void *config)
{
	struct builder_elem *el;
	int rc;

	if (!b || !f || !f->name || !f->new_interceptor)
		return -EINVAL;
	if (b->n >= XI_CHAIN_MAX)
		return -E2BIG;
	el = &b->elems[b->n];
	rc = config_dup(f, config, &el->config);
	if (rc < 0)
		return rc;
	el->factory = f;
	el->entry = xi_catalog_entry_get(entry);
	b->n++;
	return 0;
}

int xi_chain_builder_add(struct xi_chain_builder *b, const struct xi_factory *f,
			 const void *config)
{
	return builder_append(b, f, NULL, config);
}

int xi_chain_builder_add_entry(struct xi_chain_builder *b, struct xi_catalog_entry *entry,
			       const void *config)
{
	if (!entry)
		return -EINVAL;
	return builder_append(b, xi_catalog_entry_factory(entry), entry, config);
}

/* Closes slots [0, made) newest first, the reverse of how they were made.
 * A build that wrote kernel state removes what it wrote: a failed build
 * leaves nothing. */
static void build_unwind(struct xi_chain *chain, size_t made, const struct xi_build_ctx *ctx)
{
	unsigned flags = ctx && (ctx->flags & XI_BUILD_WRITE_STATE) ? XI_CLOSE_REMOVE_STATE : 0;

	while (made--)
		xi_interceptor_close_flags(chain->slots[made].ic, flags);
	xi_chain_discard(chain);
}

static int build_one(const struct builder_elem *el, const struct xi_build_ctx *ctx,
		     struct xi_chain_slot *slot)
{
	const struct xi_factory *f = el->factory;
	struct xi_interceptor *ic = NULL;
	int rc;

	rc = config_dup(f, el->config, &slot->config);
	if (rc < 0)
		return rc;
	slot->factory = f;
	/* The factory gets the chain's copy: an interceptor may keep pointing
	 * at its config, and the chain outlives the builder. */
	rc = f->new_interceptor(f, slot->config, ctx, &ic);
	if (rc >= 0 && !ic)
		rc = -EINVAL;
	if (rc < 0)
		return rc;
	ic->name = f->name;
	slot->ic = ic;
	slot->entry = xi_catalog_entry_get(el->entry);
	xi_entry_use(slot->entry, 1);
	return 0;
}

int xi_chain_builder_build(struct xi_chain_builder *b, const struct xi_build_ctx *ctx,
			   struct xi_chain **ret, struct xi_err *err)
{
	static const struct xi_build_ctx no_ctx;
	struct xi_chain *chain;
	char ebuf[128];
	size_t i;
	int rc;

	xi_err_clear(err);
	if (!b || !ret)
		return xi_err_set(err, -EINVAL, "build: no builder or result");
	chain = xi_chain_alloc(b->n);
	if (!chain)
		return xi_err_set(err, -ENOMEM, "build: %s",
				  strerror_r(ENOMEM, ebuf, sizeof(ebuf)));
	for (i = 0; i < b->n; i++) {
		rc = build_one(&b->elems[i], ctx ? ctx : &no_ctx, &chain->slots[i]);
		if (rc < 0) {
			build_unwind(chain, i, ctx);
			return xi_err_set(err, rc, "build: %s[%zu]: %s",
					  b->elems[i].factory->name, i,
					  strerror_r(-rc, ebuf, sizeof(ebuf)));
		}
	}
	*ret = chain;
	return 0;
}
