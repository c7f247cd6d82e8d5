/* SPDX-License-Identifier: MIT */
/*
 * The stages of an interface (struct xi_stage, <xicept/stage.h>). Each line
 * X(ID, slot, sym) of XI_STAGES (abi.h) is a built-in whose definition is
 * xi_stage_<sym>, beside its factory; plugin stages join per interface
 * (plugin_stage.c). The loader, the sweeps of conn del and set-chain,
 * `stats` and `status` all walk them with xi_dataplane_stage_at, so adding
 * an XDP-kind interceptor touches no code of the dataplane.
 */
#ifndef XICEPT_DATAPLANE_STAGE_H
#define XICEPT_DATAPLANE_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xicept/abi.h>
#include <xicept/dataplane.h>
#include <xicept/stage.h>

#define XI_STAGE_DESC_DECLARE_(ID, slot, sym) extern const struct xi_stage xi_stage_##sym;
XI_STAGES(XI_STAGE_DESC_DECLARE_)
#undef XI_STAGE_DESC_DECLARE_

/* The descriptor of a slot, or NULL. */
const struct xi_stage *xi_stage_by_slot(uint32_t slot);
/*
 * The one walker: every stage of the interface dp, in slot order for the
 * built-ins, then the plugin stages loaded there, each with the slot it has
 * on dp. With dp NULL: the stages of libxicept's own object (the loader's).
 *   for (i = 0; (d = xi_dataplane_stage_at(dp, i)); i++)
 */
const struct xi_stage *xi_dataplane_stage_at(const struct xi_dataplane *dp, size_t i);

struct bpf_object;
/* Which program array xi_stage_fill_slots fills from obj, by slot. */
enum xi_stage_fill {
	XI_FILL_STAGES,   /* xi_stages: each prog not on demand */
	XI_FILL_EGRESS,   /* xi_egress_stages: each egress_prog not on demand */
	XI_FILL_PROGS,    /* xi_progs, the keep-alive copy: every XDP prog, on demand too */
};
/* Puts the built-in stages' programs into their slots of prog_array_fd.
 * -ENOENT when obj lacks a described program. */
int xi_stage_fill_slots(struct bpf_object *obj, int prog_array_fd, enum xi_stage_fill what);

#endif
