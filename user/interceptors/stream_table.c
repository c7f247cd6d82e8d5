// SPDX-License-Identifier: MIT
/* Per-stream scaffolding of the stateful userspace interceptors; see stream_table.h. */
#include <errno.h>
#include <sys/random.h>

#include <xicept/stream.h>

#include "user/interceptors/stream_table.h"

void xi_stream_table_init(struct xi_stream_table *st, xi_bound_stream_free_fn stream_free)
{
	pthread_mutex_init(&st->lock, NULL);
	st->streams = NULL;
	st->stream_free = stream_free;
	st->have_writer = false;
}

void xi_stream_table_fini(struct xi_stream_table *st)
{
	while (st->streams) {
		struct xi_bound_stream *s = st->streams;

		st->streams = s->next;
		st->stream_free(s);
	}
	pthread_mutex_destroy(&st->lock);
}

/* Bind order is report order, so what goes out is predictable. */
void xi_stream_table_add(struct xi_stream_table *st, struct xi_bound_stream *s, uint32_t ssrc,
		     struct xi_reader next)
{
	struct xi_bound_stream **pp;

	s->next = NULL;
	s->ssrc = ssrc;
	s->reader = next;
	pthread_mutex_lock(&st->lock);
	for (pp = &st->streams; *pp; pp = &(*pp)->next)
		;
	*pp = s;
	pthread_mutex_unlock(&st->lock);
}

void xi_stream_table_unbind(struct xi_stream_table *st, const struct xi_stream_info *info)
{
	struct xi_bound_stream **pp, *s = NULL;

	if (!info)
		return;
	pthread_mutex_lock(&st->lock);
	for (pp = &st->streams; *pp; pp = &(*pp)->next) {
		if ((*pp)->ssrc == info->ssrc) {
			s = *pp;
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	if (s)
		st->stream_free(s);
}

struct xi_bound_stream *xi_stream_table_find(const struct xi_stream_table *st, uint32_t ssrc)
{
	for (struct xi_bound_stream *s = st->streams; s; s = s->next)
		if (s->ssrc == ssrc)
			return s;
	return NULL;
}

int xi_stream_table_bind_rtcp_reader(struct xi_stream_table *st, struct xi_reader next,
				 xi_read_fn read, void *ctx, struct xi_reader *ret)
{
	if (!ret)
		return -EINVAL;
	st->rtcp_reader = next;
	ret->read = read;
	ret->ctx = ctx;
	return 0;
}

int xi_stream_table_bind_rtcp_writer(struct xi_stream_table *st, struct xi_writer next,
				 struct xi_writer *ret)
{
	if (!ret)
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	st->writer = next;
	st->have_writer = true;
	pthread_mutex_unlock(&st->lock);
	*ret = next;
	return 0;
}

bool xi_interval_due(struct xi_interval *t, uint64_t now_ns, uint64_t interval_ns)
{
	if (!t->armed) {
		t->armed = true;
		t->due_ns = now_ns + interval_ns;
		return false;
	}
	if (now_ns < t->due_ns)
		return false;
	t->due_ns = now_ns + interval_ns;
	return true;
}

uint32_t xi_random_ssrc(uint32_t fallback)
{
	uint32_t v = 0;

	/* getrandom cannot fail for 4 bytes once the pool is ready; a zero
	 * from a failed call is caught by the loop. */
	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = fallback;
	return v;
}

void xi_local_streams_push(struct xi_local_stream **head, struct xi_local_stream *s,
			   uint32_t ssrc)
{
	s->ssrc = ssrc;
	s->next = *head;
	*head = s;
}

struct xi_local_stream *xi_local_streams_find(struct xi_local_stream *head, uint32_t ssrc)
{
	for (; head; head = head->next)
		if (head->ssrc == ssrc)
			return head;
	return NULL;
}

struct xi_local_stream *xi_local_streams_take(struct xi_local_stream **head, uint32_t ssrc)
{
	for (struct xi_local_stream **pp = head; *pp; pp = &(*pp)->next)
		if ((*pp)->ssrc == ssrc) {
			struct xi_local_stream *s = *pp;

			*pp = s->next;
			return s;
		}
	return NULL;
}

struct xi_local_stream *xi_local_streams_pop(struct xi_local_stream **head)
{
	struct xi_local_stream *s = *head;

	if (s)
		*head = s->next;
	return s;
}
