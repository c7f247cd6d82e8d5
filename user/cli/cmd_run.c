// SPDX-License-Identifier: MIT
/*
 * xicept run: the AF_XDP engine in the foreground (user/engine/xsk.h). Logs
 * to stderr with timestamps (without them when stderr is the journal, which
 * adds its own); SIGINT or SIGTERM stop it, exit status 0. Under systemd
 * (Type=notify) it reports READY=1 once the engine runs and STOPPING=1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <xicept/config.h>

#include "cli.h"
#include "listen.h"
#include "user/engine/loss.h"
#include "user/engine/xsk.h"

static const char run_usage[] =
	"Usage: xicept run IFNAME [--threads N] [--deliver auto|veth|raw]\n"
	"                  [--nice N|inherit] [--listen [ADDR:]PORT] [-v]\n"
	"\n"
	"Runs the userspace part of IFNAME's stateful chains (nack-generator,\n"
	"receiver-report, packet-dump, and stateless elements placed after them)\n"
	"in the foreground, until SIGINT or SIGTERM. XDP hands their packets to one\n"
	"AF_XDP socket per receive queue, each read by an engine thread of its own;\n"
	"packets the chains let through go back into this namespace's stack in\n"
	"batches, addresses unchanged, and emitted RTCP leaves through the\n"
	"sockets. Connections added,\n"
	"changed or removed while it runs take effect within a second. While it\n"
	"is not running, those packets get the interface's no-daemon policy.\n"
	"\n"
	"Every packet handed to it that does not reach its destination is counted\n"
	"by reason in 'xicept stats' (its --help lists the reasons), and\n"
	"logged: a line when loss starts, at most one a second while it lasts, and\n"
	"one when a second passes without loss.\n"
	"\n"
	"  -t, --threads N  engine threads (default: one per receive queue; queue i\n"
	"                   goes to thread i mod N)\n"
	"  -d, --deliver auto|veth|raw\n"
	"                   how packets go back into the stack: veth, AF_XDP TX\n"
	"                   into a veth pair of the daemon's own (xid<ifindex>,\n"
	"                   received on xid<ifindex>p, removed when it stops);\n"
	"                   raw, raw sockets (they arrive through lo); auto\n"
	"                   (default), veth where it can be made, else raw\n"
	"  -n, --nice N|inherit\n"
	"                   the engine threads' nice value, -20 to 19 (default:\n"
	"                   -10, so that the daemon is not preempted mid-batch by\n"
	"                   the applications on its core); inherit keeps the\n"
	"                   process's\n"
	"  -l, --listen [ADDR:]PORT\n"
	"                   serve GET /metrics (Prometheus text format) and\n"
	"                   /debug/registry (JSON) over HTTP on ADDR:PORT; a bare\n"
	"                   PORT binds 127.0.0.1 only; [ADDR6]:PORT for IPv6\n"
	"  -v, --verbose    show libbpf's and libxdp's messages\n";

#define RUN_THREADS_MAX XI_XSKS_MAX   /* a thread per queue at most */
#define RUN_NICE_DEFAULT (-10)

static int run_parse_nice(const char *s, int64_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < -20 || v > 19)
		return -EINVAL;
	*ret = v;
	return 0;
}

static struct xi_engine *volatile run_engine;
static volatile sig_atomic_t run_stop;
static bool run_journal;   /* stderr is the journal: it adds time and pid */

static void run_on_signal(int sig)
{
	run_stop = 1;
	xi_engine_stop(run_engine);
}

static void run_log(void *user, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char when[32];

	if (run_journal) {
		fprintf(stderr, "%s\n", msg);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ xicept run[%d]: %s\n", when, (long)(tv.tv_usec / 1000),
		(int)getpid(), msg);
}

static void run_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run_logf(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run_log(NULL, msg);
}

