// SPDX-License-Identifier: MIT
/*
 * xicept apply FILE, the first half: from the JSON document to the wanted
 * state. Everything is checked here, before cmd_apply.c touches anything,
 * so a bad file changes nothing. Errors name the place in the document
 * ("interfaces[0].connections[1]: ...").
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <xicept/srtp.h>

#include "apply.h"
#include "cli.h"
#include "keyset.h"

void apply_want_free(struct want *w)
{
	for (size_t i = 0; w->ifaces && i < w->n; i++) {
		for (size_t k = 0; w->ifaces[i].conns && k < w->ifaces[i].n_conns; k++)
			xi_srtp_keys_wipe(&w->ifaces[i].conns[k].spec.srtp);
		free(w->ifaces[i].conns);
	}
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

int apply_conn_key(const struct xi_conn_spec *spec, char *buf, size_t size)
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
	for (size_t i = 0; i < spec->n_local_streams && at < size; i++) {
		at += (size_t)snprintf(buf + at, size - at, " local=");
		if (at < size)
			at += (size_t)xi_local_stream_spec_format(&spec->local_streams[i], buf + at,
								  size - at);
	}
	/* SRTP: a digest of the keys, never the keys; a connection whose keys
	 * could not be read matches nothing, so it is replaced. */
	if (spec->has_srtp && at < size) {
		uint8_t md[EVP_MAX_MD_SIZE];
		unsigned md_len = 0;

		if (!EVP_Digest(&spec->srtp, sizeof(spec->srtp), md, &md_len, EVP_sha256(), NULL))
			return -EIO;
		at += (size_t)snprintf(buf + at, size - at, " srtp=");
		for (unsigned i = 0; i < 16 && at < size; i++)
			at += (size_t)snprintf(buf + at, size - at, "%02x", md[i]);
		OPENSSL_cleanse(md, sizeof(md));
	} else if (spec->srtp_in && at < size) {
		at += (size_t)snprintf(buf + at, size - at, " srtp=?");
	}
	return at < size ? 0 : -ENOSPC;
}

/* ---- validation ---- */

/* The length of "LOCAL REMOTE" at the start of a connection key: endpoints
 * are formatted without spaces, so equal lengths of equal text are the same
 * pair of endpoints. */
static size_t key_endpoints_len(const char *key)
{
	const char *sp = strchr(key, ' ');

	sp = sp ? strchr(sp + 1, ' ') : NULL;
	return sp ? (size_t)(sp - key) : strlen(key);
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

/* A table size, 0 when absent (keep the attached one, or the default). */
static int parse_size_key(json_t *obj, const char *key, const char *path, uint32_t *ret)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	*ret = 0;
	if (!v || json_is_null(v))
		return 0;
	n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (n < 1 || n > XI_TABLE_MAX) {
		fprintf(stderr, "xicept: %s: '%s' must be an integer from 1 to %u\n", path, key,
			XI_TABLE_MAX);
		return CLI_EXIT_FAIL;
	}
	*ret = (uint32_t)n;
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

static int parse_local_streams(json_t *arr, const char *path, struct xi_conn_spec *spec)
{
	static const char what[] = "'local_streams' must be an array of "
				   "\"SSRC:PT:CLOCKRATE[:rtx=RTXSSRC/RTXPT]\"";
	struct xi_err err = { 0 };
	size_t i;
	json_t *v;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(path, "%s", what);
	if (json_array_size(arr) > XI_CONN_MAX_STREAMS)
		return bad(path, "%s", "too many local streams");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return bad(path, "%s", what);
		if (xi_local_stream_spec_parse(json_string_value(v), &spec->local_streams[i], &err))
			return bad(path, "local_streams: %s", err.msg);
	}
	spec->n_local_streams = json_array_size(arr);
	return 0;
}

