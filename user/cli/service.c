// SPDX-License-Identifier: MIT
/*
 * What the systemd unit (deploy/systemd/xicept@.service.in) needs from the
 * CLI: whether stderr goes to the journal, the XICEPT_DETACH_ON_STOP switch,
 * and whether an interface holds xicept's program.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

bool cli_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected;
	 * stderr may have been redirected since (a shell in between). */
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int cli_env_flag(const char *name, bool *ret)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "", "0", "no", "false", "off" };
	const char *v = getenv(name);

	*ret = false;
	if (!v)
		return 0;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcasecmp(v, yes[i])) {
			*ret = true;
			return 0;
		}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcasecmp(v, no[i]))
			return 0;
	return -EINVAL;
}

int cli_is_attached(const char *ifname, bool *ret)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	*ret = false;
	rc = xi_dataplane_list(&names, &n);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], ifname))
			*ret = true;
	xi_strv_free(names, n);
	return 0;
}
