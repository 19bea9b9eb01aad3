/* Which sanitizer this translation unit is built with (gcc spells it __SANITIZE_*__, clang
 * __has_feature), and their fiber interfaces. */
#ifndef CONC_TASK_SANITIZER_H
#define CONC_TASK_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define CONC__ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define CONC__TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(CONC__ASAN)
#define CONC__ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(CONC__TSAN)
#define CONC__TSAN 1
#endif
#endif

#ifdef CONC__ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CONC__TSAN
#include <sanitizer/tsan_interface.h>
#endif

#endif
