// SPDX-License-Identifier: MIT
/* xicept stats: per-SSRC counters of header-stats and ssrc-filter, the
 * interface's reason counters and its AF_XDP losses, as tables or as one
 * stable JSON document. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <xicept/abi.h>

#include "cli.h"

/* One line per entry of abi.h's reason lists. */
#define REASON_HELP(sym, value, name, help) "  " name ": " help "\n"

static const char stats_usage[] =
	"Usage: xicept stats IFNAME [--conn ID] [--json] [--watch SECONDS]\n"
	"\n"
	"Shows, per connection and SSRC, the counters of header-stats and\n"
	"ssrc-filter, then IFNAME's counters by reason, then the packets the\n"
	"userspace path ('xicept run') was handed and lost, by reason.\n"
	"\n"
	"  -c, --conn ID          only this connection\n"
	"  -j, --json             one JSON document: connections[] of {id, local,\n"
	"                         remote, chain, ssrcs[]}, each SSRC an object with\n"
	"                         ssrc, packets, bytes, payload_bytes, lost,\n"
	"                         ext_highest_seq, jitter, dropped; reasons{},\n"
	"                         losses{}, egress_reasons{} and rtcp_ignored{}, each\n"
	"                         by the reasons below\n"
	"  -w, --watch SECONDS    redraw every SECONDS until interrupted (with --json:\n"
	"                         one document per line)\n"
	"\n"
	"Reasons (reasons, egress_reasons), what XDP did with each packet:\n"
	XI_REASONS(REASON_HELP)
	"Losses, of packets handed to the userspace path:\n"
	XI_LOSSES(REASON_HELP)
	"RTCP ignored by the userspace interceptors:\n"
	XI_RTCP_BADS(REASON_HELP);
#undef REASON_HELP

