/* SPDX-License-Identifier: MIT */
/*
 * The interceptor model of pion/interceptor, in C.
 *
 * Readers pull: an interceptor's reader first calls the reader it wraps, then
 * inspects what came back. Writers push: an interceptor's writer inspects the
 * packet, then calls the writer it wraps. A chain binds element 0 first, so
 * element 0 sits nearest the wire: incoming packets are inspected 0 .. n-1,
 * outgoing writes run n-1 .. 0.
 *
 * Return values of read and write: > 0 is the packet length (an interceptor may
 * change it), 0 means the packet was dropped, < 0 is a negative errno. A
 * wrapper that gets 0 or a negative value returns it unchanged.
 */
#ifndef XICEPT_INTERCEPTOR_H
#define XICEPT_INTERCEPTOR_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_attributes;
struct xi_stream_info;

typedef ssize_t (*xi_read_fn)(void *ctx, uint8_t *buf, size_t cap,
			      struct xi_attributes *attrs);
typedef ssize_t (*xi_write_fn)(void *ctx, const uint8_t *pkt, size_t len,
			       struct xi_attributes *attrs);

struct xi_reader {
	xi_read_fn read;
	void *ctx;
};

struct xi_writer {
	xi_write_fn write;
	void *ctx;
};

static inline ssize_t xi_reader_read(struct xi_reader r, uint8_t *buf, size_t cap,
				     struct xi_attributes *attrs)
{
	return r.read(r.ctx, buf, cap, attrs);
}

static inline ssize_t xi_writer_write(struct xi_writer w, const uint8_t *pkt,
				      size_t len, struct xi_attributes *attrs)
{
	return w.write(w.ctx, pkt, len, attrs);
}

struct xi_interceptor;

/*
 * Any operation may be NULL; it then behaves as the no-op interceptor does
 * (binds return what they were given, unbinds do nothing). bind_* return 0 and
 * set *ret, or a negative errno and leave *ret untouched.
 */
struct xi_interceptor_ops {
	int (*bind_rtcp_reader)(struct xi_interceptor *ic, struct xi_reader next,
				struct xi_reader *ret);
	int (*bind_rtcp_writer)(struct xi_interceptor *ic, struct xi_writer next,
				struct xi_writer *ret);
	int (*bind_local_stream)(struct xi_interceptor *ic,
				 const struct xi_stream_info *info,
				 struct xi_writer next, struct xi_writer *ret);
	void (*unbind_local_stream)(struct xi_interceptor *ic,
				    const struct xi_stream_info *info);
	int (*bind_remote_stream)(struct xi_interceptor *ic,
				  const struct xi_stream_info *info,
				  struct xi_reader next, struct xi_reader *ret);
	void (*unbind_remote_stream)(struct xi_interceptor *ic,
				     const struct xi_stream_info *info);
	/*
	 * xicept's addition for single-threaded engines, where pion would start
	 * a goroutine with a ticker: called periodically with a monotonic clock
	 * (CLOCK_MONOTONIC, ns). Interceptors with timers (NACK, reports) do
	 * their periodic work here. May be NULL.
	 */
	int (*poll)(struct xi_interceptor *ic, uint64_t now_ns);
	/* Releases everything the interceptor holds and frees it. When NULL,
	 * xi_interceptor_close frees nothing: it cannot know how ic was
	 * allocated, except for xi_noop_new's, which it frees. flags
	 * (XI_CLOSE_*) say what happens to kernel state the interceptor's
	 * connection has: with XI_CLOSE_REMOVE_STATE it removes the entries of
	 * its connection from its stage's maps (the connection is being deleted,
	 * or its add undone); without, it leaves them (a process letting go of
	 * a connection that lives on in the kernel).
	 */
	int (*close)(struct xi_interceptor *ic, unsigned flags);
};

/*
 * Implementations embed this as a member (usually the first) and recover
 * their own struct with xi_container_of.
 */
struct xi_interceptor {
	const struct xi_interceptor_ops *ops;
	const char *name;                 /* element name, e.g. "nack-generator" */
};

#define xi_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Dispatchers: NULL-safe on ops, so every caller gets no-op behaviour for free. */
XI_API int xi_interceptor_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
				    struct xi_reader *ret);
XI_API int xi_interceptor_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
				    struct xi_writer *ret);
XI_API int xi_interceptor_bind_local_stream(struct xi_interceptor *ic,
				     const struct xi_stream_info *info,
				     struct xi_writer next, struct xi_writer *ret);
XI_API void xi_interceptor_unbind_local_stream(struct xi_interceptor *ic,
					const struct xi_stream_info *info);
XI_API int xi_interceptor_bind_remote_stream(struct xi_interceptor *ic,
				      const struct xi_stream_info *info,
				      struct xi_reader next, struct xi_reader *ret);
XI_API void xi_interceptor_unbind_remote_stream(struct xi_interceptor *ic,
					 const struct xi_stream_info *info);
XI_API int xi_interceptor_poll(struct xi_interceptor *ic, uint64_t now_ns);
/* Calls ops->close. NULL is fine. A chain drops its reference to the element's
 * factory after this (xi_chain_close). */
XI_API int xi_interceptor_close(struct xi_interceptor *ic);
/* The close op's flags. */
#define XI_CLOSE_REMOVE_STATE 0x1u
/* As xi_interceptor_close, with XI_CLOSE_* flags for ops->close. */
XI_API int xi_interceptor_close_flags(struct xi_interceptor *ic, unsigned flags);

/*
 * The no-op interceptor. Its operations are exported so an implementation can
 * put them in its own ops table for what it does not care about.
 */
XI_API extern const struct xi_interceptor_ops xi_noop_ops;
XI_API int xi_noop_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
			     struct xi_reader *ret);
XI_API int xi_noop_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
			     struct xi_writer *ret);
XI_API int xi_noop_bind_local_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
			      struct xi_writer next, struct xi_writer *ret);
XI_API void xi_noop_unbind_local_stream(struct xi_interceptor *ic,
				 const struct xi_stream_info *info);
XI_API int xi_noop_bind_remote_stream(struct xi_interceptor *ic, const struct xi_stream_info *info,
			       struct xi_reader next, struct xi_reader *ret);
XI_API void xi_noop_unbind_remote_stream(struct xi_interceptor *ic,
				  const struct xi_stream_info *info);
/* Allocates a standalone no-op interceptor; close frees it. NULL + errno on failure. */
XI_API struct xi_interceptor *xi_noop_new(void);

#ifdef __cplusplus
}
#endif
#endif
