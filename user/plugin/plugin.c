// SPDX-License-Identifier: MIT
/*
 * The plugin loader (include/xicept/plugin.h): ownership checks, dlopen,
 * the ABI handshake, init into a catalog of the plugin's own, and the move
 * of what it registered into the real catalog, all or nothing. Failures are
 * counted per file for /metrics, and init times kept per plugin for
 * /debug/registry.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xicept/catalog.h>
#include <xicept/plugin.h>
#include <xicept/registry.h>

#include "registry/catalog_internal.h"
#include "user/lib/clock.h"
#include "user/plugin/plugin_internal.h"

#ifndef XI_LIB_VERSION
#define XI_LIB_VERSION "0.1.0"
#endif

/* ---- by file: load failures, init times ---- */

struct by_file {
	pthread_mutex_t lock;
	struct file_value {
		char *file;     /* never freed nor moved once made: _at hands it out */
		uint64_t v;
	} *v;
	size_t n;
};

static struct by_file failures = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };
static struct by_file init_times = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

/* Adds x to file's value (add) or sets it to x. Out of memory, a new file is
 * not recorded: these are diagnostics. */
static void by_file_update(struct by_file *t, const char *file, bool add, uint64_t x)
{
	struct file_value *v;
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n && strcmp(t->v[i].file, file); i++)
		;
	if (i == t->n) {
		v = realloc(t->v, (t->n + 1) * sizeof(*v));
		if (v) {
			t->v = v;
			v[i] = (struct file_value){ strdup(file), 0 };
			if (v[i].file)
				t->n++;
		}
	}
	if (i < t->n)
		t->v[i].v = add ? t->v[i].v + x : x;
	pthread_mutex_unlock(&t->lock);
}

static int by_file_at(struct by_file *t, size_t i, const char **ret_file, uint64_t *ret_v)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&t->lock);
	if (i < t->n) {
		if (ret_file)
			*ret_file = t->v[i].file;
		if (ret_v)
			*ret_v = t->v[i].v;
		rc = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void xi_plugin_failure_count(const char *file)
{
	by_file_update(&failures, file, true, 1);
}

int xi_plugin_failure_at(size_t i, const char **ret_file, uint64_t *ret_count)
{
	return by_file_at(&failures, i, ret_file, ret_count);
}

int xi_plugin_loaded_at(size_t i, const char **ret_path, uint64_t *ret_init_ns)
{
	return by_file_at(&init_times, i, ret_path, ret_init_ns);
}

/* ---- ownership ---- */

static int owner_check(const char *path, const struct stat *st, bool dir, struct xi_err *err)
{
	const char *what = dir ? "directory " : "";

	if (st->st_uid != 0)
		return xi_err_set(err, -EPERM, "%s%s is owned by uid %u, not root", what, path,
				  (unsigned)st->st_uid);
	if (st->st_mode & S_IWGRP)
		return xi_err_set(err, -EPERM, "%s%s is writable by its group", what, path);
	if (st->st_mode & S_IWOTH)
		return xi_err_set(err, -EPERM, "%s%s is writable by others", what, path);
	return 0;
}

int xi_plugin_path_check(const char *path, struct xi_err *err)
{
	char real[PATH_MAX], *slash;
	struct stat st;
	int rc;

	if (!path)
		return xi_err_set(err, -EINVAL, "no path");
	if (!realpath(path, real))
		return xi_err_set(err, -errno, "cannot resolve: %s", strerror(errno));
	if (stat(real, &st))
		return xi_err_set(err, -errno, "%s: %s", real, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return xi_err_set(err, -EPERM, "%s is not a regular file", real);
	rc = owner_check(real, &st, false, err);
	/* Every directory up to /: whoever may write one may swap the file. */
	while (!rc && (slash = strrchr(real, '/'))) {
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st))
			return xi_err_set(err, -errno, "directory %s: %s", real, strerror(errno));
		rc = owner_check(real, &st, true, err);
		if (slash == real)
			break;
	}
	return rc;
}

/* ---- loading ---- */

/* Moves every entry of staged into cat, all or nothing: a name and version
 * already there refuses the plugin, naming where the other came from. */
static int plugin_commit(struct xi_catalog *cat, struct xi_catalog *staged, const char *path,
			 struct xi_err *err)
{
	struct xi_catalog_entry **v, *have;
	char id[XI_ID_MAX];
	size_t n, done = 0;
	int rc;