static int run_signals(void)
{
	struct sigaction sa = { .sa_handler = run_on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	return 0;
}

static int run_open_fail(const char *ifname, int rc)
{
	switch (rc) {
	case -ENOENT:
		return cli_fail("%s is not attached, or was attached by a xicept without "
				"AF_XDP support (run 'xicept attach %s' first)", ifname, ifname);
	case -EBUSY:
		return cli_fail("%s: a receive queue already has an AF_XDP socket "
				"(is another 'xicept run %s' running?)", ifname, ifname);
	default:
		return cli_fail("cannot start on %s: %s%s", ifname, strerror(-rc),
				cli_verbose ? "" : " (-v shows libbpf's and libxdp's messages)");
	}
}

/* " (veth refused 3, raw failed 1)": the delivery errors by cause, if any. */
static void run_deliver_causes(const struct xi_deliver_stats *d, char *buf, size_t size)
{
	const struct { const char *what; uint64_t n; } c[] = {
		{ "no veth TX frame", d->no_frame }, { "veth refused", d->refused },
		{ "veth unsent", d->unsent }, { "veth invalid", d->tx_invalid },
		{ "raw failed", d->raw_failed },
	};
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (!c[i].n || n >= size)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s %llu", n ? ", " : " (", c[i].what,
				      (unsigned long long)c[i].n);
	}
	if (n && n + 2 <= size)
		strcat(buf, ")");
}

