/* SPDX-License-Identifier: MIT */
/* Shell commands for BPF tests that build their own interfaces. */
#ifndef XI_TESTS_SYS_H
#define XI_TESTS_SYS_H

#include <stdio.h>
#include <stdlib.h>

/* Runs fmt with two string arguments through the shell; system()'s status. */
static inline int run_cmd(const char *fmt, const char *a, const char *b)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

#endif
