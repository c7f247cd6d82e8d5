// SPDX-License-Identifier: MIT
/*
 * The table of stage descriptors, made from XI_STAGES: naming every
 * xi_stage_<sym> here is also what keeps each descriptor's object file, and
 * so its factory, in a static link.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/dataplane/stage.h"

#define XI_STAGE_ADDRESS_(ID, slot, sym) &xi_stage_##sym,
static const struct xi_stage_desc *const stages[] = { XI_STAGES(XI_STAGE_ADDRESS_) };
#undef XI_STAGE_ADDRESS_

#define XI_STAGE_CHECK_(ID, slot, sym) \
	_Static_assert((slot) < XI_STAGES_SLOTS, "stage " #sym ": slot past xi_stages");
XI_STAGES(XI_STAGE_CHECK_)
#undef XI_STAGE_CHECK_

const struct xi_stage_desc *xi_stage_at(size_t i)
{
	return i < sizeof(stages) / sizeof(stages[0]) ? stages[i] : NULL;
}

const struct xi_stage_desc *xi_stage_by_slot(uint32_t slot)
{
	const struct xi_stage_desc *d;

	for (size_t i = 0; (d = xi_stage_at(i)); i++)
		if (d->slot == slot)
			return d;
	return NULL;
}

const struct xi_stage_desc *xi_stage_by_prog(const char *prog)
{
	const struct xi_stage_desc *d;

	for (size_t i = 0; prog && (d = xi_stage_at(i)); i++)
		if (!strcmp(d->prog, prog))
			return d;
	return NULL;
}

int xi_stage_fill_slots(struct bpf_object *obj, int prog_array_fd)
{
	const struct xi_stage_desc *d;

	for (size_t i = 0; (d = xi_stage_at(i)); i++) {
		struct bpf_program *p;
		__u32 slot = d->slot;
		int fd;

		if (d->on_demand)
			continue;
		p = bpf_object__find_program_by_name(obj, d->prog);
		if (!p)
			return -ENOENT;
		fd = bpf_program__fd(p);
		if (bpf_map_update_elem(prog_array_fd, &slot, &fd, BPF_ANY))
			return -errno;
	}
	return 0;
}
