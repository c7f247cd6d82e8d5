// SPDX-License-Identifier: MIT
/* xicept conn add / del / list: connections and their chains on an interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <xicept/srtp.h>

#include "cli.h"

static const char conn_usage[] =
	"Usage: xicept conn add IFNAME --local IP:PORT [--remote IP:PORT] --chain CHAIN\n"
	"                       [--stream SSRC:PT:CLOCKRATE ...]\n"
	"                       [--local-stream SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT] ...]\n"
	"                       [--srtp KEYFILE|-]\n"
	"       xicept conn del IFNAME ID\n"
	"       xicept conn list IFNAME [--json]\n"
	"       xicept conn set-chain IFNAME ID CHAIN\n";

static const char add_usage[] =
	"Usage: xicept conn add IFNAME --local IP:PORT [--remote IP:PORT] --chain CHAIN\n"
	"                       [--stream SSRC:PT:CLOCKRATE ...]\n"
	"                       [--local-stream SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT] ...]\n"
	"                       [--srtp KEYFILE|-]\n"
	"\n"
	"Adds a connection and prints its id. Packets to --local (from --remote, or\n"
	"from any peer without it) run through CHAIN, e.g.\n"
	"  --chain 'ssrc-filter mode=allow ssrc=0x1234 ! header-stats'\n"
	"\n"
	"  -l, --local IP:PORT     the local endpoint: 10.0.0.2:5004 or [fd00::2]:5004\n"
	"  -r, --remote IP:PORT    the peer; default any\n"
	"  -c, --chain CHAIN       interceptors joined by ' ! ' ('xicept registry list')\n"
	"  -s, --stream SPEC       SSRC:PT:CLOCKRATE, e.g. 0x1234:96:90000; repeat or\n"
	"                          separate with commas for several\n"
	"  -L, --local-stream SPEC a stream sent from --local (pion's BindLocalStream),\n"
	"                          with its RFC 4588 retransmissions: 0x5678:96:90000:rtx=0x5679/97;\n"
	"                          repeat or separate with commas for several\n"
	"      --srtp KEYFILE      the media is SRTP: the SDES keys of both directions, from\n"
	"                          a file only root can read (mode 600) or - for standard input:\n"
	"                            in PROFILE inline:BASE64    what the remote sends\n"
	"                            out PROFILE inline:BASE64   what --local sends\n"
	"                          PROFILE: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,\n"
	"                          AEAD_AES_128_GCM, AEAD_AES_256_GCM. Keys never go on the\n"
	"                          command line; xicept keeps them readable by root alone.\n";

static const char del_usage[] =
	"Usage: xicept conn del IFNAME ID\n"
	"\n"
	"Removes connection ID and exactly its entries from IFNAME's maps.\n";

static const char list_usage[] =
	"Usage: xicept conn list IFNAME [--json]\n"
	"\n"
	"Lists the connections of IFNAME: id, endpoints, path, chain and streams. The path\n"
	"says how packets travel: xdp (the kernel alone), tap (a copy to `xicept run` for\n"
	"interceptors that only observe; media never waits) or afxdp (the packet itself\n"
	"through `xicept run`, for interceptors that may change or drop it).\n";

/* Adds every comma-separated stream of text to spec. */
static int add_streams(struct xi_conn_spec *spec, const char *text)
{
	char buf[512], *save = NULL, *tok;
	struct xi_err err = { 0 };

	if (strlen(text) >= sizeof(buf))
		return cli_fail("invalid stream list: too long");
	strcpy(buf, text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (spec->n_streams == XI_CONN_MAX_STREAMS)
			return cli_fail("too many streams (at most %d)", XI_CONN_MAX_STREAMS);
		if (xi_stream_spec_parse(tok, &spec->streams[spec->n_streams], &err))
			return cli_fail("--stream: %s", err.msg);
		spec->n_streams++;
	}
	return 0;
}

/* Adds every comma-separated local stream of text to spec. */
static int add_local_streams(struct xi_conn_spec *spec, const char *text)
{
	char buf[512], *save = NULL, *tok;
	struct xi_err err = { 0 };

	if (strlen(text) >= sizeof(buf))
		return cli_fail("invalid local stream list: too long");
	strcpy(buf, text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (spec->n_local_streams == XI_CONN_MAX_STREAMS)
			return cli_fail("too many local streams (at most %d)", XI_CONN_MAX_STREAMS);
		if (xi_local_stream_spec_parse(tok, &spec->local_streams[spec->n_local_streams],
					       &err))
			return cli_fail("--local-stream: %s", err.msg);
		spec->n_local_streams++;
	}
	return 0;
}

