/* Price tables: storage, model-id matching and lookup by effective date.
 *
 * How: a table is an array of gov_price (the built-in ones point to static strings, loaded ones
 * into the table's arena) plus a name index: every model id and alias, sorted case-insensitively,
 * each with its entry number. A lookup binary-searches the index for the candidate ids of the
 * span's model (as given, then without each leading "provider/" segment, then without a date
 * suffix), then scans the linear list of configured prefixes; among the entries found it takes
 * the newest effective_from <= the span's start, preferring the span's provider family. Lookup
 * allocates nothing and never writes, so a finished table is shared by threads without locks.
 *
 * Rejected: a hash map (the index is rebuilt only when a file is loaded and binary search over
 * a few thousand ids is ~12 compares); lower-casing copies per lookup (would allocate). */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "governance/gov_internal.h"

static int icmp(gb_str a, gb_str b)
{
    uint32_t n = a.len < b.len ? a.len : b.len;
    for (uint32_t i = 0; i < n; i++) {
        int ca = (unsigned char)a.ptr[i], cb = (unsigned char)b.ptr[i];
        if (ca >= 'A' && ca <= 'Z') ca += 32;
        if (cb >= 'A' && cb <= 'Z') cb += 32;
        if (ca != cb) return ca - cb;
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static int name_cmp(const void *x, const void *y)
{
    const gov_name *a = x, *b = y;
    int c = icmp(a->name, b->name);
    if (c) return c;
    return a->entry < b->entry ? -1 : a->entry > b->entry;
}

gb_status gov_prices_new_empty(gov_prices **out)
{
    gov_prices *p = calloc(1, sizeof *p);
    if (!p) return GB_ERR_NOMEM;
    gb_arena_init(&p->arena, 0, 0);
    p->origin = "empty";
    gb_status st = gov_prices_reindex(p);
    if (st != GB_OK) {
        gov_prices_free(p);
        return st;
    }
    *out = p;
    return GB_OK;
}

gb_status gov_prices_new_builtin(gov_prices **out)
{
    gov_prices *p = NULL;
    gb_status st = gov_prices_new_empty(&p);
    if (st != GB_OK) goto out;
    p->v = malloc(gov_prices_builtin_count * sizeof *p->v);
    if (!p->v) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    memcpy(p->v, gov_prices_builtin, gov_prices_builtin_count * sizeof *p->v);
    p->n = p->cap = gov_prices_builtin_count;
    p->origin = "builtin";
    st = gov_prices_reindex(p);
out:
    if (st != GB_OK) {
        gov_prices_free(p);
        p = NULL;
    }
    *out = p;
    return st;
}

void gov_prices_free(gov_prices *p)
{
    if (!p) return;
    free(p->v);
    free(p->names);
    free(p->prefixes);
    free(p->family);
    gb_arena_free(&p->arena);
    free(p);
}

static uint64_t hash_mix(uint64_t h, const void *b, size_t n)
{
    const uint8_t *c = b;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    return hash_mix(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static uint64_t hash_rates(uint64_t h, const gov_rates *r)
{
    int64_t v[4] = {r->input, r->output, r->cache_read, r->cache_write};
    return hash_mix(h, v, sizeof v);
}

static int family_of(gb_str p);

gb_status gov_prices_reindex(gov_prices *p)
{
    gb_status st = GB_OK;
    uint32_t nn = 0, np = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        nn++;
        for (const char *const *a = p->v[i].aliases; a && *a; a++)
            nn++;
        for (const char *const *a = p->v[i].prefixes; a && *a; a++)
            np++;
    }
    gov_name *names = calloc(nn ? nn : 1, sizeof *names);
    gov_name *prefixes = calloc(np ? np : 1, sizeof *prefixes);
    int8_t *family = calloc(p->n ? p->n : 1, sizeof *family);
    if (!names || !prefixes || !family) {
        free(names);
        free(prefixes);
        free(family);
        st = GB_ERR_NOMEM;
        goto out;
    }
    uint32_t k = 0, q = 0;
    uint64_t h = 1469598103934665603ULL;
    char newest[16] = "";
    for (uint32_t i = 0; i < p->n; i++) {
        const gov_price *e = &p->v[i];
        names[k++] = (gov_name){gb_str_c(e->model), i};
        for (const char *const *a = e->aliases; a && *a; a++)
            names[k++] = (gov_name){gb_str_c(*a), i};
        for (const char *const *a = e->prefixes; a && *a; a++)
            prefixes[q++] = (gov_name){gb_str_c(*a), i};
        h = hash_str(h, e->provider);
        h = hash_str(h, e->model);
        for (const char *const *a = e->aliases; a && *a; a++)
            h = hash_str(h, *a);
        for (const char *const *a = e->prefixes; a && *a; a++)
            h = hash_str(h, *a);
        h = hash_mix(h, &e->effective_from, sizeof e->effective_from);
        h = hash_rates(h, &e->rates);
        for (uint32_t t = 0; t < e->n_tiers; t++) {
            h = hash_mix(h, &e->tiers[t].above_input, sizeof e->tiers[t].above_input);
            h = hash_rates(h, &e->tiers[t].rates);
        }
        if (e->checked && strlen(e->checked) == 10 && e->checked[4] == '-' &&
            strcmp(e->checked, newest) > 0)
            memcpy(newest, e->checked, 11);
    }
    qsort(names, nn, sizeof *names, name_cmp);
    for (uint32_t i = 0; i < p->n; i++)
        family[i] = (int8_t)family_of(gb_str_c(p->v[i].provider));
    free(p->names);
    free(p->prefixes);
    free(p->family);
    p->family = family;
    p->names = names;
    p->n_names = nn;
    p->prefixes = prefixes;
    p->n_prefixes = np;
    snprintf(p->version, sizeof p->version, "%s-%s-%08x", p->origin, newest[0] ? newest : "undated",
             (unsigned)(h ^ (h >> 32)));
out:
    return st;
}

gb_status gov_prices_merge(gov_prices *p, const gov_price *add, uint32_t n)
{
    gb_status st = GB_OK;
    uint32_t keep = 0;
    gov_price *v = malloc(((size_t)p->n + n + 1) * sizeof *v);
    if (!v) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < p->n; i++) {
        bool replaced = false;
        for (uint32_t j = 0; j < n && !replaced; j++)
            replaced = strcasecmp(p->v[i].provider, add[j].provider) == 0 &&
                       strcasecmp(p->v[i].model, add[j].model) == 0;
        if (!replaced) v[keep++] = p->v[i];
    }
    memcpy(v + keep, add, (size_t)n * sizeof *v);
    gov_price *old = p->v;
    uint32_t old_n = p->n, old_cap = p->cap;
    p->v = v;
    p->n = p->cap = keep + n;
    st = gov_prices_reindex(p);
    if (st != GB_OK) { /* the old index still matches the old entries */
        p->v = old;
        p->n = old_n;
        p->cap = old_cap;
        free(v);
    } else {
        free(old);
    }
out:
    return st;
}

const char *gov_prices_version(const gov_prices *p)
{
    return p->version;
}

uint32_t gov_prices_count(const gov_prices *p)
{
    return p->n;
}

const gov_price *gov_prices_at(const gov_prices *p, uint32_t i)
{
    return i < p->n ? &p->v[i] : NULL;
}

/* ---- model ids --------------------------------------------------------------------------- */

static bool all_digits(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

bool gov_model_strip_date(gb_str m, gb_str *out)
{
    /* -YYYY-MM-DD */
    if (m.len > 11) {
        const char *t = m.ptr + m.len - 11;
        if (t[0] == '-' && all_digits(t + 1, 4) && t[5] == '-' && all_digits(t + 6, 2) &&
            t[8] == '-' && all_digits(t + 9, 2)) {
            *out = gb_str_n(m.ptr, m.len - 11);
            return true;
        }
    }
    /* -YYYYMMDD, @YYYYMMDD (Vertex AI) */
    if (m.len > 9) {
        const char *t = m.ptr + m.len - 9;
        if ((t[0] == '-' || t[0] == '@') && all_digits(t + 1, 8) && (t[1] == '1' || t[1] == '2')) {
            *out = gb_str_n(m.ptr, m.len - 9);
            return true;
        }
    }
    if (m.len > 7 && strncasecmp(m.ptr + m.len - 7, "-latest", 7) == 0) {
        *out = gb_str_n(m.ptr, m.len - 7);
        return true;
    }
    return false;
}

static bool take_prefix(gb_str *s, const char *const *list)
{
    for (; *list; list++) {
        size_t n = strlen(*list);
        if (s->len > n && strncasecmp(s->ptr, *list, n) == 0) {
            s->ptr += n;
            s->len -= (uint32_t)n;
            return true;
        }
    }
    return false;
}

bool gov_model_strip_vendor(gb_str m, gb_str *out)
{
    static const char *const regions[] = {"us.", "eu.",     "apac.",   "jp.", "au.",
                                          "ca.", "global.", "us-gov.", NULL};
    static const char *const vendors[] = {"anthropic.", "meta.",   "mistral.",  "amazon.",
                                          "cohere.",    "ai21.",   "deepseek.", "openai.",
                                          "qwen.",      "writer.", NULL};
    gb_str s = m;
    take_prefix(&s, regions);
    if (!take_prefix(&s, vendors)) return false;
    /* -vN or -vN:M */
    uint32_t i = s.len;
    while (i > 0 && ((s.ptr[i - 1] >= '0' && s.ptr[i - 1] <= '9') || s.ptr[i - 1] == ':'))
        i--;
    if (i < s.len && i >= 2 && s.ptr[i - 1] == 'v' && s.ptr[i - 2] == '-') s.len = i - 2;
    if (s.len == 0) return false;
    *out = s;
    return true;
}

/* ---- provider families ------------------------------------------------------------------- */

static const char *const FAMILIES[][5] = {
    {"openai", "azure.ai.openai", "azure.ai.inference", "azure", NULL},
    {"gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "google", NULL},
    {"mistral_ai", "mistral", "mistralai", NULL, NULL},
    {"x_ai", "xai", NULL, NULL, NULL},
    {"together", "together_ai", "togetherai", NULL, NULL},
    {"aws.bedrock", "bedrock", "aws_bedrock", NULL, NULL},
};

static int family_of(gb_str p)
{
    for (size_t f = 0; f < sizeof FAMILIES / sizeof FAMILIES[0]; f++)
        for (size_t i = 0; i < 5 && FAMILIES[f][i]; i++)
            if (icmp(p, gb_str_c(FAMILIES[f][i])) == 0) return (int)f;
    return -1;
}

/* ---- lookup ------------------------------------------------------------------------------- */

typedef struct pick {
    const gov_price *best;
    int best_rank;
    int64_t at;
    gb_str provider;
    int family;          /* family of the span's provider, -1 none, -2 not computed yet */
    const gov_prices *p; /* for the entries' families */
    /* every entry considered compared its effective_from with `at` the same way for any time in
     * [valid_from, valid_until): the lookup gives the same answer throughout */
    int64_t valid_from, valid_until;
} pick;

/* How well an entry's provider fits the span's: 2 same name (or the span names none), 1 same
 * family, 0 other. */
static int provider_rank(pick *k, const gov_price *e)
{
    if (k->provider.len == 0 || icmp(k->provider, gb_str_c(e->provider)) == 0) return 2;
    if (k->family == -2) k->family = family_of(k->provider); /* only when names differ */
    return k->family >= 0 && k->family == k->p->family[e - k->p->v] ? 1 : 0;
}

/* Better provider fit first, then the newest effective date, then the later entry (entries loaded
 * from a file come after the built-in ones). */
static void consider(pick *k, const gov_price *e)
{
    if (e->effective_from > k->at) {
        if (e->effective_from < k->valid_until) k->valid_until = e->effective_from;
        return;
    }
    if (e->effective_from > k->valid_from) k->valid_from = e->effective_from;
    int rank = provider_rank(k, e);
    if (!k->best || rank > k->best_rank ||
        (rank == k->best_rank && e->effective_from > k->best->effective_from) ||
        (rank == k->best_rank && e->effective_from == k->best->effective_from && e > k->best)) {
        k->best = e;
        k->best_rank = rank;
    }
}

static void find_exact(const gov_prices *p, gb_str id, pick *k)
{
    size_t lo = 0, hi = p->n_names;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (icmp(p->names[mid].name, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < p->n_names && icmp(p->names[i].name, id) == 0; i++)
        consider(k, &p->v[p->names[i].entry]);
}

/* Tries id, then id without each leading "segment/" in turn. */
static void find_ids(const gov_prices *p, gb_str id, pick *k)
{
    for (;;) {
        find_exact(p, id, k);
        if (k->best && k->best_rank == 2) return;
        const char *slash = memchr(id.ptr, '/', id.len);
        if (!slash) return;
        uint32_t skip = (uint32_t)(slash - id.ptr) + 1;
        id = gb_str_n(id.ptr + skip, id.len - skip);
    }
}

const gov_price *gov_prices_lookup(const gov_prices *p, gb_str provider, gb_str model,
                                   uint64_t at_unix_nano, gov_match_kind *kind,
                                   bool *provider_match)
{
    return gov_prices_lookup_range(p, provider, model, at_unix_nano, kind, provider_match, NULL,
                                   NULL);
}

int64_t gov_prices_at_sec(uint64_t at_unix_nano)
{
    /* at 0 (start time unknown) means now: the newest entry */
    return at_unix_nano ? (int64_t)(at_unix_nano / 1000000000ull) : INT64_MAX;
}

const gov_price *gov_prices_lookup_range(const gov_prices *p, gb_str provider, gb_str model,
                                         uint64_t at_unix_nano, gov_match_kind *kind,
                                         bool *provider_match, int64_t *valid_from,
                                         int64_t *valid_until)
{
    int64_t at = gov_prices_at_sec(at_unix_nano);
    pick k = {NULL, 0, at, provider, -2, p, INT64_MIN, INT64_MAX};
    gov_match_kind mk = GOV_MATCH_NONE;
    if (!p || model.len == 0) goto out;
    find_ids(p, model, &k);
    if (k.best) {
        mk = GOV_MATCH_EXACT;
        goto out;
    }
    gb_str stripped;
    if (gov_model_strip_date(model, &stripped)) {
        find_ids(p, stripped, &k);
        if (k.best) {
            mk = GOV_MATCH_DATED;
            goto out;
        }
    }
    /* Bedrock-style ids: [region.]vendor.model[-vN[:M]] */
    gb_str core;
    if (gov_model_strip_vendor(model, &core)) {
        find_ids(p, core, &k);
        if (!k.best && gov_model_strip_date(core, &stripped)) find_ids(p, stripped, &k);
        if (k.best) {
            mk = GOV_MATCH_VENDOR;
            goto out;
        }
    }
    /* Configured prefixes: the longest one that matches the id or its last path segment. */
    {
        const char *slash = memrchr(model.ptr, '/', model.len);
        gb_str last =
            slash ? gb_str_n(slash + 1, model.len - (uint32_t)(slash + 1 - model.ptr)) : model;
        uint32_t best_len = 0;
        for (uint32_t i = 0; i < p->n_prefixes; i++) {
            gb_str pre = p->prefixes[i].name;
            if (pre.len < best_len) continue;
            bool hit = (model.len >= pre.len && icmp(gb_str_n(model.ptr, pre.len), pre) == 0) ||
                       (last.len >= pre.len && icmp(gb_str_n(last.ptr, pre.len), pre) == 0);
            if (!hit) continue;
            if (pre.len > best_len) {
                k.best = NULL;
                k.best_rank = 0;
                best_len = pre.len;
            }
            consider(&k, &p->v[p->prefixes[i].entry]);
        }
        if (k.best) mk = GOV_MATCH_PREFIX;
    }
out:
    if (kind) *kind = mk;
    if (provider_match) *provider_match = k.best && k.best_rank > 0;
    if (valid_from) *valid_from = k.valid_from;
    if (valid_until) *valid_until = k.valid_until;
    return k.best;
}
