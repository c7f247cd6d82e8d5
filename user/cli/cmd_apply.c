// SPDX-License-Identifier: MIT
/*
 * xicept apply FILE: make the attached interfaces and their connections match
 * a declarative JSON file.
 *
 * Everything in the file is checked before anything is touched (apply_doc.c);
 * this half reconciles the kernel with the result. Changes are made one at a
 * time and logged; if one fails, the log is undone in reverse so the run
 * leaves the system as it found it. Connections are matched by their whole
 * canonical spec, so a second run of the same file finds nothing to do.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "cli.h"
#include "user/dataplane/swap.h"
#include "keyset.h"

static const char apply_usage[] =
	"Usage: xicept apply [--dry-run] [--if-exists] FILE\n"
	"\n"
	"Makes the system match FILE, e.g.\n"
	"  {\"interfaces\": [{\"name\": \"veth0\", \"mode\": \"native\", \"policy\": \"pass\",\n"
	"    \"connections\": [{\"local\": \"10.0.0.2:5004\", \"remote\": \"10.0.0.1:6000\",\n"
	"      \"chain\": \"header-stats\", \"streams\": [\"0x1234:96:90000\"]}]}]}\n"
	"\n"
	"Interfaces of FILE are attached when they are not (and re-attached when\n"
	"their mode, policies or sizes differ), missing connections are added and\n"
	"connections not in FILE are deleted. Interface keys: name, mode, policy,\n"
	"non_rtp, no_daemon, max_conns, max_flows, max_streams (table sizes, as\n"
	"attach's options; left out: as attached, or the defaults), connections.\n"
	"Connection keys: local, remote, chain, streams, local_streams\n"
	"(\"SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]\", as conn add --local-stream), srtp\n"
	"({\"in\": \"PROFILE inline:BASE64\", \"out\": ...}, as conn add --srtp's lines; FILE\n"
	"must then be readable by root alone).\n"
	"Nothing changes unless\n"
	"all of FILE is valid; a failure midway undoes what this run changed.\n"
	"Attached interfaces that FILE does not name are left alone. A connection\n"
	"whose endpoints and streams match but whose chain differs is switched to\n"
	"the new chain live (as 'conn set-chain'), not deleted and added.\n"
	"\n"
	"  -n, --dry-run  print the plan (attach, add, delete, set-chain), change nothing\n"
	"      --if-exists  a FILE that does not exist is nothing to do: exit 0 quietly\n"
	"                 (the systemd unit's optional /etc/xicept/IFNAME.json)\n";

enum act_kind { ACT_ATTACH, ACT_DETACH, ACT_CONN_ADD, ACT_CONN_DEL, ACT_SET_CHAIN };

/* One change this run made, with what it takes to undo it. */
struct action {
	enum act_kind kind;
	char ifname[IF_NAMESIZE];
	uint32_t id;                    /* ACT_CONN_ADD, ACT_CONN_DEL */
	struct xi_conn_spec spec;       /* ACT_CONN_ADD, ACT_CONN_DEL */
	struct xi_attach_opts opts;     /* ACT_ATTACH: new; ACT_DETACH: old */
	size_t n_old;                   /* ACT_DETACH: the connections it removed */
	struct xi_conn_spec *old;
	char old_chain[XI_CHAIN_TEXT_MAX];   /* ACT_SET_CHAIN: spec has the new one */
	uint32_t version;               /* ACT_SET_CHAIN: the new chain version */
};

struct applier {
	struct xi_catalog *cat;
	bool dry;                       /* --dry-run: log the plan, change nothing */
	size_t n_acts, cap_acts;
	struct action *acts;
	char err[XI_ERR_MSG_MAX + 64];
};

/* ---- the change log ---- */

static struct action *log_push(struct applier *ap, enum act_kind kind, const char *ifname)
{
	struct action *a;