struct stats_opts {
	const char *ifname;
	uint32_t conn;          /* XI_CONN_ANY: all */
	bool json;
	double watch;           /* 0: once */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct snapshot {
	uint32_t *ids;
	size_t n_ids;
	struct xi_conn_spec *specs;
	struct xi_ssrc_stats *stats;
	size_t n_stats;
	uint64_t *reasons;
	size_t n_reasons;
	uint64_t *losses;
	size_t n_losses;
	uint64_t *egress;          /* reasons of packets leaving */
	uint64_t *rtcp_ignored;
	/* The stages' stats schemas: what the table and JSON show. */
	const struct xi_stat_def *defs[XI_STAT_DEFS_MAX];
	bool local[XI_STAT_DEFS_MAX];
	size_t n_defs;
	/* The table's columns: the remote-stream fields with a column, by rank. */
	const struct xi_stat_def *columns[XI_STAT_DEFS_MAX];
	size_t n_columns;
};

/* An SSRC is a local stream (out) when it was seen leaving or the
 * connection declares it; otherwise it is a remote one (in). */
static bool ssrc_out(const struct xi_ssrc_stats *s, const struct xi_conn_spec *spec)
{
	if (s->local)
		return true;
	for (size_t i = 0; spec && i < spec->n_local_streams; i++)
		if (spec->local_streams[i].ssrc == s->ssrc ||
		    (spec->local_streams[i].has_rtx && spec->local_streams[i].rtx_ssrc == s->ssrc))
			return true;
	return false;
}

/* What the remote's receiver reports say about a local stream. */
static void remote_json(json_t *o, const struct xi_ssrc_stats *s)
{
	int64_t rtt = xi_ssrc_stats_get(s, "rtt_us");

	json_object_set_new(o, "rtt_ms", rtt >= 0 && xi_ssrc_stats_get(s, "remote_reports")
				? json_real((double)rtt / 1000.0) : json_null());
	json_object_set_new(o, "remote_fraction_lost",
			    json_real((double)xi_ssrc_stats_get(s, "remote_fraction_lost") / 256.0));
	json_object_set_new(o, "remote_lost", json_integer(xi_ssrc_stats_get(s, "remote_lost")));
	json_object_set_new(o, "remote_jitter", json_integer(xi_ssrc_stats_get(s, "remote_jitter")));
}

/* Every field every stage named, under its own name: the table's columns
 * first, as an operator reads them. */
static json_t *ssrc_json(const struct xi_ssrc_stats *s, const struct xi_conn_spec *spec,
			 const struct snapshot *snap)
{
	json_t *o = json_object();

	json_object_set_new(o, "ssrc", json_integer(s->ssrc));
	for (size_t i = 0; i < snap->n_columns; i++)
		json_object_set_new(o, snap->columns[i]->name,
				    json_integer(xi_ssrc_stats_get(s, snap->columns[i]->name)));
	json_object_set_new(o, "direction", json_string(ssrc_out(s, spec) ? "out" : "in"));
	remote_json(o, s);
	for (size_t i = 0; i < s->n_fields; i++)
		if (!json_object_get(o, s->fields[i].name))
			json_object_set_new(o, s->fields[i].name, json_integer(s->fields[i].value));
	return o;
}


static void snapshot_free(struct snapshot *s)
{
	free(s->ids);
	free(s->specs);
	free(s->stats);
	free(s->reasons);
	free(s->losses);
	free(s->egress);
	free(s->rtcp_ignored);
	memset(s, 0, sizeof(*s));
}

static unsigned column_rank(const struct xi_stat_def *d)
{
	return d->rank ? d->rank : 100;
}

/* The fields with a column, by rank, stage order among equals (a stable
 * insertion). */
static void columns_pick(struct snapshot *s)
{
	s->n_columns = 0;
	for (size_t i = 0; i < s->n_defs; i++) {
		size_t at;

		if (!s->defs[i]->column || s->local[i])
			continue;
		for (at = s->n_columns; at > 0 && column_rank(s->columns[at - 1]) >
						  column_rank(s->defs[i]); at--)
			s->columns[at] = s->columns[at - 1];
		s->columns[at] = s->defs[i];
		s->n_columns++;
	}
}

static int snapshot_take(struct xi_dataplane *dp, const struct stats_opts *o, struct snapshot *s)
{
	int rc;

	if (o->conn != XI_CONN_ANY) {
		s->ids = malloc(sizeof(*s->ids));
		if (!s->ids)
			return -ENOMEM;
		s->ids[0] = o->conn;
		s->n_ids = 1;
	} else {
		rc = xi_dataplane_conn_ids(dp, &s->ids, &s->n_ids);
		if (rc)
			return rc;
	}
	s->specs = calloc(s->n_ids ? s->n_ids : 1, sizeof(*s->specs));
	s->n_reasons = xi_reason_count();
	s->reasons = calloc(s->n_reasons ? s->n_reasons : 1, sizeof(*s->reasons));
	s->n_losses = xi_loss_count();
	s->losses = calloc(s->n_losses ? s->n_losses : 1, sizeof(*s->losses));
	s->egress = calloc(s->n_reasons ? s->n_reasons : 1, sizeof(*s->egress));
	s->rtcp_ignored = calloc(xi_rtcp_ignored_count() + 1, sizeof(*s->rtcp_ignored));
	if (!s->specs || !s->reasons || !s->losses || !s->egress || !s->rtcp_ignored)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_ids; i++) {
		rc = xi_dataplane_conn_get(dp, s->ids[i], &s->specs[i]);
		if (rc)
			return rc;
	}
	s->n_defs = xi_dataplane_stat_defs(dp, s->defs, s->local, XI_STAT_DEFS_MAX);
	columns_pick(s);
	rc = xi_dataplane_ssrc_stats(dp, o->conn, &s->stats, &s->n_stats);
	if (!rc)
		rc = xi_dataplane_reasons(dp, s->reasons, s->n_reasons);
	if (!rc)
		rc = xi_dataplane_losses(dp, s->losses, s->n_losses);
	if (!rc)
		rc = xi_dataplane_egress_reasons(dp, s->egress, s->n_reasons);
	if (!rc)
		rc = xi_dataplane_rtcp_ignored(dp, s->rtcp_ignored, xi_rtcp_ignored_count());
	return rc;
}

