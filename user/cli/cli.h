/* SPDX-License-Identifier: MIT */
/*
 * Shared by the xicept CLI's command files. Every command gets argv with its
 * own name at argv[0] and returns the process exit status: 0, CLI_EXIT_FAIL
 * for a runtime error, CLI_EXIT_USAGE for a malformed command line.
 */
#ifndef XICEPT_CLI_H
#define XICEPT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>

#include <xicept/dataplane.h>
#include <xicept/catalog.h>

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

/* util.c: the helpers every command shares, down to cli_chain_canonical. */

/* Every command accepts these two; -v may come before or after the command. */
#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "verbose", no_argument, NULL, 'v' }

extern bool cli_verbose;

/* Turns libbpf's and libxdp's messages on (-v) or off (the default). */
void cli_set_verbose(bool on);

/* "xicept: <problem>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "xicept: <problem>" and a --help hint for cmd on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Handles the option characters every command shares: 'v', 'h', '?' and ':'
 * (option strings start with ':' so a missing value is told apart). Returns
 * -1 when the caller should go on parsing, else the exit status. */
int cli_common_opt(int c, char **argv, const char *cmd, const char *usage);
/* The whole option loop of a command whose only own option is --json: -1 to
 * go on (with *ret_json set and optind at the first operand), else the exit
 * status. */
int cli_json_opts(int argc, char **argv, const char *cmd, const char *usage, bool *ret_json);

/* 0 when running as root, else an error line and CLI_EXIT_FAIL. */
int cli_require_root(void);
/* 0 when ifname names an interface of this network namespace. */
int cli_require_ifname(const char *ifname);

int cli_parse_mode(const char *s, enum xi_xdp_mode *ret);
int cli_parse_policy(const char *s, enum xi_policy *ret);
const char *cli_mode_name(enum xi_xdp_mode mode);
const char *cli_policy_name(enum xi_policy policy);
/* A connection id: decimal or 0x hex, below XI_CONN_ANY. */
int cli_parse_conn_id(const char *s, uint32_t *ret);
/* A table size for attach: 1..XI_TABLE_MAX, decimal or 0x hex. */
int cli_parse_table_size(const char *s, uint32_t *ret);

/* The catalog of every built-in interceptor and every plugin's (user/cli/
 * plugins.c); the caller frees it. An error line and NULL on failure. */
struct xi_catalog *cli_catalog(void);
/* --plugin-dir DIR, in order; -ENOMEM. */
int cli_plugin_dir_add(const char *dir);
/* Loads the plugins before a command, a line for each bad one; nonzero
 * (the exit status) only when a --plugin-dir cannot be read. */
int cli_plugins_load(void);
void cli_plugins_free(void);
/* Checks a chain text against the catalog: names (with the catalog's
 * suggestion), keys and values. 0, or an error line and CLI_EXIT_FAIL. */
int cli_check_chain(struct xi_catalog *cat, const char *chain, const char *what);
/* Re-opens an attached interface with messages for the usual failures. */
int cli_open(const char *ifname, struct xi_catalog *cat, struct xi_dataplane **ret);
/* The canonical text of a chain, so equal chains compare equal; -EINVAL. */
int cli_chain_canonical(const char *chain, char *buf, size_t size);

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_conn(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* cmd_setchain.c: conn set-chain, and a connection's chain version and
 * per-version packet counts added to its conn list JSON object. */
typedef struct json_t json_t;
int cli_conn_set_chain(int argc, char **argv);
void cli_conn_json_versions(struct xi_dataplane *dp, uint32_t id, json_t *o);

/* service.c: what the systemd unit needs. True when stderr is the stream
 * systemd connected to the journal (JOURNAL_STREAM names it). */
bool cli_stderr_is_journal(void);
/* An environment switch: unset, "", 0, no, false, off give false; 1, yes,
 * true, on give true; anything else -EINVAL (and false). */
int cli_env_flag(const char *name, bool *ret);
/* Whether ifname, in this network namespace, holds xicept's program. */
int cli_is_attached(const char *ifname, bool *ret);

#endif
