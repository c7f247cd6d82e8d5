// SPDX-License-Identifier: MIT
/*
 * One engine connection: its chain built with the interface's dataplane and
 * bound from xi_chain_xdp_prefix(), its remote and local streams, and its
 * end.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <bpf/bpf.h>

#include "user/dataplane/internal.h"
#include "user/engine/conns_internal.h"

/* The spec does not say which RTCP feedback a stream negotiated; a chain
 * that holds nack-generator means the operator wants NACKs for it. */
static void stream_info_make(uint32_t ssrc, uint8_t pt, uint32_t clock_rate,
			     struct xi_stream_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->id, sizeof(ret->id), "ssrc-%u", ssrc);
	ret->ssrc = ssrc;
	ret->payload_type = pt;
	ret->clock_rate = clock_rate;
	ret->n_rtcp_feedback = 2;
	strcpy(ret->rtcp_feedback[0].type, "nack");
	strcpy(ret->rtcp_feedback[1].type, "nack");
	strcpy(ret->rtcp_feedback[1].parameter, "pli");
}

struct econn_stream *econn_stream_find(struct econn *c, uint32_t ssrc)
{
	for (size_t i = 0; i < c->n_streams; i++)
		if (c->streams[i].info.ssrc == ssrc)
			return &c->streams[i];
	return NULL;
}

int econn_stream_bind(struct econn *c, uint32_t ssrc, uint8_t pt, uint32_t clock_rate,
		      struct econn_stream **ret)
{
	struct xi_reader inner = { .read = econn_wire_read, .ctx = c };
	struct econn_stream *s;
	int r;

	if (c->n_streams >= ENGINE_STREAMS_MAX)
		return -ENOSPC;
	s = &c->streams[c->n_streams];
	stream_info_make(ssrc, pt, clock_rate, &s->info);
	r = xi_chain_bind_remote_stream_from(c->chain, c->from, &s->info, inner, &s->reader);
	if (r)
		return r;
	c->n_streams++;
	if (ret)
		*ret = s;
	return 0;
}

/* What the connection's xi_conns value says: its default clock rate and
 * whether it is SRTP. */
static void conn_value_read(struct econn *c)
{
	struct xi_conn val;

	c->default_clock_rate = DEFAULT_CLOCK_RATE;
	if (bpf_map_lookup_elem(xi_dataplane_map_fd(c->table->dp, XI_MAP_CONNS), &c->id, &val) ||
	    val.conn_id != c->id)
		return;
	if (val.default_clock_rate)
		c->default_clock_rate = val.default_clock_rate;
	c->srtp_on = val.srtp_profiles != 0;
	c->srtp_tag_in = val.srtp_tag_in;
	c->srtp_tag_out = val.srtp_tag_out;
}

static bool ssrc_taken(const struct econn *c, uint32_t ssrc)
{
	const struct xi_conn_spec *sp = &c->spec;

	for (size_t i = 0; i < sp->n_streams; i++)
		if (sp->streams[i].ssrc == ssrc)
			return true;
	for (size_t i = 0; i < sp->n_local_streams; i++)
		if (sp->local_streams[i].ssrc == ssrc ||
		    (sp->local_streams[i].has_rtx && sp->local_streams[i].rtx_ssrc == ssrc))
			return true;
	return false;
}

/* The SRTP contexts from the keys conn add kept, and a sender SSRC of
 * xicept's own for what it emits: random (RFC 3550 8.1), drawn again by
 * every engine, so that a restarted daemon's SRTCP index 1 is never an
 * index its last run used with the same SSRC. -errno when the keys cannot
 * be had: the connection then emits nothing. */
static int econn_srtp_open(struct econn *c)
{
	struct xi_srtp_keys keys;
	int r = xi_dataplane_conn_srtp_keys(c->table->dp, c->id, &keys);

	if (!r)
		r = xi_srtp_conn_new(&keys, &c->srtp);
	xi_srtp_keys_wipe(&keys);
	if (r)
		return r;
	do {
		if (getrandom(&c->rtcp_ssrc, sizeof(c->rtcp_ssrc), 0) != sizeof(c->rtcp_ssrc))
			return -errno;
	} while (c->rtcp_ssrc == 0 || ssrc_taken(c, c->rtcp_ssrc));
	return 0;
}

