// SPDX-License-Identifier: MIT
/*
 * /metrics and /debug/registry as text (see user/engine/metrics.h). Each
 * family is written whole, its # HELP and # TYPE lines first, and label
 * values are escaped as the exposition format says (\\, \" and \n).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <xicept/plugin.h>

#include "user/engine/metrics.h"
#include "user/engine/xsk.h"

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f), fputc(*v, f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* name{key="value"} value, one label. */
static void sample1(FILE *f, const char *name, const char *key, const char *value, uint64_t v)
{
	fprintf(f, "%s{%s=\"", name, key);
	label_value(f, value);
	fprintf(f, "\"} %" PRIu64 "\n", v);
}

/* ---- registry ---- */

/* A histogram of the catalog's (not cumulative: xi_catalog_build_histogram),
 * in seconds, its buckets made cumulative as the format wants. */
static void histogram(FILE *f, const char *name, const char *help,
		      const uint64_t counts[XI_BUILD_BUCKETS], uint64_t ns_total)
{
	uint64_t cum = 0;

	head(f, name, "histogram", help);
	for (size_t i = 0; i < XI_BUILD_BUCKETS; i++) {
		double le = xi_catalog_build_bucket_le(i);

		cum += counts[i];
		if (isinf(le))
			fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
		else
			fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, le, cum);
	}
	fprintf(f, "%s_sum %.9f\n", name, (double)ns_total / 1e9);
	fprintf(f, "%s_count %" PRIu64 "\n", name, cum);
}

static int registry_metrics(FILE *f, struct xi_catalog *cat)
{
	struct xi_catalog_stats st;
	uint64_t buckets[XI_BUILD_BUCKETS];
	char **names = NULL;
	uint64_t *counts = NULL;
	size_t n = 0;
	const char *file;
	uint64_t fails;
	int rc;

	xi_catalog_stats(cat, &st);
	head(f, "xicept_registry_size", "gauge", "Interceptor entries in the catalog (each version its own).");
	fprintf(f, "xicept_registry_size %" PRIu64 "\n", st.size);
	head(f, "xicept_registry_lookups_total", "counter", "Catalog lookups, hits and misses.");
	fprintf(f, "xicept_registry_lookups_total %" PRIu64 "\n", st.lookups);
	rc = xi_catalog_miss_list(cat, &names, &counts, &n);
	if (rc)
		return rc;
	head(f, "xicept_registry_lookup_misses_total", "counter",
	     "Catalog lookups that found nothing, by the name looked up.");
	for (size_t i = 0; i < n; i++)
		sample1(f, "xicept_registry_lookup_misses_total", "name", names[i], counts[i]);
	xi_strv_free(names, n);
	free(counts);
	head(f, "xicept_registry_registrations_total", "counter", "Successful registrations.");
	fprintf(f, "xicept_registry_registrations_total %" PRIu64 "\n", st.registrations);
	xi_catalog_register_histogram(cat, buckets);
	histogram(f, "xicept_registry_register_seconds", "Time taken by successful registrations.",
		  buckets, st.register_ns_total);
	head(f, "xicept_plugin_load_failures_total", "counter",
	     "Plugins that could not be loaded, by file.");
	for (size_t i = 0; !xi_plugin_failure_at(i, &file, &fails); i++)
		sample1(f, "xicept_plugin_load_failures_total", "file", file, fails);
	head(f, "xicept_chain_build_failures_total", "counter", "Chain builds that failed.");
	fprintf(f, "xicept_chain_build_failures_total %" PRIu64 "\n", st.build_failures);
	xi_catalog_build_histogram(cat, buckets);
	histogram(f, "xicept_chain_build_seconds", "Time taken by successful chain builds.",
		  buckets, st.build_ns_total);
	return 0;
}

/* ---- data path ---- */

static int ssrc_metrics(FILE *f, const char *ifname, struct xi_dataplane *dp)
{
	const struct xi_stat_def *defs[XI_STAT_DEFS_MAX];
	struct xi_ssrc_stats *st = NULL;
	size_t n = 0, nd;
	int rc;

	rc = xi_dataplane_ssrc_stats(dp, XI_CONN_ANY, &st, &n);
	if (rc)
		return rc;
	/* A family per schema field that names one (struct xi_stat_def). */
	nd = xi_dataplane_stat_defs(dp, defs, NULL, XI_STAT_DEFS_MAX);
	for (size_t k = 0; k < nd; k++) {
		if (!defs[k]->metric || defs[k]->type == XI_STAT_LABEL)
			continue;
		head(f, defs[k]->metric, defs[k]->type == XI_STAT_COUNTER ? "counter" : "gauge",
		     defs[k]->help);
		for (size_t i = 0; i < n; i++) {
			int64_t v;

			if (xi_ssrc_stats_find(&st[i], defs[k]->name, &v))
				continue;
			fprintf(f, "%s{ifname=\"", defs[k]->metric);
			label_value(f, ifname);
			fprintf(f, "\",conn=\"%" PRIu32 "\",ssrc=\"%" PRIu32 "\"} %" PRId64 "\n",
				st[i].conn_id, st[i].ssrc, v);
		}
	}
	free(st);
	return 0;
}

