/* Internals shared by the governance sources (not part of the API). */
#ifndef GOV_INTERNAL_H
#define GOV_INTERNAL_H

#include "base/arena.h"
#include "governance/gov.h"
#include "governance/gov_budget.h"

typedef struct gov_name {
    gb_str name;
    uint32_t entry;
} gov_name;

struct gov_prices {
    gov_price *v; /* entries (malloc'd array; strings static or in arena) */
    uint32_t n, cap;
    gov_name *names; /* model ids and aliases, sorted case-insensitively */
    uint32_t n_names;
    int8_t *family;     /* provider family of each entry, -1 none */
    gov_name *prefixes; /* configured prefixes, in entry order */
    uint32_t n_prefixes;
    gb_arena arena;     /* strings and alias arrays of loaded entries */
    const char *origin; /* "builtin", "empty", "custom" */
    char version[96];
};

/* Rebuilds the name index and the version after v changed. */
gb_status gov_prices_reindex(gov_prices *p);
/* Replaces every entry of p whose (provider, model) appears in add[0..n) and appends add. */
gb_status gov_prices_merge(gov_prices *p, const gov_price *add, uint32_t n);

/* Civil calendar helpers (tz.c): proleptic Gregorian, days since 1970-01-01. */
int64_t gov_days_from_civil(int64_t y, int m, int d);
void gov_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
bool gov_is_leap(int64_t y);
int gov_month_days(int64_t y, int m);
int64_t gov_floor_div(int64_t a, int64_t b);
/* Parses TZif data from memory (gov_tz_load reads the file, then calls this; tests and the fuzz
 * target use it directly). */
gb_status gov_tz_parse(const char *name, const void *data, size_t len, gov_tz **out, char *err,
                       size_t errlen);

#endif
