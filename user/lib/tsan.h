/* SPDX-License-Identifier: MIT */
/*
 * ThreadSanitizer cannot see liburcu's grace period, so it would call the
 * free of what readers used before a synchronize_rcu() a race with them.
 * Each reader "releases" a sync object as it leaves its read-side section,
 * the writer "acquires" it after synchronize_rcu(): exactly the ordering the
 * grace period provides. Without TSan both are nothing.
 */
#ifndef XICEPT_LIB_TSAN_H
#define XICEPT_LIB_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define XI_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XI_TSAN 1
#endif
#endif

#ifdef XI_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(addr) __tsan_acquire(addr)
#define tsan_release(addr) __tsan_release(addr)
#else
#define tsan_acquire(addr) ((void)(addr))
#define tsan_release(addr) ((void)(addr))
#endif

#endif
