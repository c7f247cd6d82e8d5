// SPDX-License-Identifier: MIT
/*
 * pion's Chain: element 0 binds first and every later element wraps the
 * result, so element 0 sits nearest the wire. Incoming reads are inspected
 * 0 .. n-1 and outgoing writes run n-1 .. 0 without any reordering here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#include "registry/chain_internal.h"
#include "registry/entry_internal.h"

enum bind_op {
	BIND_RTCP_READER,
	BIND_RTCP_WRITER,
	BIND_LOCAL_STREAM,
	BIND_REMOTE_STREAM,
};

/* Readers and writers go through the same loop; op says which member is live. */
union bind_io {
	struct xi_reader r;
	struct xi_writer w;
};

static const struct xi_interceptor_ops chain_ops;

struct xi_chain *xi_chain_alloc(size_t n)
{
	struct xi_chain *chain = calloc(1, sizeof(*chain));

	if (!chain)
		return NULL;
	chain->slots = calloc(n ? n : 1, sizeof(*chain->slots));
	if (!chain->slots) {
		free(chain);
		return NULL;
	}
	chain->n = n;
	chain->self.ops = &chain_ops;
	chain->self.name = "chain";
	return chain;
}

void xi_chain_discard(struct xi_chain *chain)
{
	size_t i;

	if (!chain)
		return;
	for (i = 0; i < chain->n; i++) {
		free(chain->slots[i].config);
		xi_entry_use(chain->slots[i].entry, -1);
		xi_catalog_entry_put(chain->slots[i].entry);
	}
	free(chain->slots);
	free(chain);
}

int xi_chain_new(struct xi_interceptor *const *ics, size_t n, struct xi_chain **ret)
{
	struct xi_chain *chain;
	size_t i;

	if (!ret || (n && !ics))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!ics[i])
			return -EINVAL;
	chain = xi_chain_alloc(n);
	if (!chain)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		chain->slots[i].ic = ics[i];
	*ret = chain;
	return 0;
}

struct xi_interceptor *xi_chain_interceptor(struct xi_chain *chain)
{
	return chain ? &chain->self : NULL;
}

size_t xi_chain_len(const struct xi_chain *chain)
{
	return chain ? chain->n : 0;
}

struct xi_interceptor *xi_chain_element(const struct xi_chain *chain, size_t i)
{
	return chain && i < chain->n ? chain->slots[i].ic : NULL;
}

const struct xi_factory *xi_chain_factory(const struct xi_chain *chain, size_t i)
{
	return chain && i < chain->n ? chain->slots[i].factory : NULL;
}

const void *xi_chain_config(const struct xi_chain *chain, size_t i)
{
	return chain && i < chain->n ? chain->slots[i].config : NULL;
}

size_t xi_chain_xdp_prefix(const struct xi_chain *chain)
{
	size_t i;

	for (i = 0; i < xi_chain_len(chain); i++) {
		const struct xi_factory *f = chain->slots[i].factory;

		if (!f || f->kind != XI_KIND_XDP)
			break;
	}
	return i;
}

/* ---- binding ---- */

static int bind_one(struct xi_interceptor *ic, enum bind_op op,
		    const struct xi_stream_info *info, union bind_io next,
		    union bind_io *ret)
{
	switch (op) {
	case BIND_RTCP_READER:
		return xi_interceptor_bind_rtcp_reader(ic, next.r, &ret->r);
	case BIND_RTCP_WRITER:
		return xi_interceptor_bind_rtcp_writer(ic, next.w, &ret->w);
	case BIND_LOCAL_STREAM:
		return xi_interceptor_bind_local_stream(ic, info, next.w, &ret->w);
	case BIND_REMOTE_STREAM:
		return xi_interceptor_bind_remote_stream(ic, info, next.r, &ret->r);
	}
	return -EINVAL;
}

/* RTCP binds have no unbind in pion's model, so only streams roll back. */
static void unbind_one(struct xi_interceptor *ic, enum bind_op op,
		       const struct xi_stream_info *info)
{
	if (op == BIND_LOCAL_STREAM)
		xi_interceptor_unbind_local_stream(ic, info);
	else if (op == BIND_REMOTE_STREAM)
		xi_interceptor_unbind_remote_stream(ic, info);
}

static int chain_bind(struct xi_chain *chain, size_t from, enum bind_op op,
		      const struct xi_stream_info *info, union bind_io next,
		      union bind_io *ret)
{
	union bind_io cur = next;
	size_t i, j;
	int rc;

	if (!chain || !ret || from > chain->n)
		return -EINVAL;
	for (i = from; i < chain->n; i++) {
		rc = bind_one(chain->slots[i].ic, op, info, cur, &cur);
		if (rc < 0) {
			/* Undo in reverse so each element sees its bind retracted
			 * before the element it wrapped does. */
			for (j = i; j > from; j--)
				unbind_one(chain->slots[j - 1].ic, op, info);
			return rc;
		}
	}
	*ret = cur;
	return 0;
}

static void chain_unbind(struct xi_chain *chain, size_t from, enum bind_op op,
			 const struct xi_stream_info *info)
{
	size_t i;

	if (!chain)
		return;
	for (i = from; i < chain->n; i++)
		unbind_one(chain->slots[i].ic, op, info);
}

/* chain_bind for the binds that wrap a reader, and for those that wrap a writer. */
static int chain_bind_reader(struct xi_chain *chain, size_t from, enum bind_op op,
			     const struct xi_stream_info *info, struct xi_reader next,
			     struct xi_reader *ret)
{
	union bind_io io = { .r = next }, out;
	int rc;

	if (!ret)
		return -EINVAL;
	rc = chain_bind(chain, from, op, info, io, &out);
	if (rc == 0)
		*ret = out.r;
	return rc;
}