/* "srtp": {"in": "PROFILE inline:BASE64", "out": "..."}, as --srtp's lines. */
static int parse_srtp(json_t *obj, const char *path, struct xi_conn_spec *spec)
{
	static const char *const keys[] = { "in", "out", NULL };
	struct xi_err err = { 0 };
	const char *in, *out;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return bad(path, "%s", "'srtp' must be an object: {\"in\": \"PROFILE inline:BASE64\", "
			   "\"out\": ...}");
	if (check_keys(obj, path, keys) || get_string(obj, "in", path, true, &in) ||
	    get_string(obj, "out", path, true, &out))
		return CLI_EXIT_FAIL;
	if (xi_srtp_key_parse(in, &spec->srtp.in, &err))
		return bad(path, "srtp in: %s", err.msg);
	if (xi_srtp_key_parse(out, &spec->srtp.out, &err)) {
		xi_srtp_keys_wipe(&spec->srtp);
		return bad(path, "srtp out: %s", err.msg);
	}
	spec->has_srtp = true;
	return 0;
}

static int parse_conn(struct xi_catalog *cat, json_t *obj, const char *path, struct want_conn *c)
{
	static const char *const keys[] = { "local", "remote", "chain", "streams", "local_streams",
					    "srtp", NULL };
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
	    parse_streams(json_object_get(obj, "streams"), path, &c->spec) ||
	    parse_local_streams(json_object_get(obj, "local_streams"), path, &c->spec) ||
	    parse_srtp(json_object_get(obj, "srtp"), path, &c->spec))
		return CLI_EXIT_FAIL;
	if (apply_conn_key(&c->spec, c->key, sizeof(c->key)))
		return bad(path, "%s", "connection too long to compare");
	return 0;
}

static int parse_iface_conns(struct xi_catalog *cat, json_t *arr, const char *path,
			     struct want_iface *wi)
{
	struct keyset flows = { 0 };
	char sub[128];
	size_t i;
	json_t *v;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(path, "%s", "'connections' must be an array");
	wi->conns = calloc(json_array_size(arr) + 1, sizeof(*wi->conns));
	if (!wi->conns || keyset_init(&flows, json_array_size(arr)))
		return bad(path, "%s", strerror(ENOMEM));
	json_array_foreach(arr, i, v) {
		const char *key = wi->conns[i].key;
		size_t k;

		snprintf(sub, sizeof(sub), "%s.connections[%zu]", path, i);
		if (parse_conn(cat, v, sub, &wi->conns[i]))
			break;
		/* Two flows on one (local, remote) could never both match. */
		if (keyset_add(&flows, key, key_endpoints_len(key), i, &k) == -EEXIST) {
			fprintf(stderr, "xicept: %s: the same local and remote as "
				"connections[%zu]\n", sub, k);
			break;
		}
		wi->n_conns++;
	}
	keyset_free(&flows);
	return wi->n_conns == json_array_size(arr) ? 0 : CLI_EXIT_FAIL;
}

static int parse_iface(struct xi_catalog *cat, json_t *obj, const char *path,
		       struct want_iface *wi)
{
	static const char *const keys[] = { "name", "mode", "policy", "non_rtp", "no_daemon",
					    "max_conns", "max_flows", "max_streams",
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
	    parse_policy_key(obj, "no_daemon", path, &wi->opts.no_daemon) ||
	    parse_size_key(obj, "max_conns", path, &wi->opts.max_conns) ||
	    parse_size_key(obj, "max_flows", path, &wi->opts.max_flows) ||
	    parse_size_key(obj, "max_streams", path, &wi->opts.max_streams))
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

int apply_load(struct xi_catalog *cat, const char *file, struct want *w)
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
	/* A file that holds keys must be as closed as a key file. */
	for (size_t i = 0; !rc && i < w->n; i++)
		for (size_t k = 0; !rc && k < w->ifaces[i].n_conns; k++)
			if (w->ifaces[i].conns[k].spec.has_srtp) {
				struct xi_err err = { 0 };

				if (xi_srtp_file_check(file, &err))
					rc = cli_fail("%s", err.msg);
			}
	return rc;
}
