/* SPDX-License-Identifier: MIT */
/*
 * The plugin loader's process-wide state, for the rest of libxicept: load
 * failures per file (user/plugin/plugin.c) and the stages of the plugins
 * kept (user/plugin/stages.c), which the data plane loads on interfaces.
 */
#ifndef XICEPT_PLUGIN_INTERNAL_H
#define XICEPT_PLUGIN_INTERNAL_H

#include <limits.h>
#include <stdbool.h>

#include <xicept/catalog.h>
#include <xicept/error.h>
#include <xicept/plugin.h>
#include <xicept/stage.h>

/* One plugin stage, for the life of the process. */
struct xi_plugin_stage_rec {
	const struct xi_factory *f;
	char id[XI_ID_MAX];              /* "pt-filter@1.0": its key in xi_plugins */
	char object[PATH_MAX];           /* the object's path, checked like the plugin's */
	struct xi_stage stage;           /* *f->stage, named id; slot XI_STAGE_SLOT_ANY */
};

/* Stages the stage of every XDP-kind factory of cat (a plugin's own catalog,
 * its object beside it in dir), after checking each: 0, or a negative errno
 * and err saying which and why. */
int xi_plugin_stages_stage(struct xi_catalog *cat, const char *dir, struct xi_err *err);
/* Keeps the staged stages (keep: the plugin is kept) or forgets them. */
void xi_plugin_stages_end(bool keep);
/* The kept stages: i-th, NULL past the end; f's; by "name@version". */
const struct xi_plugin_stage_rec *xi_plugin_stage_at(size_t i);
const struct xi_plugin_stage_rec *xi_plugin_stage_of(const struct xi_factory *f);
const struct xi_plugin_stage_rec *xi_plugin_stage_by_id(const char *id);

/* One more load failure of file (a plugin or a stage object). */
void xi_plugin_failure_count(const char *file);

#endif
