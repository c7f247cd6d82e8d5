// SPDX-License-Identifier: MIT
/*
 * The test-only "probe" interceptor: its stage descriptor and its factory,
 * all that the library learns of it. See probe.bpf.c.
 */
#include <errno.h>
#include <stdint.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#include "tests/user/dataplane/probe_stage/probe.h"
#include <xicept/abi.h>
#include <xicept/stage.h>

static const struct xi_stage_map probe_maps[] = {
	{ "xi_probe_counts", XI_STAGE_KEY_STREAM },
	{ NULL },
};

static const struct xi_stat_def probe_schema[] = {
	{ "probe_packets", XI_STAT_COUNTER, "Packets the probe stage saw." },
	{ "probe_bytes", XI_STAT_COUNTER, "Bytes of those packets." },
	{ NULL },
};

static void probe_stats_fields(const void *value, struct xi_ssrc_stats *s)
{
	const struct xi_probe_count *c = value;

	xi_ssrc_stats_set(s, "probe_packets", (int64_t)c->packets);
	xi_ssrc_stats_set(s, "probe_bytes", (int64_t)c->bytes);
}

static const struct xi_stage_stats probe_stats = {
	.map = 0,
	.value_size = sizeof(struct xi_probe_count),
	.schema = probe_schema,
	.fields = probe_stats_fields,
};

const struct xi_stage xi_stage_probe = {
	.sz = sizeof(struct xi_stage),
	.name = "probe",
	.slot = XI_STAGE_PROBE,
	.prog = "xi_probe",
	.maps = probe_maps,
	.stats = &probe_stats,
};

/* Its kernel state is all in its map, which conn_del sweeps: the
 * interceptor itself is the library's no-op. */
static int probe_new(const struct xi_factory *f, const void *config,
		     const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory probe_factory = {
	.name = "probe",
	.description = "counts packets per SSRC in XDP (test-only stage)",
	.kind = XI_KIND_XDP,
	.stage = &xi_stage_probe,
	.new_interceptor = probe_new,
};

XI_CATALOG_REGISTER(probe_factory)
