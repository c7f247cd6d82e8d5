// SPDX-License-Identifier: MIT
/*
 * Building, binding and sweeping a connection's chain: one place for conn
 * add, conn del and set-chain (chain.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/stream.h>

#include "user/dataplane/chain.h"
#include "user/dataplane/internal.h"

int xi_chain_plan_make(struct xi_dataplane *dp, const char *text, struct xi_chain_plan *ret,
		       struct xi_err *err)
{
	int r;

	*ret = (struct xi_chain_plan){ 0 };
	if (!dp->cat)
		return xi_err_set(err, -EINVAL, "no catalog to build chains from");
	r = xi_chain_desc_parse(text, &ret->desc, err);
	if (!r)
		r = xi_catalog_builder(dp->cat, ret->desc, &ret->builder, err);
	if (r)
		xi_chain_plan_free(ret);
	return r;
}

void xi_chain_plan_free(struct xi_chain_plan *plan)
{
	xi_chain_builder_free(plan->builder);
	xi_chain_desc_free(plan->desc);
	*plan = (struct xi_chain_plan){ 0 };
}

int xi_chain_plan_build(struct xi_dataplane *dp, uint32_t id, const struct xi_chain_plan *plan,
			unsigned flags, struct xi_chain **ret, struct xi_err *err)
{
	struct xi_build_ctx ctx = { .conn_id = id, .dp = dp, .flags = flags };

	return xi_catalog_build_from(dp->cat, plan->builder, &ctx, ret, err);
}

int xi_dataplane_chain_build(struct xi_dataplane *dp, uint32_t id, const char *text,
			     unsigned flags, struct xi_chain **ret, struct xi_err *err)
{
	struct xi_build_ctx ctx = { .conn_id = id, .dp = dp, .flags = flags };

	if (!dp->cat)
		return xi_err_set(err, -EINVAL, "no catalog to build chains from");
	return xi_catalog_build(dp->cat, text, &ctx, ret, err);
}

static ssize_t no_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	return -ENODATA;   /* the control plane binds streams, it never reads them */
}

static void stream_info_make(const struct xi_conn_meta_stream *s, struct xi_stream_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->id, sizeof(ret->id), "ssrc-%u", s->ssrc);
	ret->ssrc = s->ssrc;
	ret->payload_type = s->payload_type;
	ret->clock_rate = s->clock_rate;
}

void xi_dataplane_streams_unbind(struct xi_chain *chain, const struct xi_conn_meta *meta,
				 size_t n)
{
	struct xi_stream_info info;

	for (size_t i = n; i-- > 0;) {
		stream_info_make(&meta->streams[i], &info);
		xi_interceptor_unbind_remote_stream(xi_chain_interceptor(chain), &info);
	}
}

int xi_dataplane_streams_bind(struct xi_chain *chain, const struct xi_conn_meta *meta,
			      struct xi_err *err)
{
	struct xi_reader next = { .read = no_read }, out;
	struct xi_stream_info info;
	int r;

	for (uint32_t i = 0; i < meta->n_streams && i < XI_CONN_META_STREAMS; i++) {
		stream_info_make(&meta->streams[i], &info);
		r = xi_interceptor_bind_remote_stream(xi_chain_interceptor(chain), &info, next, &out);
		if (r) {
			xi_dataplane_streams_unbind(chain, meta, i);
			return xi_err_set(err, r, "binding stream %u: %s", info.ssrc, strerror(-r));
		}
	}
	return 0;
}

/* A per-connection entry gone: a hash's deleted, an array's slot zeroed
 * (an array cannot delete; zero is every stage's "nothing here"). */
int xi_dataplane_conn_slot_clear(int fd, uint32_t id)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	void *zero;
	int r;

	size_t size;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type == BPF_MAP_TYPE_ARRAY)
		size = info.value_size;
	else if (info.type == BPF_MAP_TYPE_PERCPU_ARRAY && libbpf_num_possible_cpus() > 0)
		size = (size_t)((info.value_size + 7) & ~7u) * (size_t)libbpf_num_possible_cpus();
	else
		return bpf_map_delete_elem(fd, &id) ? -errno : 0;
	zero = calloc(1, size);
	if (!zero)
		return -ENOMEM;
	r = bpf_map_update_elem(fd, &id, zero, BPF_EXIST) ? -errno : 0;
	free(zero);
	return r;
}

void xi_dataplane_stages_sweep(struct xi_dataplane *dp, uint32_t id, uint32_t mask)
{
	const struct xi_stage *d;

	for (size_t i = 0; (d = xi_dataplane_stage_at(dp, i)); i++) {
		if (d->slot >= 32 || !(mask & (1u << d->slot)))
			continue;
		for (unsigned m = 0; d->maps && d->maps[m].name; m++) {
			int fd = xi_dataplane_stage_fd(dp, d->slot, m);

			if (fd < 0)
				continue;
			if (d->maps[m].key == XI_STAGE_KEY_STREAM)
				xi_dataplane_delete_conn_streams(fd, id);
			else if (d->maps[m].key == XI_STAGE_KEY_CONN)
				xi_dataplane_conn_slot_clear(fd, id);
		}
	}
}
