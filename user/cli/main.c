// SPDX-License-Identifier: MIT
/*
 * xicept: the operator's tool. Every invocation is short-lived; the state it
 * manages lives in bpffs pins, so commands may run from any process.
 */
#include <stdio.h>
#include <string.h>

#include <xicept/abi.h>
#include "cli.h"

#ifndef XI_PLUGIN_DIR
#define XI_PLUGIN_DIR "/usr/local/lib/xicept/plugins"
#endif

/* The lines around the command list, which main_usage() builds from commands[]. */
static const char usage_head[] =
	"Usage: xicept [-v] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n";

static const char usage_tail[] =
	"\n"
	"Options:\n"
	"  -v, --verbose  show libbpf's and libxdp's messages\n"
	"  -h, --help     show help; 'xicept COMMAND --help' for a command\n"
	"  -V, --version  show the version\n"
	"  -P, --plugin-dir DIR  load the plugins (*.so) of DIR (repeatable), before\n"
	"                 those of $XICEPT_PLUGIN_PATH and " XI_PLUGIN_DIR "\n"
	"\n"
	"State lives under " XI_PIN_ROOT "/<ifname>/.\n";

/* The synopsis is the command's lines in 'xicept --help', so a command cannot
 * be dispatched without being listed there. */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
};

static const struct command commands[] = {
	{ "attach", cmd_attach,
	  "attach IFNAME [--mode native|skb] [--policy pass|drop]\n"
	  "       [--non-rtp pass|drop] [--no-daemon pass|drop]" },
	{ "detach", cmd_detach, "detach IFNAME" },
	{ "conn", cmd_conn,
	  "conn add IFNAME --local IP:PORT [--remote IP:PORT] --chain 'NAME k=v ! NAME'\n"
	  "         [--stream SSRC:PT:CLOCKRATE ...]\n"
	  "conn del IFNAME ID\n"
	  "conn list IFNAME [--json]\n"
	  "conn set-chain IFNAME ID CHAIN" },
	{ "stats", cmd_stats, "stats IFNAME [--conn ID] [--json] [--watch SECONDS]" },
	{ "status", cmd_status, "status [--json]" },
	{ "registry", cmd_registry, "registry list [--json]" },
	{ "apply", cmd_apply, "apply [--dry-run] FILE" },
	{ "run", cmd_run, "run IFNAME [--threads N] [--listen [ADDR:]PORT]" },
};

static void main_usage(FILE *f)
{
	fputs(usage_head, f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *line = commands[i].synopsis;

		while (*line) {
			size_t len = strcspn(line, "\n");

			fprintf(f, "  %.*s\n", (int)len, line);
			line += len + (line[len] == '\n');
		}
	}
	fputs(usage_tail, f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "plugin-dir", required_argument, NULL, 'P' }, CLI_COMMON_LONGOPTS, { 0 }
	};
	int c, rc;

	cli_set_verbose(false);
	opterr = 0;
	/* '+': stop at the command, whose own parser takes the rest. */
	while ((c = getopt_long(argc, argv, "+:P:hvV", longopts, NULL)) != -1) {
		if (c == 'V') {
			printf("xicept %s (BPF ABI %d)\n", XICEPT_VERSION, XI_ABI_VERSION);
			return CLI_EXIT_OK;
		} else if (c == 'v') {
			cli_set_verbose(true);
		} else if (c == 'P') {
			if (cli_plugin_dir_add(optarg))
				return cli_fail("out of memory");
		} else if (c == ':') {
			return cli_usage_error(NULL, "option '%s' needs a value", argv[optind - 1]);
		} else if (c == 'h') {
			main_usage(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(NULL, "no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			/* Commands parse from scratch; optind 0 resets glibc's getopt. */
			char **sub = argv + optind;
			int subc = argc - optind;

			/* Every command sees the same names: plugins load first. */
			if (cli_plugins_load())
				return CLI_EXIT_FAIL;
			optind = 0;
			rc = commands[i].run(subc, sub);
			cli_plugins_free();
			return rc;
		}
	}
	return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
