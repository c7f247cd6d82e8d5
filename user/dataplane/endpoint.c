// SPDX-License-Identifier: MIT
/*
 * Text forms of endpoints and stream specs, as the CLI and the pinned
 * connection metadata use them. Messages quote the offending piece so an
 * operator sees at once which part of "--local 10.0.0.300:5004" is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <xicept/config.h>
#include <xicept/dataplane.h>

#define ENDPOINT_TEXT_MAX 64

static int port_parse(const char *s, uint16_t *ret, struct xi_err *err)
{
	uint64_t v;

	/* Ports are decimal on every command line operators know; no 0x. */
	if (!*s || strspn(s, "0123456789") != strlen(s) || xi_parse_u64(s, &v) ||
	    v == 0 || v > 65535)
		return xi_err_set(err, -EINVAL, "invalid port '%s'", s);
	*ret = (uint16_t)v;
	return 0;
}

/* Splits "[v6]:port" or "v4:port" into addr and port text inside buf. */
static int endpoint_split(const char *text, char *buf, char **ret_addr,
			  char **ret_port, bool *ret_v6, struct xi_err *err)
{
	char *colon;

	if (strlen(text) >= ENDPOINT_TEXT_MAX)
		return xi_err_set(err, -EINVAL, "invalid endpoint '%.32s...': too long", text);
	strcpy(buf, text);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':')
			return xi_err_set(err, -EINVAL,
					  "invalid endpoint '%s': expected [IPv6]:PORT", text);
		*close = '\0';
		*ret_addr = buf + 1;
		*ret_port = close + 2;
		*ret_v6 = true;
		return 0;
	}
	colon = strrchr(buf, ':');
	if (!colon)
		return xi_err_set(err, -EINVAL, "invalid endpoint '%s': expected IP:PORT", text);
	if (strchr(buf, ':') != colon)
		return xi_err_set(err, -EINVAL,
				  "invalid endpoint '%s': IPv6 addresses need brackets, [IPv6]:PORT",
				  text);
	*colon = '\0';
	*ret_addr = buf;
	*ret_port = colon + 1;
	*ret_v6 = false;
	return 0;
}

int xi_endpoint_parse(const char *text, struct xi_endpoint *ret, struct xi_err *err)
{
	char buf[ENDPOINT_TEXT_MAX], *addr, *port;
	struct xi_endpoint ep = { 0 };
	bool v6;
	int r;

	if (!text || !ret)
		return xi_err_set(err, -EINVAL, "invalid endpoint: none given");
	if (!strcmp(text, "*")) {
		*ret = ep;
		return 0;
	}
	r = endpoint_split(text, buf, &addr, &port, &v6, err);
	if (r)
		return r;
	ep.family = v6 ? AF_INET6 : AF_INET;
	if (inet_pton(ep.family, addr, ep.addr) != 1)
		return xi_err_set(err, -EINVAL, "invalid address '%s'", addr);
	r = port_parse(port, &ep.port, err);
	if (r)
		return r;
	*ret = ep;
	return 0;
}

int xi_endpoint_format(const struct xi_endpoint *ep, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if (!ep)
		return -EINVAL;
	switch (ep->family) {
	case 0:
		return snprintf(buf, size, "*");
	case AF_INET:
		inet_ntop(AF_INET, ep->addr, addr, sizeof(addr));
		return snprintf(buf, size, "%s:%u", addr, ep->port);
	case AF_INET6:
		inet_ntop(AF_INET6, ep->addr, addr, sizeof(addr));
		return snprintf(buf, size, "[%s]:%u", addr, ep->port);
	default:
		return -EAFNOSUPPORT;
	}
}

/* One ':'-separated field of a stream spec, bounded and NUL-terminated. */
static const char *field_next(const char *s, char *buf, size_t size, bool *ret_ok)
{
	size_t n = strcspn(s, ":");

	*ret_ok = n < size;
	if (*ret_ok) {
		memcpy(buf, s, n);
		buf[n] = '\0';
	} else {
		snprintf(buf, size, "%.*s", (int)(size - 1), s);
	}
	return s[n] == ':' ? s + n + 1 : NULL;
}

int xi_stream_spec_parse(const char *text, struct xi_stream_spec *ret, struct xi_err *err)
{
	char ssrc[24], pt[24], rate[24];
	const char *p;
	uint64_t v_ssrc, v_pt, v_rate;
	bool ok1, ok2 = false, ok3 = false;

	if (!text || !ret)
		return xi_err_set(err, -EINVAL, "invalid stream: none given");
	p = field_next(text, ssrc, sizeof(ssrc), &ok1);
	if (p)
		p = field_next(p, pt, sizeof(pt), &ok2);
	if (!p)
		return xi_err_set(err, -EINVAL,
				  "invalid stream '%s': expected SSRC:PT:CLOCKRATE", text);
	if (field_next(p, rate, sizeof(rate), &ok3))
		return xi_err_set(err, -EINVAL,
				  "invalid stream '%s': expected SSRC:PT:CLOCKRATE", text);
	if (!ok1 || !*ssrc || xi_parse_u64(ssrc, &v_ssrc) || v_ssrc > UINT32_MAX)
		return xi_err_set(err, -EINVAL, "invalid SSRC '%s'", ssrc);
	if (!ok2 || !*pt || xi_parse_u64(pt, &v_pt) || v_pt > 127)
		return xi_err_set(err, -EINVAL, "invalid payload type '%s' (0-127)", pt);
	if (!ok3 || !*rate || xi_parse_u64(rate, &v_rate) || v_rate == 0 ||
	    v_rate > UINT32_MAX)
		return xi_err_set(err, -EINVAL, "invalid clock rate '%s'", rate);
	ret->ssrc = (uint32_t)v_ssrc;
	ret->payload_type = (uint8_t)v_pt;
	ret->clock_rate = (uint32_t)v_rate;
	return 0;
}
