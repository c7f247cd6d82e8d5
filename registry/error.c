// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xicept/error.h>

static int err_vformat(struct xi_err *err, size_t at, int code, const char *fmt, va_list ap)
{
	if (at < sizeof(err->msg))
		vsnprintf(err->msg + at, sizeof(err->msg) - at, fmt, ap);
	if (err->code == 0)
		err->code = code;
	return code;
}

int xi_err_set(struct xi_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = 0;
	err->msg[0] = '\0';
	va_start(ap, fmt);
	err_vformat(err, 0, code, fmt, ap);
	va_end(ap);
	return code;
}

int xi_err_append(struct xi_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t at;

	if (!err)
		return code;
	at = strlen(err->msg);
	if (at && at + 2 < sizeof(err->msg)) {
		memcpy(err->msg + at, "; ", 3);
		at += 2;
	}
	va_start(ap, fmt);
	err_vformat(err, at, code, fmt, ap);
	va_end(ap);
	return code;
}

void xi_err_clear(struct xi_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
