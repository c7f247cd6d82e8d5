// SPDX-License-Identifier: MIT
/* xicept registry list: every interceptor the catalog knows, with its keys. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <xicept/config.h>
#include "cli.h"

static const char registry_usage[] =
	"Usage: xicept registry list [--json]\n"
	"\n"
	"Lists every interceptor name with its version, kind (xdp: runs in the\n"
	"kernel; userspace: runs in the AF_XDP engine), origin (file:line of a\n"
	"built-in, a plugin's path, or the program that registered it), a\n"
	"description and its config keys. A name may have several versions; a\n"
	"chain names one as NAME@MAJOR.MINOR, and a bare NAME means the highest.\n";

static const char *const type_names[] = {
	[XI_CFG_U32] = "u32",         [XI_CFG_U64] = "u64",
	[XI_CFG_BOOL] = "bool",       [XI_CFG_STRING] = "string",
	[XI_CFG_ENUM] = "enum",       [XI_CFG_U32_LIST] = "u32-list",
	[XI_CFG_DURATION] = "duration", [XI_CFG_SIZE] = "size",
};

static const char *type_name(enum xi_config_type t)
{
	return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) && type_names[t]
		       ? type_names[t] : "?";
}

static bool is_numeric(enum xi_config_type t)
{
	return t == XI_CFG_U32 || t == XI_CFG_U64 || t == XI_CFG_DURATION || t == XI_CFG_SIZE ||
	       t == XI_CFG_U32_LIST;
}

static json_t *key_json(const struct xi_config_key *k)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(k->name));
	json_object_set_new(o, "type", json_string(type_name(k->type)));
	json_object_set_new(o, "default", k->def ? json_string(k->def) : json_null());
	json_object_set_new(o, "required", json_boolean(k->flags & XI_CFG_F_REQUIRED));
	json_object_set_new(o, "help", json_string(k->help ? k->help : ""));
	if (k->choices) {
		json_t *c = json_array();

		for (size_t i = 0; k->choices[i]; i++)
			json_array_append_new(c, json_string(k->choices[i]));
		json_object_set_new(o, "choices", c);
	}
	if (k->max && is_numeric(k->type)) {
		json_object_set_new(o, "min", json_integer((json_int_t)k->min));
		json_object_set_new(o, "max", json_integer((json_int_t)k->max));
	}
	if (k->flags & XI_CFG_F_POW2)
		json_object_set_new(o, "power_of_two", json_true());
	return o;
}

static json_t *factory_json(const struct xi_catalog_entry *e)
{
	const struct xi_factory *f = xi_catalog_entry_factory(e);
	json_t *o = json_object(), *keys = json_array();
	unsigned maj, min;
	char ver[16];

	xi_factory_version(f, &maj, &min);
	snprintf(ver, sizeof(ver), "%u.%u", maj, min);
	json_object_set_new(o, "name", json_string(f->name));
	json_object_set_new(o, "version", json_string(ver));
	json_object_set_new(o, "kind", json_string(xi_kind_name(f->kind)));
	json_object_set_new(o, "origin", json_string(xi_catalog_entry_origin(e)));
	json_object_set_new(o, "origin_kind",
			    json_string(xi_origin_kind_name(xi_catalog_entry_origin_kind(e))));
	json_object_set_new(o, "description", json_string(f->description ? f->description : ""));
	if (f->kind == XI_KIND_XDP && f->stage && f->stage->prog)
		json_object_set_new(o, "xdp_prog", json_string(f->stage->prog));
	for (const struct xi_config_key *k = f->keys; k && k->name; k++)
		json_array_append_new(keys, key_json(k));
	json_object_set_new(o, "keys", keys);
	return o;
}

/* "enum(allow|deny)" or "u32 1..64": what an operator may write. */
static void key_type_text(const struct xi_config_key *k, char *buf, size_t size)
{
	size_t at = (size_t)snprintf(buf, size, "%s", type_name(k->type));

	if (k->choices) {
		for (size_t i = 0; k->choices[i] && at < size; i++)
			at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? "|" : "(",
					       k->choices[i]);
		if (at < size)
			snprintf(buf + at, size - at, ")");
	} else if (k->max && is_numeric(k->type) && k->type != XI_CFG_DURATION &&
		   k->type != XI_CFG_SIZE) {
		snprintf(buf + at, size - at, " %" PRIu64 "..%" PRIu64, k->min, k->max);
	}
}

static void factory_print(const struct xi_catalog_entry *e)
{
	const struct xi_factory *f = xi_catalog_entry_factory(e);
	unsigned maj, min;
	char type[128], ver[16];

	xi_factory_version(f, &maj, &min);
	snprintf(ver, sizeof(ver), "%u.%u", maj, min);
	printf("%-22s %-10s %-8s %s\n", f->name, xi_kind_name(f->kind), ver,
	       f->description ? f->description : "");
	printf("    origin %s\n", xi_catalog_entry_origin(e));
	for (const struct xi_config_key *k = f->keys; k && k->name; k++) {
		key_type_text(k, type, sizeof(type));
		printf("    %-20s %-26s %-14s %s\n", k->name, type,
		       k->flags & XI_CFG_F_REQUIRED ? "(required)" : k->def ? k->def : "-",
		       k->help ? k->help : "");
	}
}

static int registry_list(struct xi_catalog *cat, bool json)
{
	json_t *arr = json ? json_array() : NULL;
	struct xi_catalog_entry **v = NULL;
	size_t n = 0;
	int rc;

	rc = xi_catalog_entries(cat, &v, &n);
	if (rc)
		return cli_fail("cannot list interceptors: %s", strerror(-rc));
	if (!json)
		printf("%-22s %-10s %-8s %s\n    %-20s %-26s %-14s %s\n", "NAME", "KIND", "VERSION",
		       "DESCRIPTION", "KEY", "TYPE", "DEFAULT", "HELP");
	for (size_t i = 0; i < n; i++) {
		if (json)
			json_array_append_new(arr, factory_json(v[i]));
		else
			factory_print(v[i]);
	}
	if (json) {
		json_t *doc = json_pack("{s:o}", "interceptors", arr);

		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	}
	xi_catalog_entries_free(v, n);
	return 0;
}

int cmd_registry(int argc, char **argv)
{
	struct xi_catalog *cat;
	bool json = false;
	int rc;

	/* Options may follow "list" too: parse the whole line, then check the words. */
	rc = cli_json_opts(argc, argv, "registry", registry_usage, &json);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage_error("registry", "registry needs a subcommand: list");
	if (strcmp(argv[optind], "list"))
		return cli_usage_error("registry", "unknown registry subcommand '%s'", argv[optind]);
	if (argc - optind != 1)
		return cli_usage_error("registry", "registry list takes no arguments");
	cat = cli_catalog();
	if (!cat)
		return CLI_EXIT_FAIL;
	rc = registry_list(cat, json);
	xi_catalog_free(cat);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
