/* SPDX-License-Identifier: MIT */
/*
 * Factories, the chain builder, and chains.
 *
 * "Registry" in xicept means the set of interceptor factories an operator
 * sees: the catalog (catalog.h), `xicept registry list`, the registry/ folder.
 * A factory makes one interceptor per connection from a typed config.
 *
 * The chain builder is pion's interceptor.Registry under a name that says what
 * it does: it holds (factory, config) pairs in execution order and builds a
 * chain with one new interceptor per pair. A chain is itself an interceptor.
 */
#ifndef XICEPT_REGISTRY_H
#define XICEPT_REGISTRY_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <xicept/error.h>
#include <xicept/interceptor.h>
#include <xicept/config.h>
#include <xicept/stage.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_catalog_entry;
struct xi_chain;       /* declared here: xi_chain_builder_build names it before the chain section */
struct xi_dataplane;   /* an interface's XDP programs and maps; see dataplane.h */

enum xi_kind {
	XI_KIND_USERSPACE = 0, /* stateful: runs in the AF_XDP userspace chain */
	XI_KIND_XDP = 1,       /* stateless: an XDP stage, with a C twin */
};

XI_API const char *xi_kind_name(enum xi_kind kind);   /* "userspace" or "xdp" */

struct xi_build_ctx {
	uint32_t conn_id;
	struct xi_dataplane *dp; /* NULL: no XDP; XDP-kind elements run as C twins */
	void *user;              /* passed through to factories untouched */
	unsigned flags;          /* XI_BUILD_* */
	/* The connection's SRTP contexts (<xicept/srtp.h>) where the chain
	 * runs with them (`xicept run`), NULL otherwise: what reads packets
	 * of the local streams in plain (nack-responder's RTX) uses it. */
	struct xi_srtp_conn *srtp;
};

/* The build writes the element's configuration into its stage's maps: a
 * connection is being added, or its chain changed. Without it the kernel
 * state exists already (a process rebuilding a chain to run its userspace
 * part, or to delete it) and the build must leave the maps alone. Removing
 * state is the close's: XI_CLOSE_REMOVE_STATE (interceptor.h). */
#define XI_BUILD_WRITE_STATE 0x1u

struct xi_factory {
	const char *name;              /* [a-z][a-z0-9-]*, shorter than XI_NAME_MAX */
	const char *description;       /* one line */
	enum xi_kind kind;
	const struct xi_stage *stage;  /* XI_KIND_XDP: its stage (<xicept/stage.h>) */
	const struct xi_config_key *keys; /* NULL or a table ended by name == NULL */
	size_t config_size;            /* sizeof the factory's config struct */
	int (*new_interceptor)(const struct xi_factory *f, const void *config,
			       const struct xi_build_ctx *ctx,
			       struct xi_interceptor **ret);
	/* Called once nothing refers to this factory any more: no entry in any
	 * catalog, no builder and no chain made from one (see catalog.h,
	 * "Factory lifetime"). */
	void (*release)(const struct xi_factory *f);
	void *priv;
	unsigned flags;                /* XI_FACTORY_* */
	/* NAME@MAJOR.MINOR: several versions of one name may be registered,
	 * and a bare NAME means the highest. Both 0 reads as 1.0. */
	uint16_t version_major;
	uint16_t version_minor;
};

/* The interceptor only reads packets: it never changes or drops one (it may
 * send packets of its own, such as RTCP). A connection whose userspace
 * elements all observe gets its packets through the tap (a ring buffer copy,
 * media on its way at once) rather than through AF_XDP. */
#define XI_FACTORY_OBSERVES  0x1u
/* An observer that keeps whole frames, not just headers (packet-dump): the
 * tap copies its connection's frames up to XI_TAP_SNAP_FRAME bytes and says
 * how many in XI_ATTR_FRAME_CAPLEN. */
#define XI_FACTORY_TAP_FRAMES 0x2u
/* The factory binds local streams: it wants copies of the packets leaving
 * (TC egress puts them into the tap for `xicept run`). */
#define XI_FACTORY_LOCAL_STREAMS 0x4u
/* The interceptor changes what SRTP authenticates (an RTP header field, as
 * twcc-sequencer does): a connection with SRTP keys refuses a chain that
 * holds it. */
#define XI_FACTORY_NO_SRTP 0x8u

/* ---- the chain builder: pion's interceptor.Registry ---- */

struct xi_chain_builder;

