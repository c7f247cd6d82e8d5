// SPDX-License-Identifier: MIT
/*
 * xicept run --listen: the live view over HTTP (libmicrohttpd).
 *
 * One MHD thread of its own (MHD_USE_INTERNAL_POLLING_THREAD) answers every
 * request in turn, so a flood of requests costs one thread's time and never
 * the engine threads': the documents are made from lock-free readers
 * (user/engine/metrics.h), and the thread runs at a lower priority (nice
 * +10) than the packet threads. At most LISTEN_CONNS connections are open at
 * once; a connection idle for LISTEN_TIMEOUT_S seconds is closed.
 *
 * GET /metrics and GET /debug/registry; any other method is answered 405
 * with an Allow: GET header, any other path 404, each with a one-line body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli.h"
#include "listen.h"
#include "user/engine/metrics.h"

#define LISTEN_CONNS      64
#define LISTEN_TIMEOUT_S  5
#define LISTEN_NICE       10

struct cli_listen {
	struct MHD_Daemon *d;
	struct xi_metrics_src src;     /* src.dp is ours; src.engine unused */
	struct xi_engine *engine;      /* set once it runs: atomic */
	uint16_t port;
};

static __thread int listen_niced;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *fmt,
				  const char *arg)
{
	char *body = NULL;
	int n = asprintf(&body, fmt, arg);

	if (n < 0)
		return MHD_NO;
	return reply(conn, status, "text/plain; charset=utf-8", body, (size_t)n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct cli_listen *l = cls;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (!listen_niced) {
		/* Linux keeps a nice value per thread: only this one yields. */
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LISTEN_NICE);
		listen_niced = 1;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method %s not allowed: only GET is served\n", method);
	if (!strcmp(url, "/metrics")) {
		struct xi_metrics_src src = l->src;

		src.engine = __atomic_load_n(&l->engine, __ATOMIC_ACQUIRE);
		rc = xi_metrics_text(&src, &body, &len);
		if (!rc)
			return reply(conn, MHD_HTTP_OK, XI_METRICS_CONTENT_TYPE, body, len);
	} else if (!strcmp(url, "/debug/registry")) {
		rc = xi_registry_json_text(l->src.cat, &body, &len);
		if (!rc)
			return reply(conn, MHD_HTTP_OK, "application/json", body, len);
	} else {
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "no such path %s (try /metrics or /debug/registry)\n", url);
	}
	return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the counters: %s\n",
			  strerror(-rc));
}

/* "PORT" (loopback), "ADDR:PORT" or "[ADDR6]:PORT". */
static int listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	struct xi_endpoint ep;
	char buf[80];
	uint64_t port;

	if (!xi_parse_u64(spec, &port)) {
		if (port > 65535)
			return -EINVAL;
		snprintf(buf, sizeof(buf), "127.0.0.1:%u", (unsigned)port);
		spec = buf;
	} else if (spec[0] && spec[strlen(spec) - 1] == ':') {
		return -EINVAL;
	}
	/* xi_endpoint_parse refuses port 0, which here asks for any free port. */
	if (strlen(spec) > 2 && !strcmp(spec + strlen(spec) - 2, ":0")) {
		snprintf(buf, sizeof(buf), "%.*s:1", (int)(strlen(spec) - 2), spec);
		if (xi_endpoint_parse(buf, &ep, NULL))
			return -EINVAL;
		ep.port = 0;
	} else if (xi_endpoint_parse(spec, &ep, NULL) || !ep.family) {
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (ep.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep.port);
		memcpy(&sin->sin_addr, ep.addr, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep.port);
		memcpy(&sin6->sin6_addr, ep.addr, 16);
		*len = sizeof(*sin6);
	}
	return 0;
}

int cli_listen_check(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return listen_parse(spec, &ss, &len);
}

int cli_listen_start(const char *spec, const char *ifname, struct xi_catalog *cat,
		     struct cli_listen **ret)
{
	struct sockaddr_storage ss;
	struct cli_listen *l;
	const union MHD_DaemonInfo *info;
	socklen_t len;
	int rc;

	rc = listen_parse(spec, &ss, &len);
	if (rc)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->src.ifname = ifname;
	l->src.cat = cat;
	rc = xi_dataplane_open(ifname, cat, &l->src.dp);
	if (rc) {
		free(l);
		return rc;
	}
	errno = 0;
	l->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, on_request, l,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)LISTEN_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LISTEN_TIMEOUT_S,
				MHD_OPTION_END);
	if (!l->d) {
		rc = errno ? -errno : -EADDRNOTAVAIL;
		xi_dataplane_close(l->src.dp);
		free(l);
		return rc;
	}
	info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
	l->port = info ? info->port : 0;
	*ret = l;
	return 0;
}

void cli_listen_set_engine(struct cli_listen *l, struct xi_engine *e)
{
	if (l)
		__atomic_store_n(&l->engine, e, __ATOMIC_RELEASE);
}

uint16_t cli_listen_port(const struct cli_listen *l)
{
	return l ? l->port : 0;
}

void cli_listen_stop(struct cli_listen *l)
{
	if (!l)
		return;
	MHD_stop_daemon(l->d);
	xi_dataplane_close(l->src.dp);
	free(l);
}
