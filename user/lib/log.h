/* SPDX-License-Identifier: MIT */
/* Internal: formatted messages to a caller's log callback. */
#ifndef XICEPT_USER_LOG_H
#define XICEPT_USER_LOG_H

#include <stdarg.h>
#include <stdio.h>

/* A one-line message to a log callback (NULL: nothing). The library never
 * prints; programs pass a callback that does. */
static inline void xi_logf(void (*log)(void *user, const char *msg), void *user,
			   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void xi_logf(void (*log)(void *user, const char *msg), void *user,
			   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(user, msg);
}

#endif
