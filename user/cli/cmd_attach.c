// SPDX-License-Identifier: MIT
/* xicept attach / detach: the lifetime of an interface's programs and pins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/plugin.h>
#include "cli.h"

static const char attach_usage_fmt[] =
	"Usage: xicept attach IFNAME [--mode native|skb] [--policy pass|drop]\n"
	"                     [--non-rtp pass|drop] [--no-daemon pass|drop]\n"
	"                     [--max-conns N] [--max-flows N] [--max-streams N]\n"
	"                     [--if-needed]\n"
	"\n"
	"Loads the entry program and the stage programs, pins their maps under\n"
	XI_PIN_ROOT "/IFNAME/ and attaches them to IFNAME.\n"
	"\n"
	"  -m, --mode MODE       native (driver) or skb (generic) XDP; default native\n"
	"  -p, --policy POLICY   what happens to packets of no known connection; default pass\n"
	"      --non-rtp POLICY  STUN, DTLS and other non-RTP on a connection; default pass\n"
	"      --no-daemon POLICY  stateful chains while no userspace engine runs; default pass\n"
	"      --max-conns N     connections the interface can hold; default %u\n"
	"      --max-flows N     flows (one per connection); default %u\n"
	"      --max-streams N   (connection, SSRC) entries of each per-stream table;\n"
	"                        default %u\n"
	"      --if-needed       when IFNAME already holds xicept's program, leave it\n"
	"                        as it is and exit 0 (the systemd unit's start)\n"
	"  -v, --verbose         show libbpf's messages\n"
	"\n"
	"Tables are sized at attach and fixed until detach; at most %u entries each.\n";

static const char detach_usage[] =
	"Usage: xicept detach [--on-stop] IFNAME\n"
	"\n"
	"Removes the programs, every connection and every pin of IFNAME, leaving the\n"
	"interface as it was before 'xicept attach'.\n"
	"\n"
	"      --on-stop  the systemd unit's stop: detach only when the environment\n"
	"                 has XICEPT_DETACH_ON_STOP=1 (else the fast path keeps\n"
	"                 running); an interface not attached is no error\n";

/* detach --on-stop: -1 to go on detaching, else the exit status. */
static int detach_on_stop(const char *ifname)
{
	bool detach, attached;

	if (cli_env_flag("XICEPT_DETACH_ON_STOP", &detach))
		return cli_fail("XICEPT_DETACH_ON_STOP='%s' is neither 1 nor 0; %s left as it is",
				getenv("XICEPT_DETACH_ON_STOP"), ifname);
	if (detach)
		return -1;
	/* Quiet when there is nothing to leave running: a start that failed. */
	if (!cli_is_attached(ifname, &attached) && attached)
		printf("%s: left attached, the fast path keeps running "
		       "(XICEPT_DETACH_ON_STOP is not 1)\n", ifname);
	return CLI_EXIT_OK;
}

enum { OPT_NON_RTP = 256, OPT_NO_DAEMON, OPT_MAX_CONNS, OPT_MAX_FLOWS, OPT_MAX_STREAMS,
       OPT_IF_NEEDED };

static bool attach_if_needed;

static char attach_usage[sizeof(attach_usage_fmt) + 64];

/* The usage with the default sizes filled in. */
static const char *attach_usage_text(void)
{
	snprintf(attach_usage, sizeof(attach_usage), attach_usage_fmt, XI_DEFAULT_MAX_CONNS,
		 XI_DEFAULT_MAX_FLOWS, XI_DEFAULT_MAX_STREAMS, XI_TABLE_MAX);
	return attach_usage;
}

static int size_arg(const char *opt, const char *value, uint32_t *ret)
{
	if (cli_parse_table_size(value, ret))
		return cli_usage_error("attach", "invalid --%s '%s' (expected 1 to %u)", opt,
				       value, XI_TABLE_MAX);
	return -1;
}

static int policy_arg(const char *opt, const char *value, enum xi_policy *ret)
{
	if (cli_parse_policy(value, ret))
		return cli_usage_error("attach", "invalid %s '%s' (expected pass or drop)",
				       opt, value);
	return -1;
}

/* One option of attach: -1 to go on, else the exit status. */
static int attach_opt(int c, char **argv, struct xi_attach_opts *opts)
{
	switch (c) {
	case 'm':
		if (cli_parse_mode(optarg, &opts->mode))
			return cli_usage_error("attach", "invalid mode '%s' (expected native or skb)",
					       optarg);
		return -1;
	case 'p':
		return policy_arg("policy", optarg, &opts->unknown_flow);
	case OPT_NON_RTP:
		return policy_arg("non-rtp policy", optarg, &opts->non_rtp);
	case OPT_NO_DAEMON:
		return policy_arg("no-daemon policy", optarg, &opts->no_daemon);
	case OPT_MAX_CONNS:
		return size_arg("max-conns", optarg, &opts->max_conns);
	case OPT_MAX_FLOWS:
		return size_arg("max-flows", optarg, &opts->max_flows);
	case OPT_MAX_STREAMS:
		return size_arg("max-streams", optarg, &opts->max_streams);
	case OPT_IF_NEEDED:
		attach_if_needed = true;
		return -1;
	default:
		return cli_common_opt(c, argv, "attach", attach_usage_text());
	}
}

