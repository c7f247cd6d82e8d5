// SPDX-License-Identifier: MIT
/*
 * The table of built-in stages, made from XI_STAGES, and the one walker over
 * an interface's stages. Naming every xi_stage_<sym> here is also what keeps
 * each definition's object file, and so its factory, in a static link.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/dataplane/plugin_stage.h"
#include "user/dataplane/stage.h"

#define XI_STAGE_ADDRESS_(ID, slot, sym) &xi_stage_##sym,
static const struct xi_stage *const stages[] = { XI_STAGES(XI_STAGE_ADDRESS_) };
#undef XI_STAGE_ADDRESS_

#define XI_STAGE_CHECK_(ID, slot, sym) \
	_Static_assert((slot) < XI_STAGES_SLOTS, "stage " #sym ": slot past xi_stages");
XI_STAGES(XI_STAGE_CHECK_)
#undef XI_STAGE_CHECK_

#define N_BUILTIN (sizeof(stages) / sizeof(stages[0]))

const struct xi_stage *xi_dataplane_stage_at(const struct xi_dataplane *dp, size_t i)
{
	if (i < N_BUILTIN)
		return stages[i];
	return dp ? xi_dataplane_plugin_stage_at(dp, i - N_BUILTIN) : NULL;
}

const struct xi_stage *xi_stage_by_slot(uint32_t slot)
{
	for (size_t i = 0; i < N_BUILTIN; i++)
		if (stages[i]->slot == slot)
			return stages[i];
	return NULL;
}

int xi_stage_fill_slots(struct bpf_object *obj, int prog_array_fd, enum xi_stage_fill what)
{
	const struct xi_stage *d;

	for (size_t i = 0; (d = xi_dataplane_stage_at(NULL, i)); i++) {
		const char *name = what == XI_FILL_EGRESS ? d->egress_prog : d->prog;
		struct bpf_program *p;
		__u32 slot = d->slot;
		int fd;

		if (!name || (d->on_demand && what != XI_FILL_PROGS))
			continue;
		p = bpf_object__find_program_by_name(obj, name);
		if (!p)
			return -ENOENT;
		/* xi_progs is an XDP program array: the egress entry's TC
		 * program is found through its own filter. */
		if (what == XI_FILL_PROGS && bpf_program__type(p) != BPF_PROG_TYPE_XDP)
			continue;
		fd = bpf_program__fd(p);
		if (bpf_map_update_elem(prog_array_fd, &slot, &fd, BPF_ANY))
			return -errno;
	}
	return 0;
}
