// SPDX-License-Identifier: MIT
/*
 * What the xicept commands share (declared in cli.h): messages and exit
 * statuses, the common options, root and interface checks, the names of
 * modes and policies, number parsing, chain checks and opening an attached
 * interface.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <xicept/config.h>
#include "cli.h"

bool cli_verbose;

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int loud_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int loud_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

void cli_set_verbose(bool on)
{
	cli_verbose = on;
	libbpf_set_print(on ? loud_libbpf : quiet_libbpf);
	libxdp_set_print(on ? loud_libxdp : quiet_libxdp);
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("xicept: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("xicept: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'xicept %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return CLI_EXIT_USAGE;
}

int cli_common_opt(int c, char **argv, const char *cmd, const char *usage)
{
	/* The option just looked at; getopt has moved optind past it. */
	const char *opt = argv[optind - 1];

	switch (c) {
	case 'v':
		cli_set_verbose(true);
		return -1;
	case 'h':
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	case ':':
		return cli_usage_error(cmd, "option '%s' needs a value", opt);
	default:
		if (optopt && strncmp(opt, "--", 2))
			return cli_usage_error(cmd, "unknown option '-%c'", optopt);
		return cli_usage_error(cmd, "unknown option '%s'", opt);
	}
}

int cli_json_opts(int argc, char **argv, const char *cmd, const char *usage, bool *ret_json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' }, CLI_COMMON_LONGOPTS, { 0 }
	};
	int c, rc;

	*ret_json = false;
	while ((c = getopt_long(argc, argv, ":jhv", longopts, NULL)) != -1) {
		if (c == 'j') {
			*ret_json = true;
			continue;
		}
		rc = cli_common_opt(c, argv, cmd, usage);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

int cli_require_root(void)
{
	if (geteuid() != 0)
		return cli_fail("must be run as root (BPF programs and pins need CAP_SYS_ADMIN)");
	return 0;
}

int cli_require_ifname(const char *ifname)
{
	if (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname))
		return cli_fail("no such interface '%s'", ifname);
	return 0;
}

static const char *const mode_names[] = { [XI_XDP_NATIVE] = "native", [XI_XDP_SKB] = "skb" };
static const char *const policy_names[] = { [XI_POLICY_PASS] = "pass", [XI_POLICY_DROP] = "drop" };

int cli_parse_mode(const char *s, enum xi_xdp_mode *ret)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(s, mode_names[i])) {
			*ret = (enum xi_xdp_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

int cli_parse_policy(const char *s, enum xi_policy *ret)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
		if (!strcmp(s, policy_names[i])) {
			*ret = (enum xi_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cli_mode_name(enum xi_xdp_mode mode)
{
	return (unsigned)mode < 2 ? mode_names[mode] : "?";
}

const char *cli_policy_name(enum xi_policy policy)
{
	return (unsigned)policy < 2 ? policy_names[policy] : "?";
}

int cli_parse_conn_id(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (xi_parse_u64(s, &v) || v >= XI_CONN_ANY)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int cli_parse_table_size(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (xi_parse_u64(s, &v) || v == 0 || v > XI_TABLE_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int cli_check_chain(struct xi_catalog *cat, const char *chain, const char *what)
{
	struct xi_chain_desc *desc = NULL;
	struct xi_chain_builder *b = NULL;
	struct xi_err err = { 0 };
	int rc;

	rc = xi_chain_desc_parse(chain, &desc, &err);
	if (!rc && desc->n == 0)
		rc = xi_err_set(&err, -EINVAL, "chain: no interceptors");
	if (!rc)
		rc = xi_catalog_builder(cat, desc, &b, &err);
	xi_chain_builder_free(b);
	xi_chain_desc_free(desc);
	if (rc)
		return cli_fail("%s%s%s", what ? what : "", what ? ": " : "",
				err.msg[0] ? err.msg : strerror(-rc));
	return 0;
}

int cli_chain_canonical(const char *chain, char *buf, size_t size)
{
	struct xi_chain_desc *desc = NULL;
	int rc;

	rc = xi_chain_desc_parse(chain, &desc, NULL);
	if (rc)
		return rc;
	rc = xi_chain_desc_format(desc, buf, size);
	xi_chain_desc_free(desc);
	if (rc < 0)
		return rc;
	return (size_t)rc < size ? 0 : -ENOSPC;
}

int cli_open(const char *ifname, struct xi_catalog *cat, struct xi_dataplane **ret)
{
	int rc;

	rc = xi_dataplane_open(ifname, cat, ret);
	if (rc == -ENOENT)
		return cli_fail("%s is not attached (run 'xicept attach %s' first)", ifname, ifname);
	if (rc)
		return cli_fail("cannot open %s: %s", ifname, strerror(-rc));
	return 0;
}
