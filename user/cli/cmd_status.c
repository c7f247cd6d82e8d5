// SPDX-License-Identifier: MIT
/* xicept status: what is attached where, read back from the pins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "cli.h"
#include "user/dataplane/plugin_stage.h"
#include "user/engine/loss.h"

static const char status_usage[] =
	"Usage: xicept status [--json]\n"
	"\n"
	"Shows every attached interface: XDP mode, policies, table sizes, the kernel\n"
	"ids of its programs (plugin stages by NAME@VERSION), its connections with\n"
	"their chains and the XDP stages each one runs (a plugin's with the version\n"
	"the connection was made with), and the packets its\n"
	"userspace path ('xicept run') lost, by reason (as 'xicept stats' shows them).\n";

/* The kernel's name of a program id, so operators can match bpftool's output. */
static void prog_name(uint32_t id, char *buf, size_t size)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd;

	snprintf(buf, size, "?");
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(buf, size, "%s", info.name);
	close(fd);
}

/* "1976 (fill_empty 1976)", or "none". */
static void losses_text(const uint64_t *losses, char *buf, size_t size)
{
	unsigned long long total = 0;
	char what[256];

	for (size_t l = 0; l < XI_LOSS__MAX; l++)
		total += losses[l];
	xi_loss_format(losses, what, sizeof(what));
	if (total)
		snprintf(buf, size, "%llu (%s)", total, what);
	else
		snprintf(buf, size, "none");
}

static json_t *iface_json(const struct xi_dataplane_info *in, const uint32_t *ids, size_t n_ids,
			  const uint64_t *losses)
{
	json_t *o = json_object(), *progs = json_array(), *conns = json_array();
	json_t *lj = json_object();
	char name[BPF_OBJ_NAME_LEN];

	json_object_set_new(o, "interface", json_string(in->ifname));
	json_object_set_new(o, "ifindex", json_integer(in->ifindex));
	json_object_set_new(o, "mode", json_string(cli_mode_name(in->mode)));
	json_object_set_new(o, "policy", json_string(cli_policy_name(in->unknown_flow)));
	json_object_set_new(o, "non_rtp", json_string(cli_policy_name(in->non_rtp)));
	json_object_set_new(o, "no_daemon", json_string(cli_policy_name(in->no_daemon)));
	json_object_set_new(o, "max_conns", json_integer(in->max_conns));
	json_object_set_new(o, "max_flows", json_integer(in->max_flows));
	json_object_set_new(o, "max_streams", json_integer(in->max_streams));
	prog_name(in->entry_prog_id, name, sizeof(name));
	json_array_append_new(progs, json_pack("{s:s, s:I, s:s}", "role", "entry", "id",
					       (json_int_t)in->entry_prog_id, "name", name));
	/* Every described slot, and any other that holds a program. */
	for (size_t i = 0; i < 16; i++) {
		if (!in->stage_prog_ids[i] && !in->stage_names[i])
			continue;
		name[0] = '\0';
		if (in->stage_prog_ids[i])
			prog_name(in->stage_prog_ids[i], name, sizeof(name));
		json_array_append_new(progs, json_pack("{s:s, s:I, s:s?, s:I, s:s}", "role", "stage",
						       "stage", (json_int_t)i, "interceptor",
						       in->stage_names[i], "id",
						       (json_int_t)in->stage_prog_ids[i], "name",
						       name));
	}
	json_object_set_new(o, "programs", progs);
	for (size_t i = 0; i < n_ids; i++)
		json_array_append_new(conns, json_integer(ids[i]));
	json_object_set_new(o, "connections", conns);
	for (size_t l = 0; l < XI_LOSS__MAX; l++)
		json_object_set_new(lj, xi_loss_name(l), json_integer((json_int_t)losses[l]));
	json_object_set_new(o, "losses", lj);
	return o;
}

static void iface_print(const struct xi_dataplane_info *in, const uint32_t *ids, size_t n_ids,
			const uint64_t *losses)
{
	char name[BPF_OBJ_NAME_LEN], lost[512];

	printf("%s (ifindex %d): %s mode, unknown flows %s, non-RTP %s, no daemon %s\n",
	       in->ifname, in->ifindex, cli_mode_name(in->mode), cli_policy_name(in->unknown_flow),
	       cli_policy_name(in->non_rtp), cli_policy_name(in->no_daemon));
	printf("  tables  %u connections, %u flows, %u streams\n", in->max_conns, in->max_flows,
	       in->max_streams);
	prog_name(in->entry_prog_id, name, sizeof(name));
	printf("  entry   id %-6u %s\n", in->entry_prog_id, name);
	for (size_t i = 0; i < 16; i++) {
		const char *ic = in->stage_names[i] ? in->stage_names[i] : "?";

		if (!in->stage_prog_ids[i] && !in->stage_names[i])
			continue;
		if (!in->stage_prog_ids[i]) {
			printf("  stage %-2zu %-14s empty\n", i, ic);
			continue;
		}
		prog_name(in->stage_prog_ids[i], name, sizeof(name));
		printf("  stage %-2zu %-14s id %-6u %s\n", i, ic, in->stage_prog_ids[i], name);
	}
	printf("  connections: %zu", n_ids);
	for (size_t i = 0; i < n_ids; i++)
		printf("%s%u", i ? ", " : " (ids ", ids[i]);
	printf("%s\n", n_ids ? ")" : "");
	losses_text(losses, lost, sizeof(lost));
	printf("  lost    %s\n", lost);
}