static json_t *snapshot_json(const struct stats_opts *o, const struct snapshot *s)
{
	json_t *doc = json_object(), *conns = json_array(), *reasons = json_object();
	json_t *losses = json_object();
	char local[64], remote[64];

	json_object_set_new(doc, "interface", json_string(o->ifname));
	for (size_t i = 0; i < s->n_ids; i++) {
		json_t *c = json_object(), *ssrcs = json_array();

		xi_endpoint_format(&s->specs[i].local, local, sizeof(local));
		xi_endpoint_format(&s->specs[i].remote, remote, sizeof(remote));
		json_object_set_new(c, "id", json_integer(s->ids[i]));
		json_object_set_new(c, "local", json_string(local));
		json_object_set_new(c, "remote", json_string(remote));
		json_object_set_new(c, "chain", json_string(s->specs[i].chain));
		for (size_t k = 0; k < s->n_stats; k++)
			if (s->stats[k].conn_id == s->ids[i])
				json_array_append_new(ssrcs, ssrc_json(&s->stats[k], &s->specs[i], s));
		json_object_set_new(c, "ssrcs", ssrcs);
		json_array_append_new(conns, c);
	}
	json_object_set_new(doc, "connections", conns);
	for (size_t r = 0; r < s->n_reasons; r++)
		json_object_set_new(reasons, xi_reason_name(r),
				    json_integer((json_int_t)s->reasons[r]));
	json_object_set_new(doc, "reasons", reasons);
	for (size_t l = 0; l < s->n_losses; l++)
		json_object_set_new(losses, xi_loss_name(l), json_integer((json_int_t)s->losses[l]));
	json_object_set_new(doc, "losses", losses);
	losses = json_object();
	for (size_t r = 0; r < s->n_reasons; r++)
		json_object_set_new(losses, xi_reason_name(r), json_integer((json_int_t)s->egress[r]));
	json_object_set_new(doc, "egress_reasons", losses);
	losses = json_object();
	for (size_t r = 0; r < xi_rtcp_ignored_count(); r++)
		json_object_set_new(losses, xi_rtcp_ignored_name(r),
				    json_integer((json_int_t)s->rtcp_ignored[r]));
	json_object_set_new(doc, "rtcp_ignored", losses);
	return doc;
}

/* A column's width: its header's, at least 10. */
static int column_width(const struct xi_stat_def *d)
{
	int n = (int)strlen(d->column);

	return n < 10 ? 10 : n;
}

static void snapshot_print(const struct stats_opts *o, const struct snapshot *s)
{
	char local[64], remote[64];

	for (size_t i = 0; i < s->n_ids; i++) {
		xi_endpoint_format(&s->specs[i].local, local, sizeof(local));
		xi_endpoint_format(&s->specs[i].remote, remote, sizeof(remote));
		printf("%s connection %u: %s <- %s: %s\n", o->ifname, s->ids[i], local, remote,
		       s->specs[i].chain);
		printf("  %-10s", "SSRC");
		for (size_t d = 0; d < s->n_columns; d++)
			printf(" %*s", column_width(s->columns[d]), s->columns[d]->column);
		printf("\n");
		for (size_t k = 0; k < s->n_stats; k++) {
			const struct xi_ssrc_stats *st = &s->stats[k];
			const char *sep = ": ";

			if (st->conn_id != s->ids[i])
				continue;
			printf("  0x%08x", st->ssrc);
			for (size_t d = 0; d < s->n_columns; d++)
				printf(" %*lld", column_width(s->columns[d]),
				       (long long)xi_ssrc_stats_get(st, s->columns[d]->name));
			printf("\n");
			if (!ssrc_out(st, &s->specs[i]))
				continue;
			/* A local stream: the fields of the local schemas. */
			printf("    out");
			for (size_t d = 0; d < s->n_defs; d++)
				if (s->local[d] && s->defs[d]->type != XI_STAT_LABEL) {
					printf("%s%s %lld", sep, s->defs[d]->name,
					       (long long)xi_ssrc_stats_get(st, s->defs[d]->name));
					sep = ", ";
				}
			printf("\n");
		}
		printf("\n");
	}
	if (!s->n_ids)
		printf("%s: no connections\n\n", o->ifname);
	printf("%s reasons:\n", o->ifname);
	for (size_t r = 0; r < s->n_reasons; r++)
		printf("  %-20s %llu\n", xi_reason_name(r), (unsigned long long)s->reasons[r]);
	printf("%s losses:\n", o->ifname);
	for (size_t l = 0; l < s->n_losses; l++)
		printf("  %-20s %llu\n", xi_loss_name(l), (unsigned long long)s->losses[l]);
	printf("%s egress reasons:\n", o->ifname);
	for (size_t r = 0; r < s->n_reasons; r++)
		printf("  %-20s %llu\n", xi_reason_name(r), (unsigned long long)s->egress[r]);
	printf("%s RTCP ignored:\n", o->ifname);
	for (size_t r = 0; r < xi_rtcp_ignored_count(); r++)
		printf("  %-20s %llu\n", xi_rtcp_ignored_name(r),
		       (unsigned long long)s->rtcp_ignored[r]);
}

