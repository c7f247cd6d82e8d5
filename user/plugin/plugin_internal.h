/* SPDX-License-Identifier: MIT */
/*
 * Between the plugin loader (user/plugin/plugin.c) and the table of plugin
 * stages (user/dataplane/plugin_stage.c): the stages a plugin describes in
 * its init are staged, and kept only when the plugin is.
 */
#ifndef XICEPT_PLUGIN_INTERNAL_H
#define XICEPT_PLUGIN_INTERNAL_H

#include <stdbool.h>

#include <xicept/error.h>
#include <xicept/plugin.h>

/* Around one plugin's init: stages added in between belong to info. */
void xi_plugin_stages_begin(const struct xi_plugin_info *info);
/* 0, or the first error an xi_plugin_stage_add of this init met, in err. */
int xi_plugin_stages_check(struct xi_err *err);
/* Keeps the staged stages (keep) or forgets them. */
void xi_plugin_stages_end(bool keep);
/* One more load failure of file (a plugin or a stage object). */
void xi_plugin_failure_count(const char *file);

#endif
