// SPDX-License-Identifier: MIT
/*
 * Dispatch to an interceptor's ops, and the no-op interceptor.
 *
 * Every caller goes through the dispatchers, so an implementation may leave
 * any operation NULL and still behave as pion's NoOp for it. This is the
 * bottom of registry/: it knows nothing of chains or catalogs (the "noop"
 * factory lives in user/interceptors/noop/noop.c).
 */
#include <errno.h>
#include <stdlib.h>

#include <xicept/interceptor.h>

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
	return xi_interceptor_close_flags(ic, 0);
}

int xi_interceptor_close_flags(struct xi_interceptor *ic, unsigned flags)
{
	if (!ic)
		return 0;
	if (ic->ops && ic->ops->close)
		return ic->ops->close(ic, flags);
	if (ic->ops == &xi_noop_ops)
		free(ic);
	return 0;
}
