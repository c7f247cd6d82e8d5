// SPDX-License-Identifier: MIT
/*
 * twcc-sequencer ext-id=N: the sending side of transport-wide congestion
 * control. Its TC egress stage (xi_twcc_sequencer_tc) writes the
 * connection's next transport-wide sequence number into the one-byte RFC 8285
 * extension element N of every RTP packet leaving that carries one (two
 * bytes of data), and fixes the UDP checksum. Packets arriving pass: the
 * XDP stage and the userspace element only hand them on.
 *
 * Built with a dataplane, it writes its element id (xi_twcc_cfgs) for the
 * connection; the counter (xi_twcc_seqs) starts at 0 with the first packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include <xicept/abi.h>
#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/registry.h>
#include "user/interceptors/twcc_sequencer/twcc_sequencer_abi.h"


enum ts_map {
	TS_MAP_CFGS,
	TS_MAP_SEQS,
};

struct ts_cfg {
	uint32_t ext_id;
};

struct twcc_seq {
	struct xi_interceptor ic;
	const struct xi_factory *f;
	struct xi_dataplane *dp;
	uint32_t conn_id;
	struct ts_cfg cfg;
};

static int ts_close(struct xi_interceptor *ic, unsigned flags)
{
	struct twcc_seq *t = xi_container_of(ic, struct twcc_seq, ic);

	if (t->dp && (flags & XI_CLOSE_REMOVE_STATE)) {
		bpf_map_delete_elem(xi_dataplane_stage_map_fd(t->dp, t->f, TS_MAP_CFGS), &t->conn_id);
		bpf_map_delete_elem(xi_dataplane_stage_map_fd(t->dp, t->f, TS_MAP_SEQS), &t->conn_id);
	}
	free(t);
	return 0;
}

static const struct xi_interceptor_ops ts_ops = {
	.close = ts_close,
};

static int ts_new(const struct xi_factory *f, const void *config,
		  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct twcc_seq *t;

	if (!config || !ret)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	memcpy(&t->cfg, config, sizeof(t->cfg));
	t->ic.ops = &ts_ops;
	t->ic.name = f ? f->name : "twcc-sequencer";
	t->f = f;
	t->dp = ctx ? ctx->dp : NULL;
	t->conn_id = ctx ? ctx->conn_id : 0;
	if (t->dp && (ctx->flags & XI_BUILD_WRITE_STATE)) {
		struct xi_twcc_cfg val = { .ext_id = t->cfg.ext_id };
		int fd = xi_dataplane_stage_map_fd(t->dp, f, TS_MAP_CFGS);

		/* EEXIST: a second twcc-sequencer in the chain. */
		if (bpf_map_update_elem(fd, &t->conn_id, &val, BPF_NOEXIST)) {
			int r = -errno;

			free(t);
			return r;
		}
	}
	*ret = &t->ic;
	return 0;
}

static const struct xi_config_key ts_keys[] = {
	{ .name = "ext-id", .type = XI_CFG_U32, .offset = offsetof(struct ts_cfg, ext_id),
	  .min = 1, .max = 14, .flags = XI_CFG_F_REQUIRED,
	  .help = "RFC 8285 one-byte extension id of the transport-wide sequence number" },
	{ .name = NULL },
};

static const struct xi_stage_map ts_maps[] = {
	[TS_MAP_CFGS] = { "xi_twcc_cfgs", XI_STAGE_KEY_CONN },
	[TS_MAP_SEQS] = { "xi_twcc_seqs", XI_STAGE_KEY_CONN },
	{ NULL },
};

const struct xi_stage xi_stage_twcc_sequencer = {
	.sz = sizeof(struct xi_stage),
	.name = "twcc-sequencer",
	.slot = XI_STAGE_TWCC_SEQUENCER,
	.prog = "xi_twcc_sequencer",
	.egress_prog = "xi_twcc_sequencer_tc",
	.maps = ts_maps,
};

static const struct xi_factory twcc_sequencer_factory = {
	.name = "twcc-sequencer",
	.description = "writes transport-wide sequence numbers into packets leaving (TC egress)",
	.kind = XI_KIND_XDP,
	.stage = &xi_stage_twcc_sequencer,
	.keys = ts_keys,
	.config_size = sizeof(struct ts_cfg),
	.new_interceptor = ts_new,
	.flags = XI_FACTORY_OBSERVES | XI_FACTORY_NO_SRTP,   /* it rewrites a header extension */
};

XI_CATALOG_REGISTER(twcc_sequencer_factory)
