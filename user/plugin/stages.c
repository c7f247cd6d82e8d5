// SPDX-License-Identifier: MIT
/*
 * The plugin stages this process knows: the struct xi_stage of every
 * XDP-kind factory a kept plugin registered, with the path of its object.
 * The loader stages them while a plugin loads and keeps them with the
 * plugin; the data plane (user/dataplane/plugin_stage.c) reads them when it
 * loads a stage on an interface. Nothing here calls the data plane.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#include "user/plugin/plugin_internal.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xi_plugin_stage_rec **table;
static size_t n_table;
/* Staged by the load under way (the loader serialises loads). */
static struct xi_plugin_stage_rec **staged;
static size_t n_staged;

/* A stats schema, if any, names one of the stage's nm maps, its fields
 * function and its schema. */
static bool stats_ok(const struct xi_stage_stats *s, size_t nm)
{
	return !s || (s->map < nm && s->fields && s->schema);
}

/* What a stage must say for the loader to take it. */
static int stage_check(const struct xi_factory *f, struct xi_err *err)
{
	const struct xi_stage *st = f->stage;
	size_t nm = 0;

	if (!st || st->sz < sizeof(*st) || !st->prog || !st->object || strchr(st->object, '/'))
		return xi_err_set(err, -EINVAL, "stage of '%s': needs a struct xi_stage with its "
				  "program and an object file name beside the plugin", f->name);
	if (st->slot != XI_STAGE_SLOT_ANY || st->on_demand || st->egress_prog)
		return xi_err_set(err, -EINVAL, "stage of '%s': a plugin's stage takes "
				  "XI_STAGE_SLOT_ANY, is not on demand and has no egress program",
				  f->name);
	for (; st->maps && st->maps[nm].name; nm++)
		;
	if (nm > XI_STAGE_MAPS_MAX)
		return xi_err_set(err, -EINVAL, "stage of '%s': more than %d maps", f->name,
				  XI_STAGE_MAPS_MAX);
	if (!stats_ok(st->stats, nm) || !stats_ok(st->stats2, nm))
		return xi_err_set(err, -EINVAL, "stage of '%s': a stats schema needs one "
				  "of its maps, fields and the schema", f->name);
	return 0;
}

static int stage_one(const struct xi_factory *f, const char *dir, struct xi_err *err)
{
	struct xi_plugin_stage_rec *ps, **v;
	struct xi_err e = { 0 };
	int rc = stage_check(f, err);

	if (rc)
		return rc;
	ps = calloc(1, sizeof(*ps));
	v = ps ? realloc(staged, (n_staged + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(ps);
		return xi_err_set(err, -ENOMEM, "out of memory");
	}
	staged = v;
	ps->f = f;
	xi_factory_id(f, ps->id, sizeof(ps->id));
	snprintf(ps->object, sizeof(ps->object), "%s/%s", dir, f->stage->object);
	rc = xi_plugin_path_check(ps->object, &e);
	if (rc) {
		free(ps);
		return xi_err_set(err, rc, "stage object %s: %s", f->stage->object, e.msg);
	}
	ps->stage = *f->stage;
	ps->stage.name = ps->id;   /* stats and status say which version */
	staged[n_staged++] = ps;
	return 0;
}

int xi_plugin_stages_stage(struct xi_catalog *cat, const char *dir, struct xi_err *err)
{
	struct xi_catalog_entry **v;
	size_t n;
	int rc;

	rc = xi_catalog_entries(cat, &v, &n);
	if (rc)
		return xi_err_set(err, rc, "cannot list what it registered: %s", strerror(-rc));
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct xi_factory *f = xi_catalog_entry_factory(v[i]);

		if (f->kind == XI_KIND_XDP)
			rc = stage_one(f, dir, err);
	}
	pthread_mutex_unlock(&table_lock);
	xi_catalog_entries_free(v, n);
	return rc;
}

void xi_plugin_stages_end(bool keep)
{
	struct xi_plugin_stage_rec **v;

	pthread_mutex_lock(&table_lock);
	v = keep && n_staged ? realloc(table, (n_table + n_staged) * sizeof(*v)) : NULL;
	if (v)
		table = v;
	for (size_t i = 0; i < n_staged; i++) {
		if (v)
			table[n_table++] = staged[i];
		else
			free(staged[i]);
	}
	free(staged);
	staged = NULL;
	n_staged = 0;
	pthread_mutex_unlock(&table_lock);
}

const struct xi_plugin_stage_rec *xi_plugin_stage_at(size_t i)
{
	const struct xi_plugin_stage_rec *ps;

	pthread_mutex_lock(&table_lock);
	ps = i < n_table ? table[i] : NULL;
	pthread_mutex_unlock(&table_lock);
	return ps;
}

const struct xi_plugin_stage_rec *xi_plugin_stage_of(const struct xi_factory *f)
{
	const struct xi_plugin_stage_rec *ps;

	for (size_t i = 0; f && (ps = xi_plugin_stage_at(i)); i++)
		if (ps->f == f)
			return ps;
	return NULL;
}

const struct xi_plugin_stage_rec *xi_plugin_stage_by_id(const char *id)
{
	const struct xi_plugin_stage_rec *ps;

	for (size_t i = 0; (ps = xi_plugin_stage_at(i)); i++)
		if (!strcmp(ps->id, id))
			return ps;
	return NULL;
}
