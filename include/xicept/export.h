/* SPDX-License-Identifier: MIT */
/*
 * XI_API marks the declarations that make up libxicept's public ABI. The
 * library is built with -fvisibility=hidden, so everything not marked stays
 * internal to libxicept.so (a static link sees every symbol, as usual);
 * scripts/libxicept.map versions what is exported.
 */
#ifndef XICEPT_EXPORT_H
#define XICEPT_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define XI_API __attribute__((visibility("default")))
#else
#define XI_API
#endif

#endif
