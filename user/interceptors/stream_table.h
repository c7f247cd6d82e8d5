/* SPDX-License-Identifier: MIT */
/*
 * Scaffolding shared by the userspace interceptors that keep per-stream
 * state (nack-generator, receiver-report, packet-dump): the list of bound
 * remote streams under one mutex, the bound RTCP reader and writer, the
 * interval clock of poll(), and a random sender SSRC. Internal to the library.
 *
 * An interceptor embeds struct xi_stream_table in its own struct and struct
 * xi_stream_table_stream in its per-stream struct, and gets back to the outer
 * struct with xi_container_of.
 */
#ifndef XICEPT_STREAM_TABLE_H
#define XICEPT_STREAM_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xicept/interceptor.h>

struct xi_bound_stream {
	struct xi_bound_stream *next;
	uint32_t ssrc;
	struct xi_reader reader;         /* the reader this stream wraps */
};

typedef void (*xi_bound_stream_free_fn)(struct xi_bound_stream *s);

struct xi_stream_table {
	/* Covers the streams, the writer and whatever state the interceptor
	 * adds; reads, poll and binds may come from different threads. */
	pthread_mutex_t lock;
	struct xi_bound_stream *streams;  /* in bind order */
	xi_bound_stream_free_fn stream_free;
	bool have_writer;
	struct xi_writer writer;
	struct xi_reader rtcp_reader;        /* the RTCP reader being wrapped */
};

/* poll()'s clock: the first poll starts it, then it is due once per interval. */
struct xi_interval {
	bool armed;
	uint64_t due_ns;
};

void xi_stream_table_init(struct xi_stream_table *st, xi_bound_stream_free_fn stream_free);
/* Frees every stream still bound and destroys the lock. */
void xi_stream_table_fini(struct xi_stream_table *st);

/* Fills in s's SSRC and wrapped reader and appends it under the lock. */
void xi_stream_table_add(struct xi_stream_table *st, struct xi_bound_stream *s, uint32_t ssrc,
		     struct xi_reader next);
/* Unlinks the stream of info's SSRC under the lock and frees it. */
void xi_stream_table_unbind(struct xi_stream_table *st, const struct xi_stream_info *info);
/* The caller holds the lock. */
struct xi_bound_stream *xi_stream_table_find(const struct xi_stream_table *st, uint32_t ssrc);

/* Keeps next as st->rtcp_reader and wraps it in read(ctx). */
int xi_stream_table_bind_rtcp_reader(struct xi_stream_table *st, struct xi_reader next,
				 xi_read_fn read, void *ctx, struct xi_reader *ret);
/* Keeps next as the writer reports go to and passes it on unchanged. */
int xi_stream_table_bind_rtcp_writer(struct xi_stream_table *st, struct xi_writer next,
				 struct xi_writer *ret);

bool xi_interval_due(struct xi_interval *t, uint64_t now_ns, uint64_t interval_ns);

/* A nonzero random SSRC; fallback (nonzero) if the kernel has no randomness
 * to give. Each interceptor passes its own, so that two kinds in one chain
 * still send from different SSRCs then. */
uint32_t xi_random_ssrc(uint32_t fallback);

/*
 * Local streams (BindLocalStream) of an interceptor that keeps its own list
 * (sender-report, nack-responder): struct xi_local_stream first in its
 * stream struct, the list under the interceptor's own lock.
 */
struct xi_local_stream {
	struct xi_local_stream *next;
	uint32_t ssrc;
};

void xi_local_streams_push(struct xi_local_stream **head, struct xi_local_stream *s,
			   uint32_t ssrc);
struct xi_local_stream *xi_local_streams_find(struct xi_local_stream *head, uint32_t ssrc);
/* Unlinks the stream of ssrc and returns it; NULL when there is none. */
struct xi_local_stream *xi_local_streams_take(struct xi_local_stream **head, uint32_t ssrc);
/* Unlinks the first stream and returns it; NULL when the list is empty. */
struct xi_local_stream *xi_local_streams_pop(struct xi_local_stream **head);

#endif
