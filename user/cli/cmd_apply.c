// SPDX-License-Identifier: MIT
/*
 * xicept apply FILE: make the attached interfaces and their connections match
 * a declarative JSON file.
 *
 * Everything in the file is checked before anything is touched. Changes are
 * then made one at a time and logged; if one fails, the log is undone in
 * reverse so the run leaves the system as it found it. Connections are
 * matched by their whole canonical spec, so a second run of the same file
 * finds nothing to do.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char apply_usage[] =
	"Usage: xicept apply FILE\n"
	"\n"
	"Makes the system match FILE, e.g.\n"
	"  {\"interfaces\": [{\"name\": \"veth0\", \"mode\": \"native\", \"policy\": \"pass\",\n"
	"    \"connections\": [{\"local\": \"10.0.0.2:5004\", \"remote\": \"10.0.0.1:6000\",\n"
	"      \"chain\": \"header-stats\", \"streams\": [\"0x1234:96:90000\"]}]}]}\n"
	"\n"
	"Interfaces of FILE are attached when they are not (and re-attached when\n"
	"their mode or policies differ), missing connections are added and\n"
	"connections not in FILE are deleted. Interface keys: name, mode, policy,\n"
	"non_rtp, no_daemon, connections. Connection keys: local, remote, chain,\n"
	"streams. Nothing changes unless all of FILE is valid; a failure midway\n"
	"undoes what this run changed. Attached interfaces that FILE does not\n"
	"name are left alone.\n";

/* Room for "local remote chain streams..." of one connection. */
#define CONN_KEY_MAX (2 * 64 + XI_CHAIN_TEXT_MAX + XI_CONN_MAX_STREAMS * 32 + 8)

struct want_conn {
	struct xi_conn_spec spec;
	char key[CONN_KEY_MAX];
};

struct want_iface {
	char name[IF_NAMESIZE];
	struct xi_attach_opts opts;
	size_t n_conns;
	struct want_conn *conns;
};

struct want {
	size_t n;
	struct want_iface *ifaces;
};

enum act_kind { ACT_ATTACH, ACT_DETACH, ACT_CONN_ADD, ACT_CONN_DEL };

/* One change this run made, with what it takes to undo it. */
struct action {
	enum act_kind kind;
	char ifname[IF_NAMESIZE];
	uint32_t id;                    /* ACT_CONN_ADD, ACT_CONN_DEL */
	struct xi_conn_spec spec;       /* ACT_CONN_ADD, ACT_CONN_DEL */
	struct xi_attach_opts opts;     /* ACT_ATTACH: new; ACT_DETACH: old */
	size_t n_old;                   /* ACT_DETACH: the connections it removed */
	struct xi_conn_spec *old;
};

struct applier {
	struct xi_catalog *cat;
	size_t n_acts, cap_acts;
	struct action *acts;
	char err[XI_ERR_MSG_MAX + 64];
};

static void want_free(struct want *w)
{
	for (size_t i = 0; w->ifaces && i < w->n; i++)
		free(w->ifaces[i].conns);
	free(w->ifaces);
}

/* ---- canonical connection keys ---- */

static int stream_cmp(const void *a, const void *b)
{
	const struct xi_stream_spec *x = a, *y = b;

	if (x->ssrc != y->ssrc)
		return x->ssrc < y->ssrc ? -1 : 1;
	if (x->payload_type != y->payload_type)
		return x->payload_type < y->payload_type ? -1 : 1;
	return x->clock_rate < y->clock_rate ? -1 : x->clock_rate > y->clock_rate;
}

/* Equal specs give equal keys, whatever the stream order or chain spelling. */
static int conn_key(const struct xi_conn_spec *spec, char *buf, size_t size)
{
	struct xi_stream_spec streams[XI_CONN_MAX_STREAMS];
	char local[64], remote[64], chain[XI_CHAIN_TEXT_MAX * 2];
	size_t n = spec->n_streams < XI_CONN_MAX_STREAMS ? spec->n_streams : XI_CONN_MAX_STREAMS;
	size_t at;
	int rc;

	rc = cli_chain_canonical(spec->chain, chain, sizeof(chain));
	if (rc)
		return rc;
	xi_endpoint_format(&spec->local, local, sizeof(local));
	xi_endpoint_format(&spec->remote, remote, sizeof(remote));
	memcpy(streams, spec->streams, n * sizeof(streams[0]));
	qsort(streams, n, sizeof(streams[0]), stream_cmp);
	at = (size_t)snprintf(buf, size, "%s %s %s", local, remote, chain);
	for (size_t i = 0; i < n && at < size; i++)
		at += (size_t)snprintf(buf + at, size - at, " %u:%u:%u", streams[i].ssrc,
				       streams[i].payload_type, streams[i].clock_rate);
	return at < size ? 0 : -ENOSPC;
}

