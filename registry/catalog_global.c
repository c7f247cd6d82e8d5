// SPDX-License-Identifier: MIT
/*
 * The global discovery list: XI_CATALOG_REGISTER links a static node per
 * factory before main() and unlinks it when its object is unloaded;
 * xi_catalog_new_from_global copies the list into a scoped catalog, as nginx
 * copies its static module list into each configuration cycle.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <xicept/catalog.h>

#include "registry/catalog_internal.h"

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xi_global_entry *global_head;

/* global_lock held. The link that points at e, or at NULL. */
static struct xi_global_entry **global_find(struct xi_global_entry *e)
{
	struct xi_global_entry **it = &global_head;

	while (*it && *it != e)
		it = &(*it)->next;
	return it;
}

void xi_global_link(struct xi_global_entry *e)
{
	if (!e || !e->factory)
		return;
	pthread_mutex_lock(&global_lock);
	if (!*global_find(e)) {
		e->next = global_head;
		global_head = e;
	}
	pthread_mutex_unlock(&global_lock);
}

void xi_global_unlink(struct xi_global_entry *e)
{
	struct xi_global_entry **at;

	if (!e)
		return;
	pthread_mutex_lock(&global_lock);
	at = global_find(e);
	if (*at) {
		*at = e->next;
		e->next = NULL;
	}
	pthread_mutex_unlock(&global_lock);
}

/* Why the global list could not be copied, naming the factory: two of one
 * name, or a malformed one, is a build mistake the program should show. */
static int global_fail(int rc, const struct xi_factory *f, struct xi_err *err)
{
	const char *name = f->name ? f->name : "(null)";

	if (rc == -EEXIST)
		return xi_err_set(err, rc, "global list: interceptor '%s' is registered twice",
				  name);
	if (rc == -EINVAL && xi_factory_check(f, err) == -EINVAL)
		return rc;
	return xi_err_set(err, rc, "global list: cannot register interceptor '%s': %s", name,
			  strerror(-rc));
}

int xi_catalog_new_from_global_err(struct xi_catalog **ret, struct xi_err *err)
{
	const struct xi_factory *f = NULL;
	struct xi_catalog *cat;
	char origin[256];
	int rc = 0;

	xi_err_clear(err);
	if (!ret)
		return xi_err_set(err, -EINVAL, "global list: no result");
	xi_builtins_keep();
	cat = xi_catalog_new();
	if (!cat)
		return xi_err_set(err, -ENOMEM, "global list: out of memory");
	pthread_mutex_lock(&global_lock);
	for (struct xi_global_entry *g = global_head; g && !rc; g = g->next) {
		f = g->factory;
		snprintf(origin, sizeof(origin), "%s:%u", g->file ? g->file : "?", g->line);
		rc = xi_catalog_register_origin(cat, f, XI_ORIGIN_BUILTIN, origin);
	}
	pthread_mutex_unlock(&global_lock);
	if (rc) {
		xi_catalog_free(cat);
		return global_fail(rc, f, err);
	}
	*ret = cat;
	return 0;
}

struct xi_catalog *xi_catalog_new_from_global(void)
{
	struct xi_catalog *cat = NULL;
	int rc = xi_catalog_new_from_global_err(&cat, NULL);

	if (rc)
		errno = -rc;
	return cat;
}