/* name{ifname="...",reason="..."} per entry of names. */
/* One sample per label value: name{ifname="...",key="label"} v. */
static void labelled(FILE *f, const char *name, const char *ifname, const char *key,
		     const char *label, uint64_t v)
{
	fprintf(f, "%s{ifname=\"", name);
	label_value(f, ifname);
	fprintf(f, "\",%s=\"%s\"} %" PRIu64 "\n", key, label, v);
}

static void by_reason(FILE *f, const char *name, const char *ifname, const uint64_t *v, size_t n,
		      const char *(*reason_name)(size_t))
{
	for (size_t i = 0; i < n; i++)
		labelled(f, name, ifname, "reason", reason_name(i), v[i]);
}

static int reason_metrics(FILE *f, const char *ifname, struct xi_dataplane *dp)
{
	size_t nr = xi_reason_count(), nl = xi_loss_count();
	uint64_t *r = calloc(nr, sizeof(*r)), *l = calloc(nl, sizeof(*l));
	int rc = -ENOMEM;

	if (!r || !l)
		goto out;
	rc = xi_dataplane_reasons(dp, r, nr);
	if (!rc)
		rc = xi_dataplane_losses(dp, l, nl);
	if (rc)
		goto out;
	head(f, "xicept_reason_packets_total", "counter",
	     "Packets by what XDP did with them, by reason (as 'xicept stats' shows).");
	by_reason(f, "xicept_reason_packets_total", ifname, r, nr, xi_reason_name);
	head(f, "xicept_userspace_lost_packets_total", "counter",
	     "Packets handed to the userspace path (AF_XDP sockets, the tap) that it lost, by reason.");
	by_reason(f, "xicept_userspace_lost_packets_total", ifname, l, nl, xi_loss_name);
out:
	free(r);
	free(l);
	return rc;
}

static void if_sample(FILE *f, const char *name, const char *type, const char *help,
		      const char *ifname, uint64_t v)
{
	head(f, name, type, help);
	sample1(f, name, "ifname", ifname, v);
}

/* Where the engine put what its chains let through, and what it could not. */
static void delivery_metrics(FILE *f, const char *ifname, const struct xi_deliver_stats *d)
{
	head(f, "xicept_delivered_packets_total", "counter",
	     "Datagrams the engine handed back to the stack, by way (veth: AF_XDP TX into its own veth; raw: raw sockets).");
	labelled(f, "xicept_delivered_packets_total", ifname, "way", "veth", d->veth);
	labelled(f, "xicept_delivered_packets_total", ifname, "way", "raw", d->raw);
	head(f, "xicept_delivery_failures_total", "counter",
	     "Datagrams the engine could not hand back to the stack, by cause (lost as deliver_failed).");
	labelled(f, "xicept_delivery_failures_total", ifname, "cause", "no_frame", d->no_frame);
	labelled(f, "xicept_delivery_failures_total", ifname, "cause", "refused", d->refused);
	labelled(f, "xicept_delivery_failures_total", ifname, "cause", "unsent", d->unsent);
	labelled(f, "xicept_delivery_failures_total", ifname, "cause", "invalid", d->tx_invalid);
	labelled(f, "xicept_delivery_failures_total", ifname, "cause", "raw_failed", d->raw_failed);
}