/* ---- validation ---- */

static bool ep_equal(const struct xi_endpoint *a, const struct xi_endpoint *b)
{
	char x[64], y[64];

	xi_endpoint_format(a, x, sizeof(x));
	xi_endpoint_format(b, y, sizeof(y));
	return !strcmp(x, y);
}

static int bad(const char *path, const char *fmt, const char *what)
{
	fprintf(stderr, "xicept: %s: ", path);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

static int check_keys(json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return bad(path, "%s", "expected an object");
	json_object_foreach(obj, key, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		if (!allowed[i])
			return bad(path, "unknown key '%s'", key);
	}
	return 0;
}

/* A string member, NULL when absent; an error when present but not a string. */
static int get_string(json_t *obj, const char *key, const char *path, bool required,
		      const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return bad(path, "'%s' is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return bad(path, "'%s' must be a string", key);
	*ret = json_string_value(v);
	return 0;
}

static int parse_policy_key(json_t *obj, const char *key, const char *path, enum xi_policy *ret)
{
	const char *s;

	if (get_string(obj, key, path, false, &s))
		return CLI_EXIT_FAIL;
	if (s && cli_parse_policy(s, ret))
		return bad(path, "invalid %s (expected pass or drop)", key);
	return 0;
}

static int parse_streams(json_t *arr, const char *path, struct xi_conn_spec *spec)
{
	struct xi_err err = { 0 };
	size_t i;
	json_t *v;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(path, "%s", "'streams' must be an array of \"SSRC:PT:CLOCKRATE\"");
	if (json_array_size(arr) > XI_CONN_MAX_STREAMS)
		return bad(path, "%s", "too many streams");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return bad(path, "%s", "'streams' must be an array of \"SSRC:PT:CLOCKRATE\"");
		if (xi_stream_spec_parse(json_string_value(v), &spec->streams[i], &err))
			return bad(path, "streams: %s", err.msg);
	}
	spec->n_streams = json_array_size(arr);
	return 0;
}

static int parse_conn(struct xi_catalog *cat, json_t *obj, const char *path, struct want_conn *c)
{
	static const char *const keys[] = { "local", "remote", "chain", "streams", NULL };
	const char *local, *remote, *chain;
	struct xi_err err = { 0 };

	if (check_keys(obj, path, keys) || get_string(obj, "local", path, true, &local) ||
	    get_string(obj, "remote", path, false, &remote) ||
	    get_string(obj, "chain", path, true, &chain))
		return CLI_EXIT_FAIL;
	if (xi_endpoint_parse(local, &c->spec.local, &err))
		return bad(path, "local: %s", err.msg);
	if (remote && strcmp(remote, "*") && xi_endpoint_parse(remote, &c->spec.remote, &err))
		return bad(path, "remote: %s", err.msg);
	if (strlen(chain) >= sizeof(c->spec.chain))
		return bad(path, "%s", "chain: too long");
	strcpy(c->spec.chain, chain);
	if (cli_check_chain(cat, chain, path) ||
	    parse_streams(json_object_get(obj, "streams"), path, &c->spec))
		return CLI_EXIT_FAIL;
	if (conn_key(&c->spec, c->key, sizeof(c->key)))
		return bad(path, "%s", "connection too long to compare");
	return 0;
}

static int parse_iface_conns(struct xi_catalog *cat, json_t *arr, const char *path,
			     struct want_iface *wi)
{
	char sub[128];
	size_t i;
	json_t *v;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(path, "%s", "'connections' must be an array");
	wi->conns = calloc(json_array_size(arr) + 1, sizeof(*wi->conns));
	if (!wi->conns)
		return bad(path, "%s", strerror(ENOMEM));
	json_array_foreach(arr, i, v) {
		snprintf(sub, sizeof(sub), "%s.connections[%zu]", path, i);
		if (parse_conn(cat, v, sub, &wi->conns[i]))
			return CLI_EXIT_FAIL;
		for (size_t k = 0; k < i; k++) {
			/* Two flows on one (local, remote) could never both match. */
			if (ep_equal(&wi->conns[k].spec.local, &wi->conns[i].spec.local) &&
			    ep_equal(&wi->conns[k].spec.remote, &wi->conns[i].spec.remote)) {
				fprintf(stderr, "xicept: %s: the same local and remote as "
					"connections[%zu]\n", sub, k);
				return CLI_EXIT_FAIL;
			}
		}
		wi->n_conns++;
	}
	return 0;
}

static int parse_iface(struct xi_catalog *cat, json_t *obj, const char *path,
		       struct want_iface *wi)
{
	static const char *const keys[] = { "name", "mode", "policy", "non_rtp", "no_daemon",
					    "connections", NULL };
	const char *name, *mode;

	wi->opts.sz = sizeof(wi->opts);
	if (check_keys(obj, path, keys) || get_string(obj, "name", path, true, &name) ||
	    get_string(obj, "mode", path, false, &mode))
		return CLI_EXIT_FAIL;
	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/'))
		return bad(path, "invalid interface name '%s'", name);
	if (!if_nametoindex(name))
		return bad(path, "no such interface '%s'", name);
	strcpy(wi->name, name);
	if (mode && cli_parse_mode(mode, &wi->opts.mode))
		return bad(path, "invalid mode '%s' (expected native or skb)", mode);
	if (parse_policy_key(obj, "policy", path, &wi->opts.unknown_flow) ||
	    parse_policy_key(obj, "non_rtp", path, &wi->opts.non_rtp) ||
	    parse_policy_key(obj, "no_daemon", path, &wi->opts.no_daemon))
		return CLI_EXIT_FAIL;
	return parse_iface_conns(cat, json_object_get(obj, "connections"), path, wi);
}

static int parse_doc(struct xi_catalog *cat, json_t *doc, struct want *w)
{
	static const char *const keys[] = { "interfaces", NULL };
	json_t *arr, *v;
	char path[64];
	size_t i;

	if (check_keys(doc, "(top level)", keys))
		return CLI_EXIT_FAIL;
	arr = json_object_get(doc, "interfaces");
	if (!json_is_array(arr))
		return bad("(top level)", "%s", "'interfaces' must be an array");
	w->ifaces = calloc(json_array_size(arr) + 1, sizeof(*w->ifaces));
	if (!w->ifaces)
		return bad("(top level)", "%s", strerror(ENOMEM));
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "interfaces[%zu]", i);
		w->n = i + 1;
		if (parse_iface(cat, v, path, &w->ifaces[i]))
			return CLI_EXIT_FAIL;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(w->ifaces[k].name, w->ifaces[i].name))
				return bad(path, "interface '%s' is named twice", w->ifaces[i].name);
	}
	return 0;
}

