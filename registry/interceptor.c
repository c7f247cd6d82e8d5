// SPDX-License-Identifier: MIT
/*
 * Dispatch to an interceptor's ops, and the no-op interceptor.
 *
 * Every caller goes through the dispatchers, so an implementation may leave
 * any operation NULL and still behave as pion's NoOp for it.
 */
#include <errno.h>
#include <stdlib.h>

#include <xicept/catalog.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>

int xi_noop_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			     struct xi_reader *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = next;
	return 0;
}

int xi_noop_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
			     struct xi_writer *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = next;
	return 0;
}

int xi_noop_bind_local_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
			      struct xi_writer next, struct xi_writer *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = next;
	return 0;
}

void xi_noop_unbind_local_stream(struct xi_interceptor *ic,
				 const struct xi_stream_info *info)
{
}

int xi_noop_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
			       struct xi_reader next, struct xi_reader *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = next;
	return 0;
}

void xi_noop_unbind_remote_stream(struct xi_interceptor *ic,
				  const struct xi_stream_info *info)
{
}

/*
 * close stays NULL: an ops table copied from this one must not inherit a close
 * that frees memory it did not allocate. xi_interceptor_close recognises the
 * table itself and frees what xi_noop_new made.
 */
const struct xi_interceptor_ops xi_noop_ops = {
	.bind_rtcp_reader = xi_noop_bind_rtcp_reader,
	.bind_rtcp_writer = xi_noop_bind_rtcp_writer,
	.bind_local_stream = xi_noop_bind_local_stream,
	.unbind_local_stream = xi_noop_unbind_local_stream,
	.bind_remote_stream = xi_noop_bind_remote_stream,
	.unbind_remote_stream = xi_noop_unbind_remote_stream,
};

struct xi_interceptor *xi_noop_new(void)
{
	struct xi_interceptor *ic = calloc(1, sizeof(*ic));

	if (!ic)
		return NULL;
	ic->ops = &xi_noop_ops;
	ic->name = "noop";
	return ic;
}

int xi_interceptor_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
				    struct xi_reader *ret)
{
	if (!ic || !ret)
		return -EINVAL;
	if (!ic->ops || !ic->ops->bind_rtcp_reader)
		return xi_noop_bind_rtcp_reader(ic, next, ret);
	return ic->ops->bind_rtcp_reader(ic, next, ret);
}

int xi_interceptor_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
				    struct xi_writer *ret)
{
	if (!ic || !ret)
		return -EINVAL;
	if (!ic->ops || !ic->ops->bind_rtcp_writer)
		return xi_noop_bind_rtcp_writer(ic, next, ret);
	return ic->ops->bind_rtcp_writer(ic, next, ret);
}

int xi_interceptor_bind_local_stream(struct xi_interceptor *ic,
				     const struct xi_stream_info *info,
				     struct xi_writer next, struct xi_writer *ret)
{
	if (!ic || !ret)
		return -EINVAL;
	if (!ic->ops || !ic->ops->bind_local_stream)
		return xi_noop_bind_local_stream(ic, info, next, ret);
	return ic->ops->bind_local_stream(ic, info, next, ret);
}

void xi_interceptor_unbind_local_stream(struct xi_interceptor *ic,
					const struct xi_stream_info *info)
{
	if (ic && ic->ops && ic->ops->unbind_local_stream)
		ic->ops->unbind_local_stream(ic, info);
}

int xi_interceptor_bind_remote_stream(struct xi_interceptor *ic,
				      const struct xi_stream_info *info,
				      struct xi_reader next, struct xi_reader *ret)
{
	if (!ic || !ret)
		return -EINVAL;
	if (!ic->ops || !ic->ops->bind_remote_stream)
		return xi_noop_bind_remote_stream(ic, info, next, ret);
	return ic->ops->bind_remote_stream(ic, info, next, ret);
}

void xi_interceptor_unbind_remote_stream(struct xi_interceptor *ic,
					 const struct xi_stream_info *info)
{
	if (ic && ic->ops && ic->ops->unbind_remote_stream)
		ic->ops->unbind_remote_stream(ic, info);
}

int xi_interceptor_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	if (!ic || !ic->ops || !ic->ops->poll)
		return 0;
	return ic->ops->poll(ic, now_ns);
}

int xi_interceptor_close(struct xi_interceptor *ic)
{
	/* close frees ic, and with it the only copy of the entry pointer. */
	struct xi_catalog_entry *entry;
	int rc = 0;

	if (!ic)
		return 0;
	entry = ic->entry;
	if (ic->ops && ic->ops->close)
		rc = ic->ops->close(ic);
	else if (ic->ops == &xi_noop_ops)
		free(ic);
	xi_catalog_entry_put(entry);
	return rc;
}

/* ---- the "noop" catalog entry ---- */

static int noop_new_interceptor(const struct xi_factory *f, const void *config,
				const struct xi_build_ctx *ctx,
				struct xi_interceptor **ret)
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

static const struct xi_factory noop_factory = {
	.name = "noop",
	.description = "passes every packet unchanged",
	.kind = XI_KIND_XDP,
	.xdp_prog = "xi_noop",
	.new_interceptor = noop_new_interceptor,
};

XI_CATALOG_REGISTER(noop_factory)
XI_CATALOG_ANCHOR(noop)