/* Without a terminal to redraw, each snapshot gets a header line instead. */
static void watch_stamp(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	strftime(buf, sizeof(buf), "%H:%M:%S", localtime_r(&t, &tm));
	printf("--- %s\n", buf);
}

static int stats_once(struct xi_dataplane *dp, const struct stats_opts *o)
{
	struct snapshot s = { 0 };
	int rc;

	rc = snapshot_take(dp, o, &s);
	if (rc == -ENOENT && o->conn != XI_CONN_ANY)
		rc = cli_fail("%s has no connection %u", o->ifname, o->conn);
	else if (rc)
		rc = cli_fail("cannot read the counters of %s: %s", o->ifname, strerror(-rc));
	else if (o->json) {
		json_t *doc = snapshot_json(o, &s);

		/* Watching prints one compact document per line, so it stays parsable. */
		json_dumpf(doc, stdout, JSON_PRESERVE_ORDER | (o->watch > 0 ? JSON_COMPACT
									    : JSON_INDENT(2)));
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		if (o->watch > 0 && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		else if (o->watch > 0)
			watch_stamp();
		snapshot_print(o, &s);
	}
	fflush(stdout);
	snapshot_free(&s);
	return rc;
}

static void sleep_interruptibly(double seconds)
{
	struct timespec ts = { .tv_sec = (time_t)seconds,
			       .tv_nsec = (long)((seconds - floor(seconds)) * 1e9) };

	/* No SA_RESTART: a signal ends the sleep early and stop is then set. */
	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int stats_watch(struct xi_dataplane *dp, const struct stats_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop && !rc) {
		rc = stats_once(dp, o);
		if (!rc && o->watch > 0)
			sleep_interruptibly(o->watch);
		if (o->watch <= 0)
			break;
	}
	return rc;
}

static int stats_parse(int argc, char **argv, struct stats_opts *o)
{
	static const struct option longopts[] = {
		{ "conn", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		CLI_COMMON_LONGOPTS, { 0 }
	};
	char *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":c:jw:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (cli_parse_conn_id(optarg, &o->conn))
				return cli_fail("invalid connection id '%s'", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'w':
			errno = 0;
			o->watch = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->watch >= 0.01 && o->watch <= 86400))
				return cli_usage_error("stats", "invalid --watch '%s' (seconds, 0.01 to 86400)",
						       optarg);
			break;
		default:
			rc = cli_common_opt(c, argv, "stats", stats_usage);
			if (rc >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("stats", "stats needs one interface name");
	o->ifname = argv[optind];
	return -1;
}

int cmd_stats(int argc, char **argv)
{
	struct stats_opts o = { .conn = XI_CONN_ANY };
	struct xi_dataplane *dp = NULL;
	struct xi_catalog *cat;
	int rc;

	rc = stats_parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (cli_require_root())
		return CLI_EXIT_FAIL;
	cat = cli_catalog();
	if (!cat)
		return CLI_EXIT_FAIL;
	rc = cli_open(o.ifname, cat, &dp);
	if (!rc)
		rc = stats_watch(dp, &o);
	xi_dataplane_close(dp);
	xi_catalog_free(cat);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
