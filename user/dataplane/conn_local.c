// SPDX-License-Identifier: MIT
/*
 * Local streams of a connection (pion's BindLocalStream) and its egress
 * stage list: what conn.c stores in the meta and in xi_conns for the TC
 * egress side (bpf/egress.bpf.c, user/dataplane/egress.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/dataplane.h>
#include <xicept/registry.h>

#include "user/dataplane/conn_local.h"
#include "user/dataplane/internal.h"

static int num(const char *s, size_t n, uint64_t max, uint64_t *ret)
{
	char buf[24];
	char *end;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(buf, &end, 0);
	if (errno || *end || *ret > max)
		return -EINVAL;
	return 0;
}

int xi_local_stream_spec_parse(const char *text, struct xi_local_stream_spec *ret,
			       struct xi_err *err)
{
	const char *f[4] = { 0 }, *p;
	size_t len[4] = { 0 }, n = 0;
	struct xi_local_stream_spec s = { 0 };
	uint64_t v;

	if (!text || !ret)
		return xi_err_set(err, -EINVAL, "invalid local stream: none given");
	for (p = text; n < 4; n++) {
		const char *c = strchr(p, ':');

		f[n] = p;
		len[n] = c ? (size_t)(c - p) : strlen(p);
		if (!c) {
			n++;
			break;
		}
		p = c + 1;
	}
	if ((n != 3 && n != 4) || (n == 4 && strchr(f[3], ':')))
		return xi_err_set(err, -EINVAL, "invalid local stream '%s': expected "
				  "SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]", text);
	if (num(f[0], len[0], UINT32_MAX, &v))
		return xi_err_set(err, -EINVAL, "invalid SSRC '%.*s'", (int)len[0], f[0]);
	s.ssrc = (uint32_t)v;
	if (num(f[1], len[1], 127, &v))
		return xi_err_set(err, -EINVAL, "invalid payload type '%.*s' (0-127)",
				  (int)len[1], f[1]);
	s.payload_type = (uint8_t)v;
	if (num(f[2], len[2], UINT32_MAX, &v) || v == 0)
		return xi_err_set(err, -EINVAL, "invalid clock rate '%.*s'", (int)len[2], f[2]);
	s.clock_rate = (uint32_t)v;
	if (n == 4) {
		const char *slash = strchr(f[3], '/');

		if (strncmp(f[3], "rtx=", 4) || !slash)
			return xi_err_set(err, -EINVAL, "invalid '%s': expected rtx=RTXSSRC/RTXPT",
					  f[3]);
		if (num(f[3] + 4, (size_t)(slash - f[3] - 4), UINT32_MAX, &v))
			return xi_err_set(err, -EINVAL, "invalid RTX SSRC in '%s'", f[3]);
		s.rtx_ssrc = (uint32_t)v;
		if (num(slash + 1, strlen(slash + 1), 127, &v))
			return xi_err_set(err, -EINVAL, "invalid RTX payload type in '%s' (0-127)",
					  f[3]);
		s.rtx_payload_type = (uint8_t)v;
		s.has_rtx = true;
		if (s.rtx_ssrc == s.ssrc)
			return xi_err_set(err, -EINVAL, "RTX SSRC %u is the stream's own", s.ssrc);
	}
	*ret = s;
	return 0;
}

int xi_local_stream_spec_format(const struct xi_local_stream_spec *s, char *buf, size_t size)
{
	if (s->has_rtx)
		return snprintf(buf, size, "%u:%u:%u:rtx=%u/%u", s->ssrc, s->payload_type,
				s->clock_rate, s->rtx_ssrc, s->rtx_payload_type);
	return snprintf(buf, size, "%u:%u:%u", s->ssrc, s->payload_type, s->clock_rate);
}

int xi_conn_local_check(const struct xi_conn_spec *spec, struct xi_err *err)
{
	if (spec->n_local_streams > XI_CONN_MAX_STREAMS)
		return xi_err_set(err, -E2BIG, "too many local streams: %zu (at most %d)",
				  spec->n_local_streams, XI_CONN_MAX_STREAMS);
	for (size_t i = 0; i < spec->n_local_streams; i++) {
		const struct xi_local_stream_spec *s = &spec->local_streams[i];

		if (s->payload_type > 127 || s->clock_rate == 0 ||
		    (s->has_rtx && s->rtx_payload_type > 127))
			return xi_err_set(err, -EINVAL,
					  "local stream %zu: invalid payload type or clock rate", i);
		for (size_t j = 0; j < spec->n_streams; j++)
			if (spec->streams[j].ssrc == s->ssrc)
				return xi_err_set(err, -EINVAL,
						  "SSRC %u is both a remote and a local stream", s->ssrc);
		for (size_t j = 0; j < i; j++)
			if (spec->local_streams[j].ssrc == s->ssrc ||
			    (s->has_rtx && spec->local_streams[j].has_rtx &&
			     spec->local_streams[j].rtx_ssrc == s->rtx_ssrc))
				return xi_err_set(err, -EINVAL, "duplicate local stream SSRC %u",
						  s->ssrc);
	}
	return 0;
}

void xi_conn_local_to_meta(const struct xi_conn_spec *spec, struct xi_conn_meta *m)
{
	m->n_local = (uint32_t)spec->n_local_streams;
	for (size_t i = 0; i < spec->n_local_streams && i < XI_CONN_META_STREAMS; i++) {
		const struct xi_local_stream_spec *s = &spec->local_streams[i];

		m->local_streams[i] = (struct xi_conn_meta_local){
			.ssrc = s->ssrc, .clock_rate = s->clock_rate, .rtx_ssrc = s->rtx_ssrc,
			.payload_type = s->payload_type, .rtx_payload_type = s->rtx_payload_type,
			.has_rtx = s->has_rtx,
		};
	}
}

void xi_conn_local_from_meta(const struct xi_conn_meta *m, struct xi_conn_spec *spec)
{
	spec->n_local_streams = m->n_local <= XI_CONN_MAX_STREAMS ? m->n_local : XI_CONN_MAX_STREAMS;
	for (size_t i = 0; i < spec->n_local_streams; i++) {
		const struct xi_conn_meta_local *s = &m->local_streams[i];

		spec->local_streams[i] = (struct xi_local_stream_spec){
			.ssrc = s->ssrc, .payload_type = s->payload_type,
			.clock_rate = s->clock_rate, .has_rtx = s->has_rtx != 0,
			.rtx_ssrc = s->rtx_ssrc, .rtx_payload_type = s->rtx_payload_type,
		};
	}
}

/*
 * Packets leaving run every XDP-kind element that has a TC program, in
 * write order (pion's writers run from the chain's last element to its
 * first, element 0 nearest the wire), wherever it sits in the chain: on the
 * way out userspace can only observe, so nothing has to wait for it. The
 * tap comes last when an element binds local streams: userspace sees what
 * left.
 */
int xi_conn_egress_make(const struct xi_chain *chain, struct xi_conn *val, struct xi_err *err)
{
	bool tap = false;

	val->n_egress = 0;
	for (size_t i = xi_chain_len(chain); i-- > 0;) {
		const struct xi_factory *f = xi_chain_factory(chain, i);
		const struct xi_stage *d;

		if (!f)
			continue;
		if (f->flags & XI_FACTORY_LOCAL_STREAMS)
			tap = true;
		if (f->kind != XI_KIND_XDP)
			continue;
		d = f->stage;
		if (!d || !d->egress_prog)
			continue;
		if (val->n_egress + 1 >= XI_CHAIN_STAGES_MAX)
			return xi_err_set(err, -E2BIG, "chain too long for TC egress");
		val->egress[val->n_egress++] = (__u8)d->slot;
	}
	if (tap)
		val->egress[val->n_egress++] = XI_STAGE_TAP;
	return 0;
}
