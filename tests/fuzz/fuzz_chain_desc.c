// SPDX-License-Identifier: MIT
/*
 * Chain descriptions as operators type them. Whatever parses must format to
 * canonical text that parses to the same description, and every element must
 * either configure against its built-in factory or fail with -EINVAL and a
 * message; unknown names must miss with -ENOENT. Whatever fails to parse
 * fails with a message and no output.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct xi_catalog *cat;

static void check_elements(const struct xi_chain_desc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct xi_catalog_entry *e;
		const struct xi_factory *f;
		struct xi_err err = { 0 };
		void *cfg;
		int r;

		r = xi_catalog_lookup(cat, d->elems[i].name, &e);
		if (r) {
			CHECK(r == -ENOENT);
			continue;
		}
		f = xi_catalog_entry_factory(e);
		cfg = calloc(1, f->config_size ? f->config_size : 1);
		CHECK(cfg);
		r = xi_config_parse(f, &d->elems[i], cfg, &err);
		CHECK(r == 0 || (r == -EINVAL && err.msg[0]));
		free(cfg);
		xi_catalog_entry_put(e);
	}
}

static int same(const struct xi_chain_desc *a, const struct xi_chain_desc *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct xi_chain_elem *x = &a->elems[i], *y = &b->elems[i];

		if (strcmp(x->name, y->name) || x->n_params != y->n_params)
			return 0;
		for (size_t k = 0; k < x->n_params; k++)
			if (strcmp(x->params[k].key, y->params[k].key) ||
			    strcmp(x->params[k].value, y->params[k].value))
				return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xi_chain_desc *d = NULL, *again = NULL;
	struct xi_err err = { 0 };
	char *text, buf[4096];
	int r, n;

	if (!cat) {
		cat = xi_catalog_new_from_global();
		CHECK(cat);
	}
	text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';

	r = xi_chain_desc_parse(text, &d, &err);
	if (r) {
		CHECK(r < 0 && d == NULL && err.msg[0]);
		free(text);
		return 0;
	}
	check_elements(d);
	n = xi_chain_desc_format(d, buf, sizeof(buf));
	CHECK(n >= 0);
	if ((size_t)n < sizeof(buf)) {
		CHECK(xi_chain_desc_parse(buf, &again, &err) == 0);
		CHECK(same(d, again));
		xi_chain_desc_free(again);
	}
	xi_chain_desc_free(d);
	free(text);
	return 0;
}