	rc = xi_catalog_entries(staged, &v, &n);
	if (rc)
		return xi_err_set(err, rc, "cannot list what it registered: %s", strerror(-rc));
	for (size_t i = 0; i < n && !rc; i++) {
		xi_factory_id(xi_catalog_entry_factory(v[i]), id, sizeof(id));
		/* Not a lookup: an absent id, the usual case, is no miss. */
		if (xi_catalog_find(cat, id, &have) == 0) {
			rc = xi_err_set(err, -EEXIST, "duplicate interceptor '%s' (already from %s)",
					id, xi_catalog_entry_origin(have));
			xi_catalog_entry_put(have);
		}
	}
	for (; !rc && done < n; done++) {
		rc = xi_catalog_register_origin(cat, xi_catalog_entry_factory(v[done]),
						XI_ORIGIN_PLUGIN, path);
		if (rc) {
			xi_factory_id(xi_catalog_entry_factory(v[done]), id, sizeof(id));
			xi_err_set(err, rc, rc == -EBUSY ? "cannot register '%s': the catalog is frozen"
						  : "cannot register '%s': %s", id, strerror(-rc));
			break;
		}
	}
	if (rc) {
		/* Undo the ones moved already: nothing is half-applied. */
		while (done-- > 0) {
			xi_factory_id(xi_catalog_entry_factory(v[done]), id, sizeof(id));
			xi_catalog_unregister(cat, id);
		}
	}
	xi_catalog_entries_free(v, n);
	return rc;
}

static int plugin_init(struct xi_catalog *cat, void *handle, const char *real,
		       struct xi_err *err)
{
	const uint32_t *abi = dlsym(handle, "xicept_plugin_abi");
	xi_plugin_init_fn init;
	struct xi_plugin_info info = { .sz = sizeof(info), .abi = XI_PLUGIN_ABI_VERSION,
				       .path = real, .version = XI_LIB_VERSION };
	struct xi_catalog *staged;
	char dir[PATH_MAX], *slash;
	uint64_t start, init_ns;
	int rc;

	if (!abi)
		return xi_err_set(err, -ENOENT, "missing symbol xicept_plugin_abi");
	if (*abi != XI_PLUGIN_ABI_VERSION)
		return xi_err_set(err, -EPROTO, "built for plugin ABI %u, this xicept has plugin ABI %u",
				  *abi, XI_PLUGIN_ABI_VERSION);
	*(void **)&init = dlsym(handle, "xicept_plugin_init");
	if (!init)
		return xi_err_set(err, -ENOENT, "missing symbol xicept_plugin_init");
	snprintf(dir, sizeof(dir), "%s", real);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	info.dir = dir;
	staged = xi_catalog_new();
	if (!staged)
		return xi_err_set(err, -ENOMEM, "out of memory");
	xi_catalog_origin_scope(XI_ORIGIN_PLUGIN, real);
	start = xi_mono_ns();
	rc = init(staged, &info);
	init_ns = xi_mono_ns() - start;
	xi_catalog_origin_scope(XI_ORIGIN_PLUGIN, NULL);
	if (rc > 0)
		rc = -EINVAL;   /* the contract: 0 or a negative errno */
	if (rc)
		xi_err_set(err, rc, "xicept_plugin_init failed: %s", strerror(-rc));
	else
		rc = xi_plugin_stages_stage(staged, dir, err);
	if (!rc)
		rc = plugin_commit(cat, staged, real, err);
	if (!rc)
		by_file_update(&init_times, real, false, init_ns);
	xi_plugin_stages_end(!rc);
	xi_catalog_free(staged);
	return rc;
}

static int plugin_load(struct xi_catalog *cat, const char *path, struct xi_err *err)
{
	char real[PATH_MAX];
	void *handle;
	int rc;

	xi_err_clear(err);
	if (!cat || !path)
		return xi_err_set(err, -EINVAL, "no catalog or no path");
	rc = xi_plugin_path_check(path, err);
	if (rc)
		return rc;
	if (!realpath(path, real))
		return xi_err_set(err, -errno, "cannot resolve: %s", strerror(errno));
	/* The real path, checked above: a link elsewhere cannot be swapped in. */
	handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *why = dlerror();

		return xi_err_set(err, -ENOEXEC, "cannot load: %s", why ? why : "dlopen failed");
	}
	rc = plugin_init(cat, handle, real, err);
	/* A plugin kept stays loaded: its factories live in it. */
	if (rc)
		dlclose(handle);
	return rc;
}

static int plugin_load_counted(struct xi_catalog *cat, const char *path, struct xi_err *err)
{
	int rc = plugin_load(cat, path, err);

	if (rc)
		xi_plugin_failure_count(path);
	return rc;
}

int xi_plugin_load(struct xi_catalog *cat, const char *path, struct xi_err *err)
{
	return plugin_load_counted(cat, path, err);
}

static int so_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 3 && !strcmp(de->d_name + n - 3, ".so");
}

int xi_plugin_load_dir(struct xi_catalog *cat, const char *dir, xi_plugin_report_fn report,
		       void *user)
{
	struct dirent **names;
	char path[PATH_MAX];
	struct xi_err err;
	int n, loaded = 0;

	if (!cat || !dir)
		return -EINVAL;
	n = scandir(dir, &names, so_filter, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		int rc;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path))
			rc = xi_err_set(&err, -ENAMETOOLONG, "path too long");
		else
			rc = plugin_load_counted(cat, path, &err);
		if (rc) {
			if (report)
				report(user, path, rc, err.msg);
		} else {
			loaded++;
		}
		free(names[i]);
	}
	free(names);
	return loaded;
}