void econn_free(struct econn *c)
{
	if (!c)
		return;
	if (c->chain) {
		for (size_t i = c->n_locals; i-- > 0;)
			xi_chain_unbind_local_stream_from(c->chain, c->from, &c->locals[i].info);
		for (size_t i = c->n_streams; i-- > 0;)
			xi_chain_unbind_remote_stream_from(c->chain, c->from, &c->streams[i].info);
		xi_chain_close(c->chain, NULL);
	}
	xi_srtp_conn_free(c->srtp);
	pthread_mutex_destroy(&c->lock);
	free(c->streams);
	free(c->locals);
	free(c);
}

static ssize_t wire_local_write(void *ctx, const uint8_t *pkt, size_t len,
				struct xi_attributes *attrs)
{
	struct econn *c = ctx;

	/* A copy of a packet that left already: it must not leave twice. */
	if (c->observing_egress)
		return (ssize_t)len;
	return econn_wire_write_rtp(ctx, pkt, len, attrs);
}

static int econn_bind_locals(struct econn *c)
{
	struct xi_writer wire = { .write = wire_local_write, .ctx = c };
	int r = 0;

	if (!c->spec.n_local_streams)
		return 0;
	c->locals = calloc(c->spec.n_local_streams, sizeof(*c->locals));
	if (!c->locals)
		return -ENOMEM;
	for (size_t i = 0; !r && i < c->spec.n_local_streams; i++) {
		const struct xi_local_stream_spec *s = &c->spec.local_streams[i];
		struct econn_local *l = &c->locals[i];

		stream_info_make(s->ssrc, s->payload_type, s->clock_rate, &l->info);
		if (s->has_rtx) {
			l->info.ssrc_rtx = s->rtx_ssrc;
			l->info.payload_type_rtx = s->rtx_payload_type;
		}
		r = xi_chain_bind_local_stream_from(c->chain, c->from, &l->info, wire, &l->writer);
		if (!r)
			c->n_locals++;
	}
	return r;
}

static int econn_bind(struct econn *c)
{
	struct xi_reader inner = { .read = econn_wire_read, .ctx = c };
	struct xi_writer wire = { .write = econn_wire_write, .ctx = c }, unused;
	int r;

	c->from = xi_chain_xdp_prefix(c->chain);
	r = xi_chain_bind_rtcp_reader_from(c->chain, c->from, inner, &c->rtcp_reader);
	if (!r)
		r = xi_chain_bind_rtcp_writer_from(c->chain, c->from, wire, &unused);
	for (size_t i = 0; !r && i < c->spec.n_streams; i++) {
		const struct xi_stream_spec *s = &c->spec.streams[i];

		r = econn_stream_bind(c, s->ssrc, s->payload_type, s->clock_rate, NULL);
	}
	if (!r)
		r = econn_bind_locals(c);
	return r;
}

int econn_new(struct xi_engine_conns *t, uint32_t id, const struct xi_conn_spec *spec,
	      struct econn **ret)
{
	struct xi_build_ctx ctx = { .conn_id = id, .dp = t->dp };
	struct xi_err err = { 0 };
	struct econn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->streams = calloc(ENGINE_STREAMS_MAX, sizeof(*c->streams));
	if (!c->streams) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->id = id;
	c->table = t;
	c->spec = *spec;
	c->spec.has_srtp = false;   /* the keys, if any, are read below */
	xi_srtp_keys_wipe(&c->spec.srtp);
	conn_value_read(c);
	if (c->srtp_on) {
		r = econn_srtp_open(c);
		if (r)
			tlog(t, "connection %u: SRTP keys: %s: it emits nothing and reads no SRTCP",
			     id, strerror(-r));
		ctx.srtp = c->srtp;
	}
	r = xi_catalog_build(t->cat, spec->chain, &ctx, &c->chain, &err);
	if (!r) {
		r = econn_bind(c);
		if (r)
			snprintf(err.msg, sizeof(err.msg), "binding: %s", strerror(-r));
	}
	if (r) {
		/* Kept without a chain, so that its packets pass and the
		 * failure is reported once, not per sync. */
		tlog(t, "connection %u: cannot build '%s': %s", id, spec->chain,
		      err.msg[0] ? err.msg : strerror(-r));
		if (c->chain)
			xi_chain_close(c->chain, NULL);
		c->chain = NULL;
		c->n_streams = 0;
	}
	*ret = c;
	return 0;
}