	if (ap->n_acts == ap->cap_acts) {
		size_t cap = ap->cap_acts ? 2 * ap->cap_acts : 16;
		struct action *acts = realloc(ap->acts, cap * sizeof(*acts));

		if (!acts)
			return NULL;
		ap->acts = acts;
		ap->cap_acts = cap;
	}
	a = &ap->acts[ap->n_acts++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	return a;
}

static void log_free(struct applier *ap)
{
	for (size_t i = 0; i < ap->n_acts; i++)
		free(ap->acts[i].old);
	free(ap->acts);
}

static int fail_at(struct applier *ap, const char *ifname, const char *what, int rc,
		   const struct xi_err *err)
{
	snprintf(ap->err, sizeof(ap->err), "%s: %s: %s", ifname, what,
		 err && err->msg[0] ? err->msg : strerror(-rc));
	return rc;
}

/* Every connection of dp, for re-adding them if a detach must be undone. */
static int read_conns(struct xi_dataplane *dp, uint32_t **ret_ids, struct xi_conn_spec **ret_specs,
		      size_t *ret_n)
{
	struct xi_conn_spec *specs;
	uint32_t *ids = NULL;
	size_t n = 0;
	int rc;

	rc = xi_dataplane_conn_ids(dp, &ids, &n);
	if (rc)
		return rc;
	specs = calloc(n + 1, sizeof(*specs));
	if (!specs) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = xi_dataplane_conn_get(dp, ids[i], &specs[i]);
		/* SRTP: the kept keys, to compare with the file's (and to add the
		 * connection again should the apply be undone). */
		if (!rc && specs[i].srtp_in &&
		    !xi_dataplane_conn_srtp_keys(dp, ids[i], &specs[i].srtp))
			specs[i].has_srtp = true;
	}
	if (rc) {
		free(ids);
		free(specs);
		return rc;
	}
	*ret_ids = ids;
	*ret_specs = specs;
	*ret_n = n;
	return 0;
}

static int do_attach(struct applier *ap, const char *ifname, const struct xi_attach_opts *opts,
		     struct xi_dataplane **ret)
{
	struct action *a;
	int rc;

	a = log_push(ap, ACT_ATTACH, ifname);
	if (!a)
		return fail_at(ap, ifname, "attach", -ENOMEM, NULL);
	a->opts = *opts;
	if (ap->dry) {
		*ret = NULL;
		return 0;
	}
	rc = xi_dataplane_attach(ifname, opts, ap->cat, ret);
	if (rc) {
		ap->n_acts--;
		return fail_at(ap, ifname, "attach", rc, NULL);
	}
	a->opts = *opts;
	return 0;
}

/* Detaches dp's interface, keeping what it takes to restore it. Closes dp. */
static int do_detach(struct applier *ap, struct xi_dataplane *dp)
{
	char ifname[IF_NAMESIZE];
	struct xi_dataplane_info info = { 0 };
	struct xi_conn_spec *specs = NULL;
	uint32_t *ids = NULL;
	struct action *a;
	size_t n = 0;
	int rc;

	snprintf(ifname, sizeof(ifname), "%s", xi_dataplane_ifname(dp));
	rc = xi_dataplane_info(dp, &info);
	if (!rc)
		rc = read_conns(dp, &ids, &specs, &n);
	xi_dataplane_close(dp);
	free(ids);
	if (rc)
		return fail_at(ap, ifname, "read state", rc, NULL);
	a = log_push(ap, ACT_DETACH, ifname);
	if (!a) {
		free(specs);
		return fail_at(ap, ifname, "detach", -ENOMEM, NULL);
	}
	a->opts = (struct xi_attach_opts){ .sz = sizeof(a->opts), .mode = info.mode,
					   .unknown_flow = info.unknown_flow,
					   .non_rtp = info.non_rtp, .no_daemon = info.no_daemon,
					   .max_conns = info.max_conns,
					   .max_flows = info.max_flows,
					   .max_streams = info.max_streams };
	a->old = specs;
	a->n_old = n;
	if (ap->dry)
		return 0;
	rc = xi_dataplane_detach(ifname);
	if (rc) {
		free(specs);
		ap->n_acts--;
		return fail_at(ap, ifname, "detach", rc, NULL);
	}
	return 0;
}

