// SPDX-License-Identifier: MIT
/*
 * Chains from text: each element of a chain description is looked up in the
 * catalog, its config parsed through the factory's key table, and the result
 * handed to a chain builder. Errors name the element; unknown names come with
 * a suggestion.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/registry.h>

#include "registry/catalog_internal.h"
#include "user/lib/clock.h"

static int unknown_name(struct xi_catalog *cat, const char *name, struct xi_err *err)
{
	char near[XI_NAME_MAX], bare[XI_NAME_MAX], have[XI_ID_MAX], known[XI_ERR_MSG_MAX];
	struct xi_catalog_entry *e;
	bool versioned;
	int n;

	if (xi_name_split(name, bare, &versioned, NULL, NULL))
		return xi_err_set(err, -ENOENT, "unknown interceptor '%s' (a name is NAME or "
				  "NAME@MAJOR.MINOR)", name);
	/* The miss of name is counted already: this check is the catalog's own. */
	if (versioned && xi_catalog_find(cat, bare, &e) == 0) {
		xi_factory_id(xi_catalog_entry_factory(e), have, sizeof(have));
		xi_catalog_entry_put(e);
		return xi_err_set(err, -ENOENT, "unknown version '%s' (the highest is '%s')",
				  name, have);
	}
	name = bare;

	if (xi_catalog_suggest(cat, name, near, sizeof(near)) == 0)
		return xi_err_set(err, -ENOENT, "unknown interceptor '%s' (did you mean '%s'?)",
				  name, near);
	/* Nothing near enough to guess: what there is, as for an unknown key. */
	n = xi_catalog_known(cat, known, sizeof(known));
	if (n == 0)
		return xi_err_set(err, -ENOENT, "unknown interceptor '%s' (the catalog is empty)",
				  name);
	if (n > 0)
		return xi_err_set(err, -ENOENT, "unknown interceptor '%s' (known: %s)", name, known);
	return xi_err_set(err, -ENOENT, "unknown interceptor '%s'", name);
}

/* Parses elem's config for entry e's factory and appends both to b. */
static int builder_add_parsed(struct xi_chain_builder *b, struct xi_catalog_entry *e,
			      const struct xi_chain_elem *elem, struct xi_err *err)
{
	const struct xi_factory *f = xi_catalog_entry_factory(e);
	void *cfg = calloc(1, f->config_size ? f->config_size : 1);
	int rc;

	rc = cfg ? xi_config_parse(f, elem, cfg, err) : -ENOMEM;
	if (!rc) {
		rc = xi_chain_builder_add_entry(b, e, cfg);
		if (rc)
			xi_err_set(err, rc, "%s: cannot add to the chain: %s", elem->name,
				   strerror(-rc));
	} else if (rc == -ENOMEM) {
		xi_err_set(err, rc, "%s: out of memory", elem->name);
	}
	free(cfg);
	return rc;
}

static int builder_add_elem(struct xi_catalog *cat, struct xi_chain_builder *b,
			    const struct xi_chain_elem *elem, struct xi_err *err)
{
	struct xi_catalog_entry *e;
	int rc;

	if (!elem->name)
		return xi_err_set(err, -EINVAL, "chain: an element has no name");
	rc = xi_catalog_lookup(cat, elem->name, &e);
	if (rc == -ENOENT)
		return unknown_name(cat, elem->name, err);
	if (rc)
		return xi_err_set(err, rc, "%s: lookup failed: %s", elem->name, strerror(-rc));
	rc = builder_add_parsed(b, e, elem, err);
	xi_catalog_entry_put(e);
	return rc;
}

int xi_catalog_builder(struct xi_catalog *cat, const struct xi_chain_desc *desc,
		       struct xi_chain_builder **ret, struct xi_err *err)
{
	struct xi_chain_builder *b;
	int rc;

	if (!cat || !desc || !ret || desc->n > XI_CHAIN_MAX)
		return xi_err_set(err, -EINVAL, "catalog: bad arguments");
	b = xi_chain_builder_new();
	if (!b)
		return xi_err_set(err, -ENOMEM, "catalog: out of memory");
	for (size_t i = 0; i < desc->n; i++) {
		rc = builder_add_elem(cat, b, &desc->elems[i], err);
		if (rc) {
			xi_chain_builder_free(b);
			return rc;
		}
	}
	*ret = b;
	return 0;
}

int xi_catalog_build_from(struct xi_catalog *cat, struct xi_chain_builder *b,
			  const struct xi_build_ctx *ctx, struct xi_chain **ret, struct xi_err *err)
{
	static const struct xi_build_ctx no_ctx;
	uint64_t start = xi_mono_ns();
	int rc;

	if (!cat || !b || !ret)
		return xi_err_set(err, -EINVAL, "catalog: bad arguments");
	rc = xi_chain_builder_build(b, ctx ? ctx : &no_ctx, ret, err);
	xi_catalog_count_build(cat, rc, xi_mono_ns() - start);
	return rc;
}

int xi_catalog_build(struct xi_catalog *cat, const char *chain_text,
		     const struct xi_build_ctx *ctx, struct xi_chain **ret,
		     struct xi_err *err)
{
	static const struct xi_build_ctx no_ctx;
	struct xi_chain_desc *desc = NULL;
	struct xi_chain_builder *b = NULL;
	uint64_t start = xi_mono_ns();
	int rc;

	if (!cat || !chain_text || !ret)
		return xi_err_set(err, -EINVAL, "catalog: bad arguments");
	rc = xi_chain_desc_parse(chain_text, &desc, err);
	if (!rc)
		rc = xi_catalog_builder(cat, desc, &b, err);
	if (!rc)
		rc = xi_chain_builder_build(b, ctx ? ctx : &no_ctx, ret, err);
	xi_chain_builder_free(b);
	xi_chain_desc_free(desc);
	xi_catalog_count_build(cat, rc, xi_mono_ns() - start);
	return rc;
}

int xi_catalog_resolve(struct xi_catalog *cat, const char *chain_text, char *buf, size_t size,
		       struct xi_err *err)
{
	struct xi_chain_desc *desc = NULL;
	struct xi_catalog_entry *e;
	char id[XI_ID_MAX];
	int rc;

	if (!cat || !chain_text || !buf)
		return xi_err_set(err, -EINVAL, "catalog: bad arguments");
	rc = xi_chain_desc_parse(chain_text, &desc, err);
	for (size_t i = 0; !rc && i < desc->n; i++) {
		char *name;

		rc = xi_catalog_lookup(cat, desc->elems[i].name, &e);
		if (rc == -ENOENT) {
			rc = unknown_name(cat, desc->elems[i].name, err);
			break;
		}
		if (rc)
			break;
		xi_factory_id(xi_catalog_entry_factory(e), id, sizeof(id));
		xi_catalog_entry_put(e);
		name = strdup(id);
		if (!name) {
			rc = xi_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		free(desc->elems[i].name);
		desc->elems[i].name = name;
	}
	if (!rc) {
		rc = xi_chain_desc_format(desc, buf, size);
		if (rc >= 0 && (size_t)rc >= size)
			rc = xi_err_set(err, -ENOSPC, "chain: longer than %zu bytes with versions",
					size - 1);
		else if (rc >= 0)
			rc = 0;
	}
	xi_chain_desc_free(desc);
	return rc;
}
