/* SPDX-License-Identifier: MIT */
/*
 * Error reports for calls whose failure needs more than an errno: configuration
 * parsing names the element and field, chain close names every failing element.
 * The library fills the message; the program decides whether to print it.
 */
#ifndef XICEPT_ERROR_H
#define XICEPT_ERROR_H

#include <xicept/export.h>
#ifdef __cplusplus
extern "C" {
#endif

#define XI_ERR_MSG_MAX 512

struct xi_err {
	int code;                  /* negative errno, 0 when nothing failed */
	char msg[XI_ERR_MSG_MAX];  /* one line, no trailing newline */
};

/* Records code and a printf-style message into err (which may be NULL) and
 * returns code, so callers can write `return xi_err_set(err, -EINVAL, ...)`. */
XI_API int xi_err_set(struct xi_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends "; <formatted>" (or sets it when empty) without changing err->code
 * unless it is still 0. Used to aggregate several failures into one report. */
XI_API int xi_err_append(struct xi_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

XI_API void xi_err_clear(struct xi_err *err);

#ifdef __cplusplus
}
#endif
#endif