XI_API struct xi_chain_builder *xi_chain_builder_new(void);        /* NULL + errno */
XI_API void xi_chain_builder_free(struct xi_chain_builder *b);     /* NULL is fine */
/* Appends f in execution order. config (f->config_size bytes) is copied; NULL
 * means f's defaults. -EINVAL, -E2BIG past XI_CHAIN_MAX, -ENOMEM. */
XI_API int xi_chain_builder_add(struct xi_chain_builder *b, const struct xi_factory *f,
				const void *config);
/* As add, taking a new reference on a catalog entry; the chains built hold
 * one too, so the factory outlives its catalog while they run. */
XI_API int xi_chain_builder_add_entry(struct xi_chain_builder *b,
				      struct xi_catalog_entry *entry, const void *config);
XI_API size_t xi_chain_builder_len(const struct xi_chain_builder *b);
/* One new interceptor per factory, in order. No factories gives an empty chain
 * (a no-op). If a factory fails, the interceptors already made are closed
 * (newest first; with XI_CLOSE_REMOVE_STATE when ctx has XI_BUILD_WRITE_STATE,
 * so a failed build leaves no kernel state) and its error is returned, with
 * err naming the element: "build: <name>[<i>]: <strerror>". ctx may be NULL
 * (all zero). */
XI_API int xi_chain_builder_build(struct xi_chain_builder *b, const struct xi_build_ctx *ctx,
				  struct xi_chain **ret, struct xi_err *err);

/* ---- chains ---- */

/* pion's NewChain: takes ownership of ics[0..n-1] (closed by xi_chain_close). */
XI_API int xi_chain_new(struct xi_interceptor *const *ics, size_t n, struct xi_chain **ret);
/* The chain viewed as one interceptor. Its close op is xi_chain_close. */
XI_API struct xi_interceptor *xi_chain_interceptor(struct xi_chain *chain);
XI_API size_t xi_chain_len(const struct xi_chain *chain);
XI_API struct xi_interceptor *xi_chain_element(const struct xi_chain *chain, size_t i);
/* NULL when the element was not made by a chain builder. */
XI_API const struct xi_factory *xi_chain_factory(const struct xi_chain *chain, size_t i);
XI_API const void *xi_chain_config(const struct xi_chain *chain, size_t i);
/* Count of leading XDP-kind elements: the part that runs in the kernel. */
XI_API size_t xi_chain_xdp_prefix(const struct xi_chain *chain);

/* Binding elements [from, n) only: how the userspace engine resumes a chain
 * at the position the XDP part stopped. from == 0 binds the whole chain.
 * On failure the elements already bound are unbound again, last first (streams
 * only: pion has no RTCP unbind). from > n is -EINVAL; from == n binds nothing
 * and returns next. */
XI_API int xi_chain_bind_remote_stream_from(struct xi_chain *chain, size_t from,
				     const struct xi_stream_info *info,
				     struct xi_reader next, struct xi_reader *ret);
XI_API void xi_chain_unbind_remote_stream_from(struct xi_chain *chain, size_t from,
					const struct xi_stream_info *info);
XI_API int xi_chain_bind_rtcp_reader_from(struct xi_chain *chain, size_t from,
				   struct xi_reader next, struct xi_reader *ret);
XI_API int xi_chain_bind_rtcp_writer_from(struct xi_chain *chain, size_t from,
				   struct xi_writer next, struct xi_writer *ret);
XI_API int xi_chain_bind_local_stream_from(struct xi_chain *chain, size_t from,
				    const struct xi_stream_info *info,
				    struct xi_writer next, struct xi_writer *ret);
XI_API void xi_chain_unbind_local_stream_from(struct xi_chain *chain, size_t from,
				       const struct xi_stream_info *info);
XI_API int xi_chain_poll(struct xi_chain *chain, uint64_t now_ns);

/* Closes every element, even after failures, drops the chain's catalog entry
 * references, and frees the chain. Returns the
 * first error; err (may be NULL) names every failure:
 * "2 of 3 interceptors failed to close: a[0]: Input/output error; c[2]: ..." */
XI_API int xi_chain_close(struct xi_chain *chain, struct xi_err *err);
/* As xi_chain_close, closing each element with XI_CLOSE_* flags. */
XI_API int xi_chain_close_flags(struct xi_chain *chain, unsigned flags, struct xi_err *err);

#ifdef __cplusplus
}
#endif
#endif