static int load(struct xi_catalog *cat, const char *file, struct want *w)
{
	json_error_t jerr;
	json_t *doc;
	int rc;

	doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		if (jerr.line < 0)
			return cli_fail("%s: %s", file, jerr.text);
		return cli_fail("%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
	}
	rc = parse_doc(cat, doc, w);
	json_decref(doc);
	return rc;
}

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
	for (size_t i = 0; i < n && !rc; i++)
		rc = xi_dataplane_conn_get(dp, ids[i], &specs[i]);
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
					   .non_rtp = info.non_rtp, .no_daemon = info.no_daemon };
	a->old = specs;
	a->n_old = n;
	rc = xi_dataplane_detach(ifname);
	if (rc) {
		free(specs);
		ap->n_acts--;
		return fail_at(ap, ifname, "detach", rc, NULL);
	}
	return 0;
}

static int do_conn_del(struct applier *ap, struct xi_dataplane *dp, uint32_t id,
		       const struct xi_conn_spec *spec)
{
	struct xi_err err = { 0 };
	struct action *a;
	int rc;

	a = log_push(ap, ACT_CONN_DEL, xi_dataplane_ifname(dp));
	if (!a)
		return fail_at(ap, xi_dataplane_ifname(dp), "delete", -ENOMEM, NULL);
	rc = xi_dataplane_conn_del(dp, id, &err);
	if (rc) {
		ap->n_acts--;
		return fail_at(ap, xi_dataplane_ifname(dp), "delete a connection", rc, &err);
	}
	a->id = id;
	a->spec = *spec;
	return 0;
}

