/* Helpers for the governance unit tests: attribute lists built from literals. */
#ifndef GOV_TEST_UTIL_H
#define GOV_TEST_UTIL_H

#include "governance/gov.h"

#define KV_S(k, v) ((pd_kv){GB_STR_LIT(k), {.type = PD_ANY_STR, .u.str = GB_STR_LIT(v)}})
#define KV_I(k, v) ((pd_kv){GB_STR_LIT(k), {.type = PD_ANY_INT, .u.i = (v)}})
#define KV_D(k, v) ((pd_kv){GB_STR_LIT(k), {.type = PD_ANY_DOUBLE, .u.d = (v)}})
#define KV_B(k, v) ((pd_kv){GB_STR_LIT(k), {.type = PD_ANY_BOOL, .u.b = (v)}})
#define ATTRS(arr) ((pd_attrs){(arr), (uint32_t)(sizeof(arr) / sizeof((arr)[0])), 0})

/* 2026-11-25T12:00:00Z */
#define T_NOW_NS (1795608000ull * 1000000000ull)

#endif
