// SPDX-License-Identifier: MIT
/*
 * pion's ordered registry: (factory, config) pairs in execution order. Each
 * build gives a chain of new interceptors that owns copies of the configs
 * and catalog references of its own, so it outlives the registry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/registry.h>

#include "registry/chain_internal.h"

struct registry_elem {
	const struct xi_factory *factory;
	struct xi_catalog_entry *entry;   /* a held reference, or NULL */
	void *config;                     /* factory->config_size bytes, or NULL */
};

struct xi_registry {
	size_t n;
	struct registry_elem elems[XI_CHAIN_MAX];
};

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

struct xi_registry *xi_registry_new(void)
{
	struct xi_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		errno = ENOMEM;
	return reg;
}

void xi_registry_free(struct xi_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	for (i = 0; i < reg->n; i++) {
		xi_catalog_entry_put(reg->elems[i].entry);
		free(reg->elems[i].config);
	}
	free(reg);
}

size_t xi_registry_len(const struct xi_registry *reg)
{
	return reg ? reg->n : 0;
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

static int registry_append(struct xi_registry *reg, const struct xi_factory *f,
			   struct xi_catalog_entry *entry, const void *config)
{
	struct registry_elem *el;
	int rc;

	if (!reg || !f || !f->name || !f->new_interceptor)
		return -EINVAL;
	if (reg->n >= XI_CHAIN_MAX)
		return -E2BIG;
	el = &reg->elems[reg->n];
	rc = config_dup(f, config, &el->config);
	if (rc < 0)
		return rc;
	el->factory = f;
	el->entry = entry ? xi_catalog_entry_get(entry) : NULL;
	reg->n++;
	return 0;
}

int xi_registry_add(struct xi_registry *reg, const struct xi_factory *f,
		    const void *config)
{
	return registry_append(reg, f, NULL, config);
}

int xi_registry_add_entry(struct xi_registry *reg, struct xi_catalog_entry *entry,
			  const void *config)
{
	if (!entry)
		return -EINVAL;
	return registry_append(reg, xi_catalog_entry_factory(entry), entry, config);
}

/* Closes slots [0, made) newest first, the reverse of how they were made. */
static void build_unwind(struct xi_chain *chain, size_t made)
{
	while (made--)
		xi_interceptor_close(chain->slots[made].ic);
	xi_chain_discard(chain);
}

static int build_one(const struct registry_elem *el, const struct xi_build_ctx *ctx,
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
	 * at its config, and the chain outlives the registry. */
	rc = f->new_interceptor(f, slot->config, ctx, &ic);
	if (rc >= 0 && !ic)
		rc = -EINVAL;
	if (rc < 0)
		return rc;
	ic->name = f->name;
	ic->entry = el->entry ? xi_catalog_entry_get(el->entry) : NULL;
	slot->ic = ic;
	return 0;
}

int xi_registry_build(struct xi_registry *reg, const struct xi_build_ctx *ctx,
		      struct xi_chain **ret, struct xi_err *err)
{
	static const struct xi_build_ctx no_ctx;
	struct xi_chain *chain;
	char ebuf[128];
	size_t i;
	int rc;

	xi_err_clear(err);
	if (!reg || !ret)
		return xi_err_set(err, -EINVAL, "build: no registry or result");
	chain = xi_chain_alloc(reg->n);
	if (!chain)
		return xi_err_set(err, -ENOMEM, "build: %s",
				  strerror_r(ENOMEM, ebuf, sizeof(ebuf)));
	for (i = 0; i < reg->n; i++) {
		rc = build_one(&reg->elems[i], ctx ? ctx : &no_ctx, &chain->slots[i]);
		if (rc < 0) {
			build_unwind(chain, i);
			return xi_err_set(err, rc, "build: %s[%zu]: %s",
					  reg->elems[i].factory->name, i,
					  strerror_r(-rc, ebuf, sizeof(ebuf)));
		}
	}
	*ret = chain;
	return 0;
}