static int attach_parse(int argc, char **argv, struct xi_attach_opts *opts)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "non-rtp", required_argument, NULL, OPT_NON_RTP },
		{ "no-daemon", required_argument, NULL, OPT_NO_DAEMON },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "max-streams", required_argument, NULL, OPT_MAX_STREAMS },
		{ "if-needed", no_argument, NULL, OPT_IF_NEEDED },
		CLI_COMMON_LONGOPTS, { 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, ":m:p:hv", longopts, NULL)) != -1) {
		rc = attach_opt(c, argv, opts);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error("attach", argc == optind ? "attach needs an interface name"
								  : "attach takes one interface name");
	return -1;
}

static void attach_stage_report(void *user, const char *path, int code, const char *msg)
{
	fprintf(stderr, "xicept: plugin %s: %s; skipped\n", path, msg);
}

int cmd_attach(int argc, char **argv)
{
	struct xi_attach_opts opts = { .sz = sizeof(opts) };
	struct xi_dataplane *dp = NULL;
	struct xi_catalog *cat;
	const char *ifname;
	bool attached;
	int rc;

	rc = attach_parse(argc, argv, &opts);
	if (rc >= 0)
		return rc;
	ifname = argv[optind];
	if (cli_require_root() || cli_require_ifname(ifname))
		return CLI_EXIT_FAIL;
	cat = cli_catalog();
	if (!cat)
		return CLI_EXIT_FAIL;
	rc = xi_dataplane_attach(ifname, &opts, cat, &dp);
	/* Plugin stages: one that the kernel refuses is told and skipped. */
	if (!rc)
		xi_dataplane_load_plugin_stages(dp, attach_stage_report, NULL);
	xi_dataplane_close(dp);
	xi_catalog_free(cat);
	/* -EEXIST is xicept's program on the hook (another's is -EBUSY, but
	 * one attached in between check and attach is -EEXIST too: look). */
	if (rc == -EEXIST && attach_if_needed && !cli_is_attached(ifname, &attached) &&
	    attached) {
		printf("%s: already attached; left as it is\n", ifname);
		return CLI_EXIT_OK;
	}
	switch (rc) {
	case 0:
		printf("%s: attached (%s mode, unknown flows %s)\n", ifname,
		       cli_mode_name(opts.mode), cli_policy_name(opts.unknown_flow));
		return CLI_EXIT_OK;
	case -EEXIST:
		return cli_fail("%s is already attached (run 'xicept detach %s' first)",
				ifname, ifname);
	case -ENODEV:
		return cli_fail("no such interface '%s'", ifname);
	case -EBUSY:
		return cli_fail("%s: another XDP program is attached; xicept does not replace it", ifname);
	case -ENOMEM:
		return cli_fail("cannot attach to %s: not enough memory for its tables (try smaller --max-conns, --max-flows or --max-streams)",
				ifname);
	case -EOPNOTSUPP:
		return cli_fail("cannot attach to %s in %s mode: not supported by the driver (try --mode skb)",
				ifname, cli_mode_name(opts.mode));
	default:
		return cli_fail("cannot attach to %s: %s%s", ifname, strerror(-rc),
				cli_verbose ? "" : " (-v shows libbpf's messages)");
	}
}

int cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "on-stop", no_argument, NULL, 's' }, CLI_COMMON_LONGOPTS, { 0 }
	};
	bool on_stop = false;
	const char *ifname;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		if (c == 's') {
			on_stop = true;
			continue;
		}
		rc = cli_common_opt(c, argv, "detach", detach_usage);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error("detach", argc == optind ? "detach needs an interface name"
								  : "detach takes one interface name");
	ifname = argv[optind];
	if (cli_require_root())
		return CLI_EXIT_FAIL;
	if (on_stop) {
		rc = detach_on_stop(ifname);
		if (rc >= 0)
			return rc;
	}
	/* No interface check: pins may outlive a deleted interface and still
	 * need removing. */
	rc = xi_dataplane_detach(ifname);
	if (rc == -ENOENT && on_stop)
		return CLI_EXIT_OK;
	if (rc == -ENOENT)
		return cli_fail("%s is not attached", ifname);
	if (rc == -EBUSY)
		return cli_fail("%s: the XDP program attached is not xicept's; left in place", ifname);
	if (rc)
		return cli_fail("cannot detach %s: %s", ifname, strerror(-rc));
	printf("%s: detached\n", ifname);
	return CLI_EXIT_OK;
}