static void engine_metrics(FILE *f, const char *ifname, struct xi_engine *e)
{
	struct xi_engine_stats s;

	xi_engine_stats(e, &s);
	if_sample(f, "xicept_nacks_sent_total", "counter",
		  "RTCP Generic NACKs (RFC 4585 RTPFB FMT 1) the chains sent.", ifname,
		  s.chains.nacks_sent);
	if_sample(f, "xicept_receiver_reports_sent_total", "counter",
		  "RTCP receiver reports (RFC 3550 RR) the chains sent.", ifname, s.chains.rrs_sent);
	if_sample(f, "xicept_rtcp_sent_total", "counter",
		  "RTCP packets (compounds) the chains sent.", ifname, s.chains.emitted);
	if_sample(f, "xicept_rtcp_send_failures_total", "counter",
		  "RTCP packets the chains emitted that could not be sent.", ifname,
		  s.chains.emit_failed);
	if_sample(f, "xicept_rtp_resent_total", "counter",
		  "RTP packets the chains sent again (nack-responder), RTX or as they left.", ifname,
		  s.chains.rtp_resent);
	if_sample(f, "xicept_rtp_resend_failures_total", "counter",
		  "RTP packets the chains resent that could not be sent.", ifname,
		  s.chains.rtp_resend_failed);
	delivery_metrics(f, ifname, &s.delivery);
	if_sample(f, "xicept_engine_frames_total", "counter",
		  "Frames the engine read from its AF_XDP sockets and the tap.", ifname, s.rx_frames);
	if_sample(f, "xicept_engine_dropped_packets_total", "counter",
		  "Packets an interceptor in userspace dropped.", ifname, s.chains.dropped);
	if_sample(f, "xicept_tap_unreadable_total", "counter",
		  "Tap records too short to rebuild the packet from: not observed.", ifname,
		  s.tap_unreadable);
}

int xi_metrics_text(const struct xi_metrics_src *src, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *ifname = src->ifname ? src->ifname : "";
	int rc = 0;

	if (!f)
		return -ENOMEM;
	if (src->cat)
		rc = registry_metrics(f, src->cat);
	if (!rc && src->dp)
		rc = ssrc_metrics(f, ifname, src->dp);
	if (!rc && src->dp)
		rc = reason_metrics(f, ifname, src->dp);
	if (!rc && src->engine)
		engine_metrics(f, ifname, src->engine);
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* ---- /debug/registry ---- */

static json_t *entry_json(const struct xi_catalog_entry *e)
{
	const struct xi_factory *fac = xi_catalog_entry_factory(e);
	json_t *o = json_object(), *keys = json_array();
	char id[XI_ID_MAX], ver[16];
	unsigned maj, min;

	xi_factory_version(fac, &maj, &min);
	snprintf(ver, sizeof(ver), "%u.%u", maj, min);
	xi_factory_id(fac, id, sizeof(id));
	json_object_set_new(o, "name", json_string(fac->name));
	json_object_set_new(o, "version", json_string(ver));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "kind", json_string(xi_kind_name(fac->kind)));
	json_object_set_new(o, "origin", json_string(xi_catalog_entry_origin(e)));
	json_object_set_new(o, "origin_kind",
			    json_string(xi_origin_kind_name(xi_catalog_entry_origin_kind(e))));
	json_object_set_new(o, "description", json_string(fac->description ? fac->description : ""));
	for (const struct xi_config_key *k = fac->keys; k && k->name; k++) {
		json_t *key = json_object();

		json_object_set_new(key, "name", json_string(k->name));
		json_object_set_new(key, "default", k->def ? json_string(k->def) : json_null());
		json_object_set_new(key, "required", json_boolean(k->flags & XI_CFG_F_REQUIRED));
		json_array_append_new(keys, key);
	}
	json_object_set_new(o, "keys", keys);
	json_object_set_new(o, "uses", json_integer((json_int_t)xi_catalog_entry_uses(e)));
	return o;
}

/* The plugins this process kept, with how long each one's init took. */
static json_t *plugins_json(void)
{
	json_t *arr = json_array();
	const char *path;
	uint64_t ns;

	for (size_t i = 0; !xi_plugin_loaded_at(i, &path, &ns); i++) {
		json_t *o = json_object();

		json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "init_seconds", json_real((double)ns / 1e9));
		json_array_append_new(arr, o);
	}
	return arr;
}

int xi_registry_json_text(struct xi_catalog *cat, char **ret, size_t *ret_len)
{
	struct xi_catalog_entry **v = NULL;
	size_t n = 0;
	json_t *doc, *arr;
	char *text;
	int rc;

	rc = xi_catalog_entries(cat, &v, &n);
	if (rc)
		return rc;
	doc = json_object();
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, entry_json(v[i]));
	xi_catalog_entries_free(v, n);
	json_object_set_new(doc, "frozen", json_boolean(xi_catalog_frozen(cat)));
	json_object_set_new(doc, "size", json_integer((json_int_t)n));
	json_object_set_new(doc, "interceptors", arr);
	json_object_set_new(doc, "plugins", plugins_json());
	text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	*ret = text;
	*ret_len = strlen(text);
	return 0;
}