/* Deletes ids (whose specs are specs) in one run, logging each deletion. */
static int do_conn_dels(struct applier *ap, struct xi_dataplane *dp, const uint32_t *ids,
			const struct xi_conn_spec *const *specs, size_t n)
{
	struct xi_err err = { 0 };
	struct action *a;
	size_t done = 0;
	int rc;

	if (!n)
		return 0;
	rc = ap->dry ? 0 : xi_dataplane_conn_del_many(dp, ids, n, &done, &err);
	if (ap->dry)
		done = n;
	for (size_t i = 0; i < done; i++) {
		a = log_push(ap, ACT_CONN_DEL, xi_dataplane_ifname(dp));
		if (!a)
			return fail_at(ap, xi_dataplane_ifname(dp), "delete", -ENOMEM, NULL);
		a->id = ids[i];
		a->spec = *specs[i];
	}
	if (rc)
		return fail_at(ap, xi_dataplane_ifname(dp), "delete a connection", rc, &err);
	return 0;
}

static int do_conn_add(struct applier *ap, struct xi_dataplane *dp, const char *ifname,
		       const struct xi_conn_spec *spec)
{
	struct xi_err err = { 0 };
	struct action *a;
	int rc;

	a = log_push(ap, ACT_CONN_ADD, ifname);
	if (!a)
		return fail_at(ap, ifname, "add", -ENOMEM, NULL);
	a->spec = *spec;
	if (ap->dry)
		return 0;
	rc = xi_dataplane_conn_add(dp, spec, &a->id, &err);
	if (rc) {
		ap->n_acts--;
		return fail_at(ap, xi_dataplane_ifname(dp), "add a connection", rc, &err);
	}
	return 0;
}

/* The same endpoints and streams (remote and local), another chain:
 * switched live. */
static int do_set_chain(struct applier *ap, struct xi_dataplane *dp, const char *ifname,
			uint32_t id, const struct xi_conn_spec *have, const struct xi_conn_spec *want)
{
	struct xi_err err = { 0 };
	struct action *a;
	int rc;

	a = log_push(ap, ACT_SET_CHAIN, ifname);
	if (!a)
		return fail_at(ap, ifname, "set a chain", -ENOMEM, NULL);
	a->id = id;
	a->spec = *want;
	snprintf(a->old_chain, sizeof(a->old_chain), "%s", have->chain);
	if (ap->dry)
		return 0;
	rc = xi_dataplane_conn_set_chain(dp, id, want->chain, &a->version, &err);
	if (rc == -EBUSY) {
		/* An XDP stage of both chains changes its configuration: not
		 * live; the caller replaces the connection instead. */
		ap->n_acts--;
		return 1;
	}
	if (rc) {
		ap->n_acts--;
		return fail_at(ap, ifname, "change a chain", rc, &err);
	}
	return 0;
}

static bool same_flow(const struct xi_conn_spec *a, const struct xi_conn_spec *b)
{
	return !memcmp(&a->local, &b->local, sizeof(a->local)) &&
	       !memcmp(&a->remote, &b->remote, sizeof(a->remote)) && a->n_streams == b->n_streams &&
	       !memcmp(a->streams, b->streams, a->n_streams * sizeof(a->streams[0])) &&
	       a->n_local_streams == b->n_local_streams &&
	       !memcmp(a->local_streams, b->local_streams,
		       a->n_local_streams * sizeof(a->local_streams[0])) &&
	       a->has_srtp == b->has_srtp &&
	       (!a->has_srtp || !memcmp(&a->srtp, &b->srtp, sizeof(a->srtp)));
}

/* ---- reconciling ---- */

/* A size FILE leaves out (0) matches any. */
static bool size_equal(uint32_t have, uint32_t want)
{
	return !want || have == want;
}

static bool opts_equal(const struct xi_dataplane_info *in, const struct xi_attach_opts *o)
{
	return in->mode == o->mode && in->unknown_flow == o->unknown_flow &&
	       in->non_rtp == o->non_rtp && in->no_daemon == o->no_daemon &&
	       size_equal(in->max_conns, o->max_conns) &&
	       size_equal(in->max_flows, o->max_flows) &&
	       size_equal(in->max_streams, o->max_streams);
}

