/* Byte-string views. A gb_str never owns its bytes: they live in a request buffer, a batch arena
 * or static storage, and the view is valid as long as that owner is. Not NUL-terminated. */
#ifndef GB_STR_H
#define GB_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct gb_str {
    const char *ptr;
    uint32_t len;
} gb_str;

#define GB_STR_LIT(s) ((gb_str){(s), (uint32_t)(sizeof(s) - 1)})
#define GB_STR_NULL   ((gb_str){NULL, 0})
/* printf("%.*s", GB_STR_FMT(s)) */
#define GB_STR_FMT(s) (int)(s).len, (s).ptr

static inline gb_str gb_str_c(const char *s)
{
    return (gb_str){s, s ? (uint32_t)strlen(s) : 0};
}

static inline gb_str gb_str_n(const void *p, size_t n)
{
    return (gb_str){(const char *)p, (uint32_t)n};
}

static inline bool gb_str_eq(gb_str a, gb_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool gb_str_eq_c(gb_str a, const char *b)
{
    return gb_str_eq(a, gb_str_c(b));
}

static inline bool gb_str_has_prefix(gb_str s, gb_str prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

/* FNV-1a, 64-bit; used for hash maps and stable sharding. */
static inline uint64_t gb_hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = (const uint8_t *)p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