static int add_parse(int argc, char **argv, struct xi_conn_spec *spec, const char **ret_local,
		     const char **ret_remote, const char **ret_chain, const char **ret_srtp)
{
	static const struct option longopts[] = {
		{ "srtp", required_argument, NULL, 'K' },
		{ "local", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "chain", required_argument, NULL, 'c' },
		{ "stream", required_argument, NULL, 's' },
		{ "local-stream", required_argument, NULL, 'L' },
		CLI_COMMON_LONGOPTS, { 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, ":l:r:c:s:L:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			*ret_local = optarg;
			break;
		case 'r':
			*ret_remote = optarg;
			break;
		case 'c':
			*ret_chain = optarg;
			break;
		case 's':
			if (add_streams(spec, optarg))
				return CLI_EXIT_FAIL;
			break;
		case 'L':
			if (add_local_streams(spec, optarg))
				return CLI_EXIT_FAIL;
			break;
		case 'K':
			*ret_srtp = optarg;
			break;
		default:
			rc = cli_common_opt(c, argv, "conn add", add_usage);
			if (rc >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("conn add", argc == optind ? "conn add needs an interface name"
								  : "conn add takes one interface name");
	if (!*ret_local)
		return cli_usage_error("conn add", "--local IP:PORT is required");
	if (!*ret_chain)
		return cli_usage_error("conn add", "--chain is required");
	return -1;
}

/* Checks everything that needs no kernel state, so bad input changes nothing. */
static int add_validate(struct xi_catalog *cat, struct xi_conn_spec *spec, const char *local,
			const char *remote, const char *chain)
{
	struct xi_err err = { 0 };

	if (xi_endpoint_parse(local, &spec->local, &err))
		return cli_fail("--local: %s", err.msg);
	if (remote && strcmp(remote, "*") && xi_endpoint_parse(remote, &spec->remote, &err))
		return cli_fail("--remote: %s", err.msg);
	if (strlen(chain) >= sizeof(spec->chain))
		return cli_fail("--chain: longer than %d bytes", XI_CHAIN_TEXT_MAX - 1);
	strcpy(spec->chain, chain);
	return cli_check_chain(cat, chain, NULL);
}

static int conn_add(int argc, char **argv)
{
	const char *local = NULL, *remote = NULL, *chain = NULL, *srtp = NULL, *ifname;
	struct xi_conn_spec spec = { 0 };
	struct xi_dataplane *dp = NULL;
	struct xi_catalog *cat = NULL;
	struct xi_err err = { 0 };
	uint32_t id;
	int rc;

	rc = add_parse(argc, argv, &spec, &local, &remote, &chain, &srtp);
	if (rc >= 0)
		return rc;
	ifname = argv[optind];
	if (srtp) {
		if (xi_srtp_keys_read_file(srtp, &spec.srtp, &err))
			return cli_fail("--srtp %s", err.msg);
		spec.has_srtp = true;
	}
	cat = cli_catalog();
	if (!cat) {
		xi_srtp_keys_wipe(&spec.srtp);
		return CLI_EXIT_FAIL;
	}
	rc = add_validate(cat, &spec, local, remote, chain);
	if (!rc)
		rc = cli_require_root() || cli_require_ifname(ifname) || cli_open(ifname, cat, &dp);
	if (!rc) {
		rc = xi_dataplane_conn_add(dp, &spec, &id, &err);
		if (rc)
			rc = cli_fail("cannot add the connection to %s: %s", ifname,
				      err.msg[0] ? err.msg : strerror(-rc));
		else
			printf("%u\n", id);
	}
	xi_srtp_keys_wipe(&spec.srtp);
	xi_dataplane_close(dp);
	xi_catalog_free(cat);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int conn_del(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { 0 } };
	struct xi_dataplane *dp = NULL;
	struct xi_catalog *cat;
	struct xi_err err = { 0 };
	const char *ifname;
	uint32_t id;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		rc = cli_common_opt(c, argv, "conn del", del_usage);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 2)
		return cli_usage_error("conn del", "conn del needs an interface name and a connection id");
	ifname = argv[optind];
	if (cli_parse_conn_id(argv[optind + 1], &id))
		return cli_fail("invalid connection id '%s'", argv[optind + 1]);
	if (cli_require_root())
		return CLI_EXIT_FAIL;
	cat = cli_catalog();
	if (!cat)
		return CLI_EXIT_FAIL;
	rc = cli_open(ifname, cat, &dp);
	if (!rc) {
		rc = xi_dataplane_conn_del(dp, id, &err);
		if (rc == -ENOENT)
			rc = cli_fail("%s has no connection %u", ifname, id);
		else if (rc)
			rc = cli_fail("cannot delete connection %u of %s: %s", id, ifname,
				      err.msg[0] ? err.msg : strerror(-rc));
	}
	xi_dataplane_close(dp);
	xi_catalog_free(cat);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static void stream_text(const struct xi_stream_spec *s, char *buf, size_t size)
{
	snprintf(buf, size, "0x%08x:%u:%u", s->ssrc, s->payload_type, s->clock_rate);
}

static json_t *conn_json(uint32_t id, const struct xi_conn_spec *spec, const char *path)
{
	char local[64], remote[64], stream[48];
	json_t *o = json_object(), *streams = json_array();

	xi_endpoint_format(&spec->local, local, sizeof(local));
	xi_endpoint_format(&spec->remote, remote, sizeof(remote));
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "local", json_string(local));
	json_object_set_new(o, "remote", json_string(remote));
	json_object_set_new(o, "chain", json_string(spec->chain));
	json_object_set_new(o, "path", json_string(path));
	for (size_t i = 0; i < spec->n_streams; i++) {
		stream_text(&spec->streams[i], stream, sizeof(stream));
		json_array_append_new(streams, json_string(stream));
	}
	json_object_set_new(o, "streams", streams);
	streams = json_array();
	for (size_t i = 0; i < spec->n_local_streams; i++) {
		xi_local_stream_spec_format(&spec->local_streams[i], stream, sizeof(stream));
		json_array_append_new(streams, json_string(stream));
	}
	json_object_set_new(o, "local_streams", streams);
	if (spec->srtp_in) {   /* the profiles; the keys are never shown */
		json_t *k = json_object();

		json_object_set_new(k, "in", json_string(xi_srtp_profile_name(spec->srtp_in)));
		json_object_set_new(k, "out", json_string(xi_srtp_profile_name(spec->srtp_out)));
		json_object_set_new(o, "srtp", k);
	}
	return o;
}

static void conn_print(uint32_t id, const struct xi_conn_spec *spec, const char *path)
{
	char local[64], remote[64], stream[48];

	xi_endpoint_format(&spec->local, local, sizeof(local));
	xi_endpoint_format(&spec->remote, remote, sizeof(remote));
	printf("%-5u %-24s %-24s %-6s %s\n", id, local, remote, path, spec->chain);
	for (size_t i = 0; i < spec->n_streams; i++) {
		stream_text(&spec->streams[i], stream, sizeof(stream));
		printf("%-5s stream %s\n", "", stream);
	}
	for (size_t i = 0; i < spec->n_local_streams; i++) {
		xi_local_stream_spec_format(&spec->local_streams[i], stream, sizeof(stream));
		printf("%-5s local stream %s\n", "", stream);
	}
	if (spec->srtp_in)
		printf("%-5s srtp in %s, out %s\n", "", xi_srtp_profile_name(spec->srtp_in),
		       xi_srtp_profile_name(spec->srtp_out));
}

static int list_print(const char *ifname, struct xi_dataplane *dp, bool json)
{
	json_t *doc = NULL, *conns = NULL;
	struct xi_conn_spec spec;
	uint32_t *ids = NULL;
	size_t n = 0;
	int rc;

	rc = xi_dataplane_conn_ids(dp, &ids, &n);
	if (rc)
		return cli_fail("cannot list the connections of %s: %s", ifname, strerror(-rc));
	if (json) {
		doc = json_object();
		conns = json_array();
		json_object_set_new(doc, "interface", json_string(ifname));
		json_object_set(doc, "connections", conns);
	} else if (n) {
		printf("%-5s %-24s %-24s %-6s %s\n", "ID", "LOCAL", "REMOTE", "PATH", "CHAIN");
	} else {
		printf("%s: no connections\n", ifname);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		enum xi_conn_path path = XI_PATH_XDP;

		rc = xi_dataplane_conn_get(dp, ids[i], &spec);
		if (!rc)
			rc = xi_dataplane_conn_path(dp, ids[i], &path);
		if (rc)
			rc = cli_fail("cannot read connection %u of %s: %s", ids[i], ifname,
				      strerror(-rc));
		else if (json)
		{
			json_t *o = conn_json(ids[i], &spec, xi_conn_path_name(path));

			cli_conn_json_versions(dp, ids[i], o);
			json_array_append_new(conns, o);
		}
		else
			conn_print(ids[i], &spec, xi_conn_path_name(path));
	}
	if (json && !rc) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	json_decref(conns);
	json_decref(doc);
	free(ids);
	return rc;
}

static int conn_list(int argc, char **argv)
{
	struct xi_dataplane *dp = NULL;
	struct xi_catalog *cat;
	bool json = false;
	int rc;

	rc = cli_json_opts(argc, argv, "conn list", list_usage, &json);
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("conn list", "conn list needs one interface name");
	if (cli_require_root())
		return CLI_EXIT_FAIL;
	cat = cli_catalog();
	if (!cat)
		return CLI_EXIT_FAIL;
	rc = cli_open(argv[optind], cat, &dp);
	if (!rc)
		rc = list_print(argv[optind], dp, json);
	xi_dataplane_close(dp);
	xi_catalog_free(cat);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_conn(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { 0 } };
	int c, rc;

	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		rc = cli_common_opt(c, argv, "conn", conn_usage);
		if (rc >= 0)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_error("conn", "conn needs a subcommand: add, del, list or set-chain");
	argc -= optind;
	argv += optind;
	optind = 0;
	if (!strcmp(argv[0], "add"))
		return conn_add(argc, argv);
	if (!strcmp(argv[0], "del"))
		return conn_del(argc, argv);
	if (!strcmp(argv[0], "list"))
		return conn_list(argc, argv);
	if (!strcmp(argv[0], "set-chain"))
		return cli_conn_set_chain(argc, argv);
	return cli_usage_error("conn", "unknown conn subcommand '%s'", argv[0]);
}