/* The options of a re-attach: FILE's, with the sizes it leaves out kept
 * as they are, so that changing a policy does not shrink the tables. */
static struct xi_attach_opts opts_reattach(const struct xi_dataplane_info *in,
					   const struct xi_attach_opts *o)
{
	struct xi_attach_opts r = *o;

	r.max_conns = o->max_conns ? o->max_conns : in->max_conns;
	r.max_flows = o->max_flows ? o->max_flows : in->max_flows;
	r.max_streams = o->max_streams ? o->max_streams : in->max_streams;
	return r;
}

/* The wanted connections by key, so that matching is linear. */
static int want_index(const struct want_iface *wi, struct keyset *ret)
{
	int rc = keyset_init(ret, wi->n_conns);

	for (size_t k = 0; k < wi->n_conns && !rc; k++)
		rc = keyset_add(ret, wi->conns[k].key, strlen(wi->conns[k].key), k, NULL);
	return rc;
}

/* Deletes the connections the file does not want, then adds the missing ones. */
static int sync_conns(struct applier *ap, struct xi_dataplane *dp, const struct want_iface *wi)
{
	bool *wanted_met = calloc(wi->n_conns + 1, sizeof(bool));
	struct xi_conn_spec *specs = NULL;
	const struct xi_conn_spec **del_specs = NULL;
	char key[APPLY_CONN_KEY_MAX];
	struct keyset want = { 0 };
	uint32_t *ids = NULL, *del_ids = NULL;
	size_t n = 0, n_del = 0, k;
	int rc;

	rc = !wanted_met ? -ENOMEM : want_index(wi, &want);
	if (rc)
		fail_at(ap, wi->name, "compare", rc, NULL);
	if (!rc && dp && (rc = read_conns(dp, &ids, &specs, &n)))
		fail_at(ap, wi->name, "read connections", rc, NULL);
	if (!rc) {
		del_ids = calloc(n + 1, sizeof(*del_ids));
		del_specs = calloc(n + 1, sizeof(*del_specs));
		if (!del_ids || !del_specs)
			rc = fail_at(ap, wi->name, "compare", -ENOMEM, NULL);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		/* unreadable: never matches, so it is replaced */
		if (!apply_conn_key(&specs[i], key, sizeof(key)) &&
		    keyset_find(&want, key, strlen(key), &k) && !wanted_met[k]) {
			wanted_met[k] = true;
			continue;
		}
		/* The same flow with another chain: switched, not replaced. */
		for (k = 0; k < wi->n_conns && !rc; k++)
			if (!wanted_met[k] && same_flow(&specs[i], &wi->conns[k].spec))
				break;
		if (!rc && k < wi->n_conns) {
			rc = do_set_chain(ap, dp, wi->name, ids[i], &specs[i], &wi->conns[k].spec);
			if (rc <= 0) {
				wanted_met[k] = !rc;
				continue;
			}
			rc = 0;   /* replaced: deleted here, added below */
		}
		del_ids[n_del] = ids[i];
		del_specs[n_del++] = &specs[i];
	}
	if (!rc)
		rc = do_conn_dels(ap, dp, del_ids, del_specs, n_del);
	for (k = 0; k < wi->n_conns && !rc; k++)
		if (!wanted_met[k])
			rc = do_conn_add(ap, dp, wi->name, &wi->conns[k].spec);
	keyset_free(&want);
	free(wanted_met);
	free(del_specs);
	free(del_ids);
	free(specs);
	free(ids);
	return rc;
}

