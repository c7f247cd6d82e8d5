/* SPDX-License-Identifier: MIT */
/*
 * Plugin stages on an interface (user/dataplane/plugin_stage.c): what the
 * one walker (xi_dataplane_stage_at, stage.h) adds after the built-ins, each
 * with the interface's slot.
 */
#ifndef XICEPT_DATAPLANE_PLUGIN_STAGE_H
#define XICEPT_DATAPLANE_PLUGIN_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include <xicept/error.h>
#include <xicept/registry.h>

#include "user/dataplane/stage.h"

struct xi_dataplane;

/* Opens the pins of every plugin stage loaded on the interface (xi_dataplane_open). */
int xi_dataplane_plugin_stages_open(struct xi_dataplane *dp);
void xi_dataplane_plugin_stages_free(struct xi_dataplane *dp);
/* The i-th plugin stage loaded on the interface, or NULL: the part of
 * xi_dataplane_stage_at (stage.h) after the built-ins. */
const struct xi_stage *xi_dataplane_plugin_stage_at(const struct xi_dataplane *dp, size_t i);
/* "ssrc-filter", or "pt-filter@1.0" for a plugin's slot; NULL for an empty one. */
const char *xi_dataplane_slot_name(const struct xi_dataplane *dp, uint32_t slot);
/* The slot f's stage runs in on this interface: a built-in's, or a
 * plugin's, loaded there first if need be. -ENOENT: f has no stage. */
int xi_dataplane_stage_slot_of(struct xi_dataplane *dp, const struct xi_factory *f,
			       uint32_t *ret, struct xi_err *err);

/* The XDP stages connection id runs, in order, as slot names: a plugin's
 * with the version it was loaded as ("pt-filter@1.0"). Valid while dp is. */
int xi_dataplane_conn_stage_names(struct xi_dataplane *dp, uint32_t id, const char **names,
				  size_t cap, size_t *ret_n);

#endif