static int do_conn_add(struct applier *ap, struct xi_dataplane *dp, const struct xi_conn_spec *spec)
{
	struct xi_err err = { 0 };
	struct action *a;
	int rc;

	a = log_push(ap, ACT_CONN_ADD, xi_dataplane_ifname(dp));
	if (!a)
		return fail_at(ap, xi_dataplane_ifname(dp), "add", -ENOMEM, NULL);
	rc = xi_dataplane_conn_add(dp, spec, &a->id, &err);
	if (rc) {
		ap->n_acts--;
		return fail_at(ap, xi_dataplane_ifname(dp), "add a connection", rc, &err);
	}
	a->spec = *spec;
	return 0;
}

/* ---- reconciling ---- */

static bool opts_equal(const struct xi_dataplane_info *in, const struct xi_attach_opts *o)
{
	return in->mode == o->mode && in->unknown_flow == o->unknown_flow &&
	       in->non_rtp == o->non_rtp && in->no_daemon == o->no_daemon;
}

/* Deletes the connections the file does not want, then adds the missing ones. */
static int sync_conns(struct applier *ap, struct xi_dataplane *dp, const struct want_iface *wi)
{
	bool *wanted_met = calloc(wi->n_conns + 1, sizeof(bool));
	struct xi_conn_spec *specs = NULL;
	char key[CONN_KEY_MAX];
	uint32_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (!wanted_met)
		return fail_at(ap, wi->name, "compare", -ENOMEM, NULL);
	rc = read_conns(dp, &ids, &specs, &n);
	if (rc)
		fail_at(ap, wi->name, "read connections", rc, NULL);
	for (size_t i = 0; i < n && !rc; i++) {
		size_t k;

		if (conn_key(&specs[i], key, sizeof(key)))
			key[0] = '\0';   /* unreadable: never matches, so it is replaced */
		for (k = 0; k < wi->n_conns; k++)
			if (!wanted_met[k] && !strcmp(key, wi->conns[k].key))
				break;
		if (k < wi->n_conns)
			wanted_met[k] = true;
		else
			rc = do_conn_del(ap, dp, ids[i], &specs[i]);
	}
	for (size_t k = 0; k < wi->n_conns && !rc; k++)
		if (!wanted_met[k])
			rc = do_conn_add(ap, dp, &wi->conns[k].spec);
	free(wanted_met);
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
			/* Mode and policies are fixed at attach time. */
			rc = do_detach(ap, dp);
			dp = NULL;
			if (!rc)
				rc = do_attach(ap, wi->name, &wi->opts, &dp);
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
	}
	xi_dataplane_close(dp);
}

static void report(const struct applier *ap)
{
	char local[64], remote[64];

	if (!ap->n_acts) {
		printf("no changes\n");
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
		}
	}
	printf("%zu change%s\n", ap->n_acts, ap->n_acts == 1 ? "" : "s");
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
	for (size_t i = ap->n_acts; i-- > 0;)
		undo_one(ap, &ap->acts[i]);
	return cli_fail("apply failed: %s (undid %zu change%s)", ap->err, ap->n_acts,
			ap->n_acts == 1 ? "" : "s");
}

int cmd_apply(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { 0 } };
	struct applier ap = { 0 };
	struct want w = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1) {
		rc = cli_common_opt(c, argv, "apply", apply_usage);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error("apply", "apply needs one FILE");
	ap.cat = cli_catalog();
	if (!ap.cat)
		return CLI_EXIT_FAIL;
	rc = load(ap.cat, argv[optind], &w);
	if (!rc)
		rc = cli_require_root();
	if (!rc)
		rc = apply(&ap, &w);
	log_free(&ap);
	want_free(&w);
	xi_catalog_free(ap.cat);
	return rc;
}