/* Each connection's chain as stored, every element at the version it was
 * built with ("pt-filter@1.0 ! header-stats@1.0"): which version it runs. */
static void conns_versions(struct xi_dataplane *dp, const uint32_t *ids, size_t n_ids,
			   json_t *iface)
{
	json_t *arr = iface ? json_array() : NULL;
	const char *names[XI_CHAIN_STAGES_MAX];
	struct xi_conn_spec spec;
	size_t n;

	for (size_t i = 0; i < n_ids; i++) {
		json_t *st = json_array();
		char line[512] = "";
		size_t at = 0;

		if (xi_dataplane_conn_get(dp, ids[i], &spec) ||
		    xi_dataplane_conn_stage_names(dp, ids[i], names, XI_CHAIN_STAGES_MAX, &n)) {
			json_decref(st);
			continue;   /* deleted meanwhile */
		}
		for (size_t k = 0; k < n; k++) {
			json_array_append_new(st, json_string(names[k]));
			if (at < sizeof(line))
				at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s",
						       k ? " ! " : "", names[k]);
		}
		if (arr)
			json_array_append_new(arr, json_pack("{s:I, s:s, s:o}", "id",
							     (json_int_t)ids[i], "chain", spec.chain,
							     "stages", st));
		else {
			printf("  conn %-5u %s  (XDP: %s)\n", ids[i], spec.chain, n ? line : "none");
			json_decref(st);
		}
	}
	if (iface)
		json_object_set_new(iface, "chains", arr);
}

/* One interface into arr (JSON) or onto stdout. */
static int iface_status(struct xi_catalog *cat, const char *ifname, json_t *arr)
{
	struct xi_dataplane_info info = { 0 };
	struct xi_dataplane *dp = NULL;
	uint64_t losses[XI_LOSS__MAX];
	uint32_t *ids = NULL;
	size_t n_ids = 0;
	int rc;

	/* Another process may detach between the listing and this open. */
	rc = xi_dataplane_open(ifname, cat, &dp);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return cli_fail("cannot open %s: %s", ifname, strerror(-rc));
	rc = xi_dataplane_info(dp, &info);
	if (!rc)
		rc = xi_dataplane_conn_ids(dp, &ids, &n_ids);
	if (!rc)
		rc = xi_dataplane_losses(dp, losses, XI_LOSS__MAX);
	if (rc)
		rc = cli_fail("cannot read the state of %s: %s", ifname, strerror(-rc));
	else if (arr) {
		json_t *o = iface_json(&info, ids, n_ids, losses);

		conns_versions(dp, ids, n_ids, o);
		json_array_append_new(arr, o);
	} else {
		iface_print(&info, ids, n_ids, losses);
		conns_versions(dp, ids, n_ids, NULL);
	}
	free(ids);
	xi_dataplane_close(dp);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	json_t *doc = NULL, *arr = NULL;
	struct xi_catalog *cat;
	char **names = NULL;
	bool json = false;
	size_t n = 0;
	int rc;

	rc = cli_json_opts(argc, argv, "status", status_usage, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("status", "status takes no arguments");
	if (cli_require_root())
		return CLI_EXIT_FAIL;
	rc = xi_dataplane_list(&names, &n);
	if (rc == -ENOENT)
		rc = 0;   /* nothing was ever attached: no pin root yet */
	if (rc)
		return cli_fail("cannot list attached interfaces: %s", strerror(-rc));
	cat = cli_catalog();
	if (!cat) {
		xi_strv_free(names, n);
		return CLI_EXIT_FAIL;
	}
	if (json) {
		doc = json_object();
		arr = json_array();
		json_object_set(doc, "interfaces", arr);
	} else if (!n) {
		printf("no interface attached\n");
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = iface_status(cat, names[i], arr);
	if (json && !rc) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	json_decref(arr);
	json_decref(doc);
	xi_catalog_free(cat);
	xi_strv_free(names, n);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
