// SPDX-License-Identifier: MIT
/*
 * The CLI's plugins: before any command, every *.so of each --plugin-dir,
 * then of each directory of $XICEPT_PLUGIN_PATH, then of the installed
 * plugin directory is loaded into the catalog the command will use. A bad
 * plugin costs one line on stderr naming the file; the command goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/plugin.h>

#include "cli.h"

#ifndef XI_PLUGIN_DIR
#define XI_PLUGIN_DIR "/usr/local/lib/xicept/plugins"
#endif

static const char **plugin_dirs;
static size_t n_plugin_dirs;
static struct xi_catalog *loaded;     /* made before the command, handed to it once */

int cli_plugin_dir_add(const char *dir)
{
	const char **v = realloc(plugin_dirs, (n_plugin_dirs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	plugin_dirs = v;
	plugin_dirs[n_plugin_dirs++] = dir;
	return 0;
}

static void plugin_report(void *user, const char *path, int code, const char *msg)
{
	bool *quiet = user;

	if (!*quiet)
		fprintf(stderr, "xicept: plugin %s: %s; skipped\n", path, msg);
}

/* explicit: a directory the operator named must exist. */
static int dir_load(struct xi_catalog *cat, const char *dir, bool explicit, bool quiet)
{
	int rc = xi_plugin_load_dir(cat, dir, plugin_report, &quiet);

	if (rc == -ENOENT && !explicit)
		return 0;
	if (rc < 0) {
		if (!quiet)
			cli_fail("plugin directory %s: %s", dir, strerror(-rc));
		return explicit ? rc : 0;
	}
	return 0;
}

/* The catalog of built-ins and plugins; quiet: the failures were told once. */
static struct xi_catalog *catalog_make(bool quiet)
{
	struct xi_catalog *cat = NULL;
	struct xi_err err = { 0 };
	const char *env = getenv("XICEPT_PLUGIN_PATH");
	int rc = 0;

	if (xi_catalog_new_from_global_err(&cat, &err)) {
		cli_fail("cannot build the interceptor catalog: %s", err.msg);
		return NULL;
	}
	for (size_t i = 0; i < n_plugin_dirs && !rc; i++)
		rc = dir_load(cat, plugin_dirs[i], true, quiet);
	if (!rc && env && *env) {
		char *copy = strdup(env), *save = NULL;

		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !rc;
		     d = strtok_r(NULL, ":", &save))
			rc = dir_load(cat, d, false, quiet);
		free(copy);
	}
	if (!rc)
		rc = dir_load(cat, XI_PLUGIN_DIR, false, quiet);
	if (rc) {
		xi_catalog_free(cat);
		return NULL;
	}
	return cat;
}

int cli_plugins_load(void)
{
	loaded = catalog_make(false);
	return loaded ? 0 : CLI_EXIT_FAIL;
}

struct xi_catalog *cli_catalog(void)
{
	struct xi_catalog *cat = loaded;

	if (cat) {
		loaded = NULL;
		return cat;
	}
	return catalog_make(true);
}

void cli_plugins_free(void)
{
	xi_catalog_free(loaded);
	loaded = NULL;
	free(plugin_dirs);
	plugin_dirs = NULL;
	n_plugin_dirs = 0;
}
