// SPDX-License-Identifier: MIT
/*
 * noop: passes every packet unchanged. In XDP its stage (noop.bpf.c) only
 * hands on to the next one, which is what chain-length benchmarks measure;
 * in userspace it is the library's xi_noop_ops.
 */
#include <errno.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#include <xicept/abi.h>
#include <xicept/stage.h>

static int noop_new_interceptor(const struct xi_factory *f, const void *config,
				const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct xi_interceptor *ic;

	if (!ret)
		return -EINVAL;
	ic = xi_noop_new();
	if (!ic)
		return -ENOMEM;
	*ret = ic;
	return 0;
}

const struct xi_stage xi_stage_noop = {
	.sz = sizeof(struct xi_stage),
	.name = "noop",
	.slot = XI_STAGE_NOOP,
	.prog = "xi_noop",
	.egress_prog = "xi_noop_tc",
};

static const struct xi_factory noop_factory = {
	.name = "noop",
	.description = "passes every packet unchanged",
	.kind = XI_KIND_XDP,
	.stage = &xi_stage_noop,
	.new_interceptor = noop_new_interceptor,
	.flags = XI_FACTORY_OBSERVES,
};

XI_CATALOG_REGISTER(noop_factory)