static int chain_bind_writer(struct xi_chain *chain, size_t from, enum bind_op op,
			     const struct xi_stream_info *info, struct xi_writer next,
			     struct xi_writer *ret)
{
	union bind_io io = { .w = next }, out;
	int rc;

	if (!ret)
		return -EINVAL;
	rc = chain_bind(chain, from, op, info, io, &out);
	if (rc == 0)
		*ret = out.w;
	return rc;
}

int xi_chain_bind_remote_stream_from(struct xi_chain *chain, size_t from,
				     const struct xi_stream_info *info,
				     struct xi_reader next, struct xi_reader *ret)
{
	return chain_bind_reader(chain, from, BIND_REMOTE_STREAM, info, next, ret);
}

void xi_chain_unbind_remote_stream_from(struct xi_chain *chain, size_t from,
					const struct xi_stream_info *info)
{
	chain_unbind(chain, from, BIND_REMOTE_STREAM, info);
}

int xi_chain_bind_rtcp_reader_from(struct xi_chain *chain, size_t from,
				   struct xi_reader next, struct xi_reader *ret)
{
	return chain_bind_reader(chain, from, BIND_RTCP_READER, NULL, next, ret);
}

int xi_chain_bind_rtcp_writer_from(struct xi_chain *chain, size_t from,
				   struct xi_writer next, struct xi_writer *ret)
{
	return chain_bind_writer(chain, from, BIND_RTCP_WRITER, NULL, next, ret);
}

int xi_chain_bind_local_stream_from(struct xi_chain *chain, size_t from,
				    const struct xi_stream_info *info,
				    struct xi_writer next, struct xi_writer *ret)
{
	return chain_bind_writer(chain, from, BIND_LOCAL_STREAM, info, next, ret);
}

void xi_chain_unbind_local_stream_from(struct xi_chain *chain, size_t from,
				       const struct xi_stream_info *info)
{
	chain_unbind(chain, from, BIND_LOCAL_STREAM, info);
}

int xi_chain_poll(struct xi_chain *chain, uint64_t now_ns)
{
	int first = 0, rc;
	size_t i;

	if (!chain)
		return -EINVAL;
	for (i = 0; i < chain->n; i++) {
		rc = xi_interceptor_poll(chain->slots[i].ic, now_ns);
		if (rc < 0 && first == 0)
			first = rc;
	}
	return first;
}

/* ---- closing ---- */

int xi_chain_close(struct xi_chain *chain, struct xi_err *err)
{
	return xi_chain_close_flags(chain, 0, err);
}

int xi_chain_close_flags(struct xi_chain *chain, unsigned flags, struct xi_err *err)
{
	struct xi_err failures;
	char name[XI_NAME_MAX * 2], ebuf[128];
	size_t i, n_failed = 0;
	int first = 0, rc;

	xi_err_clear(err);
	if (!chain)
		return 0;
	xi_err_clear(&failures);
	for (i = 0; i < chain->n; i++) {
		struct xi_interceptor *ic = chain->slots[i].ic;

		/* The name may live in memory that close releases. */
		snprintf(name, sizeof(name), "%s",
			 ic && ic->name ? ic->name : "interceptor");
		rc = xi_interceptor_close_flags(ic, flags);
		if (rc >= 0)
			continue;
		n_failed++;
		if (first == 0)
			first = rc;
		xi_err_append(&failures, rc, "%s[%zu]: %s", name, i,
			      strerror_r(-rc, ebuf, sizeof(ebuf)));
	}
	if (n_failed)
		xi_err_set(err, first, "%zu of %zu interceptors failed to close: %s",
			   n_failed, chain->n, failures.msg);
	xi_chain_discard(chain);
	return first;
}

/* ---- the chain as one interceptor ---- */

static struct xi_chain *chain_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct xi_chain, self);
}

static int chain_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
				  struct xi_reader *ret)
{
	return xi_chain_bind_rtcp_reader_from(chain_of(ic), 0, next, ret);
}

static int chain_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
				  struct xi_writer *ret)
{
	return xi_chain_bind_rtcp_writer_from(chain_of(ic), 0, next, ret);
}

static int chain_bind_local_stream(struct xi_interceptor *ic,
				   const struct xi_stream_info *info,
				   struct xi_writer next, struct xi_writer *ret)
{
	return xi_chain_bind_local_stream_from(chain_of(ic), 0, info, next, ret);
}

static void chain_unbind_local_stream(struct xi_interceptor *ic,
				      const struct xi_stream_info *info)
{
	xi_chain_unbind_local_stream_from(chain_of(ic), 0, info);
}

static int chain_bind_remote_stream(struct xi_interceptor *ic,
				    const struct xi_stream_info *info,
				    struct xi_reader next, struct xi_reader *ret)
{
	return xi_chain_bind_remote_stream_from(chain_of(ic), 0, info, next, ret);
}

static void chain_unbind_remote_stream(struct xi_interceptor *ic,
				       const struct xi_stream_info *info)
{
	xi_chain_unbind_remote_stream_from(chain_of(ic), 0, info);
}

static int chain_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	return xi_chain_poll(chain_of(ic), now_ns);
}

static int chain_close(struct xi_interceptor *ic, unsigned flags)
{
	return xi_chain_close_flags(chain_of(ic), flags, NULL);
}

static const struct xi_interceptor_ops chain_ops = {
	.bind_rtcp_reader = chain_bind_rtcp_reader,
	.bind_rtcp_writer = chain_bind_rtcp_writer,
	.bind_local_stream = chain_bind_local_stream,
	.unbind_local_stream = chain_unbind_local_stream,
	.bind_remote_stream = chain_bind_remote_stream,
	.unbind_remote_stream = chain_unbind_remote_stream,
	.poll = chain_poll,
	.close = chain_close,
};