static void run_summary(struct xi_engine *e)
{
	struct xi_engine_stats s;
	unsigned long long lost = 0;
	char what[256];

	xi_engine_stats(e, &s);
	for (size_t i = 0; i < XI_LOSS__MAX; i++)
		lost += s.losses[i];
	xi_loss_format(s.losses, what, sizeof(what));
	char unreadable[48] = "";

	char queues[256] = "";

	for (unsigned i = 0, n = 0; s.queues > 1 && i < s.queues; i++)
		n += (unsigned)snprintf(queues + n, n < sizeof(queues) ? sizeof(queues) - n : 0,
					"%s%llu", i ? "+" : " (queues ", (unsigned long long)s.queue_frames[i]);
	if (s.queues > 1 && strlen(queues) + 2 <= sizeof(queues))
		strcat(queues, ")");
	if (s.tap_unreadable)
		snprintf(unreadable, sizeof(unreadable), ", %llu unreadable",
			 (unsigned long long)s.tap_unreadable);
	char causes[160] = "";

	run_deliver_causes(&s.delivery, causes, sizeof(causes));
	run_logf("stopped: %llu frames%s, %llu delivered (%llu changed), %llu observed (tap%s), "
		 "%llu dropped, %llu chain errors, %llu RTCP emitted (%llu failed), "
		 "%llu RTP resent (%llu failed), %llu delivery errors%s, "
		 "%llu lost%s%s%s",
		 (unsigned long long)s.rx_frames, queues, (unsigned long long)s.chains.delivered,
		 (unsigned long long)s.chains.modified, (unsigned long long)s.chains.observed,
		 unreadable, (unsigned long long)s.chains.dropped,
		 (unsigned long long)s.chains.errors, (unsigned long long)s.chains.emitted,
		 (unsigned long long)s.chains.emit_failed, (unsigned long long)s.chains.rtp_resent,
		 (unsigned long long)s.chains.rtp_resend_failed, (unsigned long long)s.deliver_errors,
		 causes, lost, lost ? " (" : "", lost ? what : "", lost ? ")" : "");
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "deliver", required_argument, NULL, 'd' },
		{ "nice", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },
		CLI_COMMON_LONGOPTS, { 0 },
	};
	struct xi_engine_opts opts = { .sz = sizeof(opts), .log = run_log,
				       .set_nice = true, .nice = RUN_NICE_DEFAULT };
	struct xi_engine *e = NULL;
	struct cli_listen *http = NULL;
	const char *ifname, *listen_spec = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":ht:n:d:l:v", longopts, NULL)) != -1) {
		if (c == 't') {
			uint64_t n;

			if (xi_parse_u64(optarg, &n) || n < 1 || n > RUN_THREADS_MAX)
				return cli_usage_error("run", "--threads wants a number from 1 to %d, not '%s'",
						       RUN_THREADS_MAX, optarg);
			opts.threads = (unsigned)n;
			continue;
		}
		if (c == 'd') {
			if (!strcmp(optarg, "auto"))
				opts.deliver = XI_ENGINE_DELIVER_AUTO;
			else if (!strcmp(optarg, "veth"))
				opts.deliver = XI_ENGINE_DELIVER_VETH;
			else if (!strcmp(optarg, "raw"))
				opts.deliver = XI_ENGINE_DELIVER_RAW;
			else
				return cli_usage_error("run", "--deliver wants auto, veth or raw, not '%s'", optarg);
			continue;
		}
		if (c == 'n') {
			int64_t n;

			opts.set_nice = strcmp(optarg, "inherit") != 0;
			if (!opts.set_nice)
				continue;
			if (run_parse_nice(optarg, &n))
				return cli_usage_error("run", "--nice wants a number from -20 to 19 or "
						       "'inherit', not '%s'", optarg);
			opts.nice = (int)n;
			continue;
		}
		if (c == 'l') {
			if (cli_listen_check(optarg))
				return cli_usage_error("run", "--listen wants PORT, ADDR:PORT or [ADDR6]:PORT, "
						       "not '%s'", optarg);
			listen_spec = optarg;
			continue;
		}
		rc = cli_common_opt(c, argv, "run", run_usage);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error("run", argc == optind ? "run needs an interface name"
							      : "run takes one interface name");
	ifname = argv[optind];
	if (cli_require_root() || cli_require_ifname(ifname))
		return CLI_EXIT_FAIL;
	run_journal = cli_stderr_is_journal();
	rc = run_signals();
	if (rc)
		return cli_fail("cannot install signal handlers: %s", strerror(-rc));
	/* Plugins are loaded; from here on the names do not change. */
	opts.cat = cli_catalog();
	if (!opts.cat)
		return CLI_EXIT_FAIL;
	xi_catalog_freeze(opts.cat);
	/* Listening first: a port in use stops the run before any socket opens. */
	if (listen_spec) {
		rc = cli_listen_start(listen_spec, ifname, opts.cat, &http);
		if (rc == -ENOENT) {
			xi_catalog_free(opts.cat);
			return run_open_fail(ifname, rc);
		}
		if (rc) {
			xi_catalog_free(opts.cat);
			return cli_fail("cannot listen on %s: %s", listen_spec, strerror(-rc));
		}
	}
	rc = xi_engine_new(ifname, &opts, &e);
	if (rc) {
		cli_listen_stop(http);
		xi_catalog_free(opts.cat);
		return run_open_fail(ifname, rc);
	}
	cli_listen_set_engine(http, e);
	if (http)
		run_logf("serving /metrics and /debug/registry on %s (port %u)", listen_spec,
			 (unsigned)cli_listen_port(http));
	run_engine = e;
	{
		struct xi_catalog_stats cs;

		xi_catalog_stats(opts.cat, &cs);
		run_logf("running on %s; catalog frozen with %llu interceptors", ifname,
			 (unsigned long long)cs.size);
	}
	/* Type=notify: the unit is started once the engine runs. Without
	 * NOTIFY_SOCKET this does nothing. */
	sd_notifyf(0, "READY=1\nSTATUS=running on %s", ifname);
	/* A signal that came while the engine was being made. */
	if (run_stop)
		xi_engine_stop(e);
	rc = xi_engine_run(e);
	run_engine = NULL;
	sd_notify(0, "STOPPING=1");
	cli_listen_stop(http);
	run_summary(e);
	xi_engine_free(e);
	xi_catalog_free(opts.cat);
	if (rc)
		return cli_fail("%s: %s", ifname, strerror(-rc));
	return CLI_EXIT_OK;
}