static int sync_iface(struct applier *ap, const struct want_iface *wi)
{
	struct xi_dataplane_info info = { 0 };
	struct xi_dataplane *dp = NULL;
	int rc;

	rc = xi_dataplane_open(wi->name, ap->cat, &dp);
	if (rc == -ENOENT) {
		/* dry: dp stays NULL, every wanted connection is an add */
		rc = do_attach(ap, wi->name, &wi->opts, &dp);
	} else if (rc) {
		return fail_at(ap, wi->name, "open", rc, NULL);
	} else {
		rc = xi_dataplane_info(dp, &info);
		if (rc) {
			xi_dataplane_close(dp);
			return fail_at(ap, wi->name, "read state", rc, NULL);
		}
		if (!opts_equal(&info, &wi->opts)) {
			/* Mode, policies and sizes are fixed at attach time. */
			struct xi_attach_opts o = opts_reattach(&info, &wi->opts);

			rc = do_detach(ap, dp);
			dp = NULL;
			if (!rc)
				rc = do_attach(ap, wi->name, &o, &dp);
			/* dry: the detach would have removed every connection */
		}
	}
	if (!rc)
		rc = sync_conns(ap, dp, wi);
	xi_dataplane_close(dp);
	return rc;
}

/* ---- undo and report ---- */

static void undo_one(struct applier *ap, const struct action *a)
{
	struct xi_dataplane *dp = NULL;
	uint32_t id;

	switch (a->kind) {
	case ACT_ATTACH:
		xi_dataplane_detach(a->ifname);
		return;
	case ACT_DETACH:
		if (xi_dataplane_attach(a->ifname, &a->opts, ap->cat, &dp))
			return;
		for (size_t i = 0; i < a->n_old; i++)
			xi_dataplane_conn_add(dp, &a->old[i], &id, NULL);
		break;
	case ACT_CONN_ADD:
		if (!xi_dataplane_open(a->ifname, ap->cat, &dp))
			xi_dataplane_conn_del(dp, a->id, NULL);
		break;
	case ACT_CONN_DEL:
		if (!xi_dataplane_open(a->ifname, ap->cat, &dp))
			xi_dataplane_conn_add(dp, &a->spec, &id, NULL);
		break;
	case ACT_SET_CHAIN:
		if (!xi_dataplane_open(a->ifname, ap->cat, &dp))
			xi_dataplane_conn_set_chain(dp, a->id, a->old_chain, NULL, NULL);
		break;
	}
	xi_dataplane_close(dp);
}

/* --dry-run: what a run would do, one line a step, in order. */
static void plan_report(const struct applier *ap)
{
	char local[64], remote[64];

	for (size_t i = 0; i < ap->n_acts; i++) {
		const struct action *a = &ap->acts[i];

		xi_endpoint_format(&a->spec.local, local, sizeof(local));
		xi_endpoint_format(&a->spec.remote, remote, sizeof(remote));
		switch (a->kind) {
		case ACT_ATTACH:
			printf("attach %s (%s mode, unknown flows %s)\n", a->ifname,
			       cli_mode_name(a->opts.mode), cli_policy_name(a->opts.unknown_flow));
			break;
		case ACT_DETACH:
			printf("detach %s (%zu connection%s)\n", a->ifname, a->n_old,
			       a->n_old == 1 ? "" : "s");
			break;
		case ACT_CONN_ADD:
			printf("add %s %s <- %s: %s\n", a->ifname, local, remote, a->spec.chain);
			break;
		case ACT_CONN_DEL:
			printf("delete %s %u: %s <- %s: %s\n", a->ifname, a->id, local, remote,
			       a->spec.chain);
			break;
		case ACT_SET_CHAIN:
			printf("set-chain %s %u: '%s' -> '%s'\n", a->ifname, a->id, a->old_chain,
			       a->spec.chain);
			break;
		}
	}
	printf("plan: %zu change%s, nothing changed\n", ap->n_acts, ap->n_acts == 1 ? "" : "s");
}

