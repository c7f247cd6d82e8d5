/* SPDX-License-Identifier: MIT */
/*
 * Factories, pion's ordered registry, and chains.
 *
 * A factory makes one interceptor per connection from a typed config. The
 * ordered registry holds (factory, config) pairs in execution order and builds
 * a chain with one new interceptor per pair. A chain is itself an interceptor.
 */
#ifndef XICEPT_REGISTRY_H
#define XICEPT_REGISTRY_H

#include <stdint.h>
#include <stddef.h>
#include <xicept/error.h>
#include <xicept/interceptor.h>
#include <xicept/config.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_catalog_entry;
struct xi_chain;       /* declared here: xi_registry_build names it before the chain section */
struct xi_dataplane;   /* an interface's XDP programs and maps; see dataplane.h */

enum xi_kind {
	XI_KIND_USERSPACE = 0, /* stateful: runs in the AF_XDP userspace chain */
	XI_KIND_XDP = 1,       /* stateless: an XDP stage, with a C twin */
};

const char *xi_kind_name(enum xi_kind kind);   /* "userspace" or "xdp" */

struct xi_build_ctx {
	uint32_t conn_id;
	struct xi_dataplane *dp; /* NULL: no XDP; XDP-kind elements run as C twins */
	void *user;              /* passed through to factories untouched */
};

struct xi_factory {
	const char *name;              /* [a-z][a-z0-9-]*, shorter than XI_NAME_MAX */
	const char *description;       /* one line */
	enum xi_kind kind;
	const char *xdp_prog;          /* XI_KIND_XDP: its stage program, e.g. "xi_ssrc_filter" */
	const struct xi_config_key *keys; /* NULL or a table ended by name == NULL */
	size_t config_size;            /* sizeof the factory's config struct */
	int (*new_interceptor)(const struct xi_factory *f, const void *config,
			       const struct xi_build_ctx *ctx,
			       struct xi_interceptor **ret);
	/* Called when the catalog's last reference to this factory is gone
	 * (after unregister or replace, once every chain built from it closed). */
	void (*release)(const struct xi_factory *f);
	void *priv;
};

/* ---- pion's ordered registry ---- */

struct xi_registry;

struct xi_registry *xi_registry_new(void);          /* NULL + errno */
void xi_registry_free(struct xi_registry *reg);     /* NULL is fine */
/* Appends f in execution order. config (f->config_size bytes) is copied; NULL
 * means f's defaults. -EINVAL, -E2BIG past XI_CHAIN_MAX, -ENOMEM. */
int xi_registry_add(struct xi_registry *reg, const struct xi_factory *f,
		    const void *config);
/* As add, taking a new reference on a catalog entry; the chains built hold it. */
int xi_registry_add_entry(struct xi_registry *reg, struct xi_catalog_entry *entry,
			  const void *config);
size_t xi_registry_len(const struct xi_registry *reg);
/* One new interceptor per factory, in order. No factories gives an empty chain
 * (a no-op). If a factory fails, the interceptors already made are closed
 * (newest first) and its error is returned, with err naming the element:
 * "build: <name>[<i>]: <strerror>". ctx may be NULL (all zero). */
int xi_registry_build(struct xi_registry *reg, const struct xi_build_ctx *ctx,
		      struct xi_chain **ret, struct xi_err *err);

/* ---- chains ---- */

/* pion's NewChain: takes ownership of ics[0..n-1] (closed by xi_chain_close). */
int xi_chain_new(struct xi_interceptor *const *ics, size_t n, struct xi_chain **ret);
/* The chain viewed as one interceptor. Its close op is xi_chain_close. */
struct xi_interceptor *xi_chain_interceptor(struct xi_chain *chain);
size_t xi_chain_len(const struct xi_chain *chain);
struct xi_interceptor *xi_chain_element(const struct xi_chain *chain, size_t i);
/* NULL when the element was not built by a registry. */
const struct xi_factory *xi_chain_factory(const struct xi_chain *chain, size_t i);
const void *xi_chain_config(const struct xi_chain *chain, size_t i);
/* Count of leading XDP-kind elements: the part that runs in the kernel. */
size_t xi_chain_xdp_prefix(const struct xi_chain *chain);

/* Binding elements [from, n) only: how the userspace engine resumes a chain
 * at the position the XDP part stopped. from == 0 binds the whole chain.
 * On failure the elements already bound are unbound again, last first (streams
 * only: pion has no RTCP unbind). from > n is -EINVAL; from == n binds nothing
 * and returns next. */
int xi_chain_bind_remote_stream_from(struct xi_chain *chain, size_t from,
				     const struct xi_stream_info *info,
				     struct xi_reader next, struct xi_reader *ret);
void xi_chain_unbind_remote_stream_from(struct xi_chain *chain, size_t from,
					const struct xi_stream_info *info);
int xi_chain_bind_rtcp_reader_from(struct xi_chain *chain, size_t from,
				   struct xi_reader next, struct xi_reader *ret);
int xi_chain_bind_rtcp_writer_from(struct xi_chain *chain, size_t from,
				   struct xi_writer next, struct xi_writer *ret);
int xi_chain_bind_local_stream_from(struct xi_chain *chain, size_t from,
				    const struct xi_stream_info *info,
				    struct xi_writer next, struct xi_writer *ret);
void xi_chain_unbind_local_stream_from(struct xi_chain *chain, size_t from,
				       const struct xi_stream_info *info);
int xi_chain_poll(struct xi_chain *chain, uint64_t now_ns);

/* Closes every element, even after failures, and frees the chain. Returns the
 * first error; err (may be NULL) names every failure:
 * "2 of 3 interceptors failed to close: a[0]: Input/output error; c[2]: ..." */
int xi_chain_close(struct xi_chain *chain, struct xi_err *err);

#ifdef __cplusplus
}
#endif
#endif
