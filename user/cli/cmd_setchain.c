// SPDX-License-Identifier: MIT
/* xicept conn set-chain: a connection's chain changed while its packets flow,
 * and the chain versions `conn list --json` shows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "user/dataplane/swap.h"

static const char set_chain_usage[] =
	"Usage: xicept conn set-chain IFNAME ID CHAIN\n"
	"\n"
	"Replaces connection ID's chain by CHAIN while its packets flow: no packet is\n"
	"lost, and each one runs the whole old chain or the whole new one (a pure-XDP\n"
	"chain and one with a userspace part included). State that a stage of both\n"
	"chains keeps per stream (header-stats' counters and jitter, ssrc-filter's\n"
	"drop counts) goes on; a stage only the old chain has loses its state;\n"
	"userspace interceptors start afresh. An XDP stage in both chains keeps its\n"
	"configuration: changing it takes two switches. Prints the new chain\n"
	"version; 'conn list --json' counts packets per version.\n";

int cli_conn_set_chain(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { 0 } };
	struct xi_dataplane *dp = NULL;
	struct xi_catalog *cat;
	struct xi_err err = { 0 };
	const char *ifname, *chain;
	uint32_t id, version = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		rc = cli_common_opt(c, argv, "conn set-chain", set_chain_usage);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 3)
		return cli_usage_error("conn set-chain",
				       "conn set-chain needs an interface name, a connection id and a chain");
	ifname = argv[optind];
	chain = argv[optind + 2];
	if (cli_parse_conn_id(argv[optind + 1], &id))
		return cli_fail("invalid connection id '%s'", argv[optind + 1]);
	if (cli_require_root())
		return CLI_EXIT_FAIL;
	cat = cli_catalog();
	if (!cat)
		return CLI_EXIT_FAIL;
	rc = cli_check_chain(cat, chain, "chain");
	if (!rc)
		rc = cli_open(ifname, cat, &dp);
	if (!rc) {
		rc = xi_dataplane_conn_set_chain(dp, id, chain, &version, &err);
		if (rc == -ENOENT)
			rc = cli_fail("%s has no connection %u", ifname, id);
		else if (rc)
			rc = cli_fail("cannot change the chain of connection %u of %s: %s", id, ifname,
				      err.msg[0] ? err.msg : strerror(-rc));
		else
			printf("%u\n", version);
	}
	xi_dataplane_close(dp);
	xi_catalog_free(cat);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

void cli_conn_json_versions(struct xi_dataplane *dp, uint32_t id, json_t *o)
{
	struct xi_chain_run *runs = NULL;
	json_t *arr = json_array();
	uint32_t version;
	size_t n = 0;

	if (xi_dataplane_conn_version(dp, id, &version) == 0)
		json_object_set_new(o, "version", json_integer(version));
	if (xi_dataplane_chain_runs(dp, id, &runs, &n) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:I, s:I, s:I}", "version",
							     (json_int_t)runs[i].version, "stages_mask",
							     (json_int_t)runs[i].stages_mask, "packets",
							     (json_int_t)runs[i].packets));
	free(runs);
	json_object_set_new(o, "runs", arr);
}