static void report(const struct applier *ap)
{
	char local[64], remote[64];

	if (!ap->n_acts) {
		printf(ap->dry ? "plan: no changes\n" : "no changes\n");
		return;
	}
	if (ap->dry) {
		plan_report(ap);
		return;
	}
	for (size_t i = 0; i < ap->n_acts; i++) {
		const struct action *a = &ap->acts[i];

		xi_endpoint_format(&a->spec.local, local, sizeof(local));
		xi_endpoint_format(&a->spec.remote, remote, sizeof(remote));
		switch (a->kind) {
		case ACT_ATTACH:
			printf("%s: attached (%s mode, unknown flows %s)\n", a->ifname,
			       cli_mode_name(a->opts.mode), cli_policy_name(a->opts.unknown_flow));
			break;
		case ACT_DETACH:
			printf("%s: detached\n", a->ifname);
			break;
		case ACT_CONN_ADD:
			printf("%s: added connection %u: %s <- %s: %s\n", a->ifname, a->id, local,
			       remote, a->spec.chain);
			break;
		case ACT_CONN_DEL:
			printf("%s: deleted connection %u: %s <- %s: %s\n", a->ifname, a->id, local,
			       remote, a->spec.chain);
			break;
		case ACT_SET_CHAIN:
			printf("%s: connection %u: chain '%s' (version %u), was '%s'\n", a->ifname,
			       a->id, a->spec.chain, a->version, a->old_chain);
			break;
		}
	}
	printf("%zu change%s\n", ap->n_acts, ap->n_acts == 1 ? "" : "s");
}

/* Deletes ids from ifname, newest first, in as few runs as failures allow:
 * one conn_del_many sweeps the per-stream maps once for all of them. */
static void undo_dels(struct applier *ap, const char *ifname, const uint32_t *ids, size_t n)
{
	struct xi_dataplane *dp = NULL;
	size_t done;

	if (xi_dataplane_open(ifname, ap->cat, &dp))
		return;
	for (size_t at = 0; at < n; at += done + 1)
		if (!xi_dataplane_conn_del_many(dp, ids + at, n - at, &done, NULL))
			break;
	xi_dataplane_close(dp);
}

/* Undoes the run of adds on one interface that ends at acts[end - 1];
 * returns where the run starts. */
static size_t undo_adds(struct applier *ap, size_t end)
{
	const char *ifname = ap->acts[end - 1].ifname;
	size_t start = end, n = 0;
	uint32_t *ids;

	while (start > 0 && ap->acts[start - 1].kind == ACT_CONN_ADD &&
	       !strcmp(ap->acts[start - 1].ifname, ifname))
		start--;
	ids = calloc(end - start, sizeof(*ids));
	if (!ids) {
		undo_one(ap, &ap->acts[end - 1]);
		return end - 1;
	}
	for (size_t i = end; i-- > start;)
		ids[n++] = ap->acts[i].id;
	undo_dels(ap, ifname, ids, n);
	free(ids);
	return start;
}

static void undo(struct applier *ap)
{
	for (size_t i = ap->n_acts; i > 0;) {
		if (ap->acts[i - 1].kind == ACT_CONN_ADD)
			i = undo_adds(ap, i);
		else
			undo_one(ap, &ap->acts[--i]);
	}
}

static int apply(struct applier *ap, const struct want *w)
{
	int rc = 0;

	for (size_t i = 0; i < w->n && !rc; i++)
		rc = sync_iface(ap, &w->ifaces[i]);
	if (!rc) {
		report(ap);
		return CLI_EXIT_OK;
	}
	undo(ap);
	return cli_fail("apply failed: %s (undid %zu change%s)", ap->err, ap->n_acts,
			ap->n_acts == 1 ? "" : "s");
}

int cmd_apply(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' }, { "if-exists", no_argument, NULL, 'e' },
		CLI_COMMON_LONGOPTS, { 0 }
	};
	struct applier ap = { 0 };
	struct want w = { 0 };
	bool if_exists = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":nhv", longopts, NULL)) != -1) {
		if (c == 'n') {
			ap.dry = true;
			continue;
		}
		if (c == 'e') {
			if_exists = true;
			continue;
		}
		rc = cli_common_opt(c, argv, "apply", apply_usage);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error("apply", "apply needs one FILE");
	if (if_exists && access(argv[optind], F_OK) && errno == ENOENT)
		return CLI_EXIT_OK;
	ap.cat = cli_catalog();
	if (!ap.cat)
		return CLI_EXIT_FAIL;
	rc = apply_load(ap.cat, argv[optind], &w);
	if (!rc)
		rc = cli_require_root();
	if (!rc)
		rc = apply(&ap, &w);
	log_free(&ap);
	apply_want_free(&w);
	xi_catalog_free(ap.cat);
	return rc;
}
