/* Loading user price files: our YAML schema and LiteLLM's model_prices_and_context_window.json.
 *
 * YAML (parsed by src/config, so every error carries file:line:col):
 *   version: "acme-2026-11"          # optional, names the table in pricing_version
 *   prices:
 *     - provider: openai              # required (renamed like span providers)
 *       model: gpt-4o                 # required
 *       aliases: [gpt-4o-azure]       # exact alternative ids
 *       prefixes: [ft:gpt-4o]         # id prefixes (longest wins, tried last)
 *       effective_from: 2026-01-01    # date (UTC); default: always
 *       input: 2.50                   # USD per 1M tokens, required
 *       output: 10.00                 # required
 *       cache_read: 1.25              # optional: absent = unknown
 *       cache_write: 3.125            # optional
 *       tiers: [{above_input_tokens: 200000, input: 5, output: 15}]
 *       source: "vendor page"         # optional
 *       checked: 2026-11-20           # optional
 * Prices are decimal text converted exactly to micro-USD per 1M tokens (more than six decimals
 * round half-up). Every problem is reported, then nothing is applied.
 *
 * LiteLLM JSON: per-token USD costs (input_cost_per_token, output_cost_per_token,
 * cache_read_input_token_cost, cache_creation_input_token_cost, and the *_above_<N>k_tokens
 * variants as tiers) times 1e6 -> per 1M. Entries without input or output cost (images, audio,
 * "sample_spec") are skipped. A "<provider>/" prefix on the key is dropped from the model id and
 * kept as an alias.
 *
 * Strings are copied into the table's arena; the parsed documents are freed before returning.
 * Rejected: cfg_bind for the YAML (its doubles would lose the exact decimal prices). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "governance/gov_internal.h"

#define MAX_ENTRIES 100000u

typedef struct loader {
    gov_prices *p;
    gb_arena *arena; /* where strings go (p->arena) */
    gov_price *v;
    uint32_t n, cap;
    cfg_diags *d;
    const char *file;
    bool failed;
} loader;

static const char *dup(loader *l, const char *s)
{
    gb_str out;
    if (gb_arena_dup(l->arena, s, strlen(s), &out) != GB_OK) {
        l->failed = true;
        return "";
    }
    return out.ptr;
}

static gov_price *push(loader *l)
{
    if (l->n == l->cap) {
        if (l->cap >= MAX_ENTRIES) return NULL;
        uint32_t nc = l->cap ? l->cap * 2 : 64;
        gov_price *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return NULL;
        l->v = nv;
        l->cap = nc;
    }
    gov_price *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->rates = (gov_rates){GOV_PRICE_ABSENT, GOV_PRICE_ABSENT, GOV_PRICE_ABSENT, GOV_PRICE_ABSENT};
    return e;
}

/* "2.50" -> 2500000 (micro-USD per 1M tokens). Exact for up to 6 decimals; exponents go through
 * strtod. */
static bool parse_price(const char *s, int64_t *out)
{
    const char *c = s;
    int64_t whole = 0, frac = 0;
    int nfrac = 0;
    bool any = false, round_up = false;
    if (*c == '+') c++;
    for (; isdigit((unsigned char)*c); c++, any = true) {
        if (whole > 9000000000000LL) return false;
        whole = whole * 10 + (*c - '0');
    }
    if (*c == '.') {
        c++;
        for (; isdigit((unsigned char)*c); c++, any = true) {
            if (nfrac < 6) {
                frac = frac * 10 + (*c - '0');
                nfrac++;
            } else if (nfrac == 6) {
                round_up = *c >= '5';
                nfrac++;
            }
        }
    }
    if (!any) return false;
    if (*c == 'e' || *c == 'E') {
        char *end = NULL;
        errno = 0;
        double d = strtod(s, &end);
        if (errno || !end || *end || !isfinite(d) || d < 0 || d > 9.0e12) return false;
        *out = llround(d * 1e6);
        return true;
    }
    if (*c) return false;
    for (int i = nfrac > 6 ? 6 : nfrac; i < 6; i++)
        frac *= 10;
    *out = whole * 1000000 + frac + (round_up ? 1 : 0);
    return true;
}

/* "YYYY-MM-DD" (optionally followed by "T..." which is ignored) -> unix seconds. */
static bool parse_date(const char *s, int64_t *out)
{
    for (int i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i])) return false;
    if (s[10] && s[10] != 'T' && s[10] != ' ') return false;
    int y = atoi(s), m = atoi(s + 5), dd = atoi(s + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || dd < 1 || dd > mdays[m - 1]) return false;
    if (m == 2 && dd == 29 && !gov_is_leap(y)) return false;
    *out = gov_days_from_civil(y, m, dd) * 86400;
    return true;
}

/* ---- YAML --------------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static void err(loader *l, const cfg_node *n,
                                                      const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_addv(l->d, CFG_ERROR, n->mark, path, fmt, ap);
    va_end(ap);
    l->failed = true;
}

static const char *yaml_str(loader *l, const cfg_node *n, const char *path)
{
    const char *s = cfg_node_scalar(n);
    if (!s || !*s) {
        err(l, n, path, "expected a non-empty string, got %s",
            s ? "\"\"" : cfg_node_kind_name(n->kind));
        return NULL;
    }
    return s;
}

static void yaml_price(loader *l, const cfg_node *n, const char *path, int64_t *out)
{
    const char *s = cfg_node_scalar(n);
    if (!s || !parse_price(s, out))
        err(l, n, path, "expected a price in USD per 1M tokens (a number >= 0), got \"%s\"",
            s ? s : cfg_node_kind_name(n->kind));
}

static const char *const *yaml_strings(loader *l, const cfg_node *n, const char *path)
{
    if (n->kind != CFG_NODE_SEQ) {
        err(l, n, path, "expected a list of strings, got %s", cfg_node_kind_name(n->kind));
        return NULL;
    }
    const char **v = gb_arena_calloc(l->arena, n->n_items + 1, sizeof *v);
    if (!v) {
        l->failed = true;
        return NULL;
    }
    for (uint32_t i = 0; i < n->n_items; i++) {
        const char *s = yaml_str(l, n->items[i], path);
        v[i] = s ? dup(l, s) : "";
    }
    return v;
}

static const char *const ENTRY_KEYS[] = {"provider",       "model", "aliases", "prefixes",
                                         "effective_from", "input", "output",  "cache_read",
                                         "cache_write",    "tiers", "source",  "checked"};
static const char *const TIER_KEYS[] = {"above_input_tokens", "input", "output", "cache_read",
                                        "cache_write"};

static void unknown_key(loader *l, const cfg_pair *pr, const char *path, const char *const *keys,
                        size_t nk)
{
    const char *hint = cfg_did_you_mean(pr->key, keys, nk);
    char msg[160];
    snprintf(msg, sizeof msg, "unknown key \"%.60s\"%s%.40s%s", pr->key,
             hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
    cfg_diag_add(l->d, CFG_ERROR, pr->key_mark, path, "%s", msg);
    l->failed = true;
}

static void yaml_tier(loader *l, const cfg_node *n, const char *path, gov_price_tier *t)
{
    t->above_input = -1;
    t->rates = (gov_rates){GOV_PRICE_ABSENT, GOV_PRICE_ABSENT, GOV_PRICE_ABSENT, GOV_PRICE_ABSENT};
    if (n->kind != CFG_NODE_MAP) {
        err(l, n, path, "expected a map, got %s", cfg_node_kind_name(n->kind));
        return;
    }
    for (uint32_t i = 0; i < n->n_pairs; i++) {
        const cfg_pair *pr = &n->pairs[i];
        const char *k = pr->key;
        if (!strcmp(k, "above_input_tokens")) {
            const char *s = cfg_node_scalar(pr->value);
            char *end = NULL;
            long long v = s ? strtoll(s, &end, 10) : -1;
            if (!s || !*s || *end || v <= 0)
                err(l, pr->value, path, "above_input_tokens must be a positive integer, got \"%s\"",
                    s ? s : cfg_node_kind_name(pr->value->kind));
            else
                t->above_input = v;
        } else if (!strcmp(k, "input"))
            yaml_price(l, pr->value, path, &t->rates.input);
        else if (!strcmp(k, "output"))
            yaml_price(l, pr->value, path, &t->rates.output);
        else if (!strcmp(k, "cache_read"))
            yaml_price(l, pr->value, path, &t->rates.cache_read);
        else if (!strcmp(k, "cache_write"))
            yaml_price(l, pr->value, path, &t->rates.cache_write);
        else
            unknown_key(l, pr, path, TIER_KEYS, sizeof TIER_KEYS / sizeof *TIER_KEYS);
    }
    if (t->above_input < 0 && !cfg_node_get(n, "above_input_tokens"))
        err(l, n, path, "missing required key \"%s\"", "above_input_tokens");
}

static void yaml_entry(loader *l, cfg_doc *doc, const cfg_node *n, const char *path)
{
    if (n->kind != CFG_NODE_MAP) {
        err(l, n, path, "expected a map, got %s", cfg_node_kind_name(n->kind));
        return;
    }
    gov_price *e = push(l);
    if (!e) {
        err(l, n, path, "too many price entries (limit %s)", "100000");
        return;
    }
    e->checked = "unchecked";
    e->source = l->file;
    for (uint32_t i = 0; i < n->n_pairs; i++) {
        const cfg_pair *pr = &n->pairs[i];
        const char *k = pr->key;
        const cfg_node *v = pr->value;
        char *kp = cfg_path_key(doc, path, k);
        if (!strcmp(k, "provider")) {
            const char *s = yaml_str(l, v, kp);
            if (s) {
                gb_str c = gov_provider_canonical(gb_str_c(s));
                gb_str o;
                if (gb_arena_dup(l->arena, c.ptr, c.len, &o) != GB_OK) l->failed = true;
                e->provider = o.ptr;
            }
        } else if (!strcmp(k, "model")) {
            const char *s = yaml_str(l, v, kp);
            if (s) e->model = dup(l, s);
        } else if (!strcmp(k, "aliases"))
            e->aliases = yaml_strings(l, v, kp);
        else if (!strcmp(k, "prefixes"))
            e->prefixes = yaml_strings(l, v, kp);
        else if (!strcmp(k, "effective_from") || !strcmp(k, "checked")) {
            const char *s = cfg_node_scalar(v);
            int64_t t;
            if (!s || !parse_date(s, &t))
                err(l, v, kp, "expected a date YYYY-MM-DD, got \"%s\"",
                    s ? s : cfg_node_kind_name(v->kind));
            else if (k[0] == 'e')
                e->effective_from = t;
            else
                e->checked = dup(l, s);
        } else if (!strcmp(k, "input"))
            yaml_price(l, v, kp, &e->rates.input);
        else if (!strcmp(k, "output"))
            yaml_price(l, v, kp, &e->rates.output);
        else if (!strcmp(k, "cache_read"))
            yaml_price(l, v, kp, &e->rates.cache_read);
        else if (!strcmp(k, "cache_write"))
            yaml_price(l, v, kp, &e->rates.cache_write);
        else if (!strcmp(k, "source")) {
            const char *s = yaml_str(l, v, kp);
            if (s) e->source = dup(l, s);
        } else if (!strcmp(k, "tiers")) {
            if (v->kind != CFG_NODE_SEQ) {
                err(l, v, kp, "expected a list of tiers, got %s", cfg_node_kind_name(v->kind));
                continue;
            }
            if (v->n_items > GOV_MAX_TIERS) {
                err(l, v, kp, "at most %s tiers per entry", "4");
                continue;
            }
            for (uint32_t t = 0; t < v->n_items; t++) {
                yaml_tier(l, v->items[t], cfg_path_index(doc, kp, t), &e->tiers[t]);
                if (t > 0 && e->tiers[t].above_input <= e->tiers[t - 1].above_input)
                    err(l, v->items[t], cfg_path_index(doc, kp, t),
                        "tiers must be in increasing above_input_tokens order%s", "");
            }
            e->n_tiers = v->n_items;
        } else
            unknown_key(l, pr, path, ENTRY_KEYS, sizeof ENTRY_KEYS / sizeof *ENTRY_KEYS);
    }
    static const char *const required[] = {"provider", "model", "input", "output"};
    for (size_t i = 0; i < 4; i++)
        if (!cfg_node_get(n, required[i]))
            err(l, n, path, "missing required key \"%s\"", required[i]);
}

static gb_status finish(loader *l, const char *origin)
{
    gb_status st = GB_OK;
    if (l->failed) {
        st = GB_ERR_INVALID;
        goto out;
    }
    const char *old = l->p->origin;
    l->p->origin = origin; /* before the merge: it names the version the merge computes */
    st = gov_prices_merge(l->p, l->v, l->n);
    if (st != GB_OK) l->p->origin = old;
out:
    free(l->v);
    l->v = NULL;
    return st;
}

/* Applies a parsed document (doc->root) to p. */
static gb_status load_doc(gov_prices *p, cfg_doc *doc, const char *name, cfg_diags *d)
{
    loader l = {p, &p->arena, NULL, 0, 0, d, NULL, false};
    l.file = dup(&l, name);
    const char *origin = "custom";
    for (uint32_t i = 0; i < doc->root->n_pairs; i++) {
        const cfg_pair *pr = &doc->root->pairs[i];
        if (!strcmp(pr->key, "prices")) {
            const cfg_node *v = pr->value;
            if (v->kind != CFG_NODE_SEQ) {
                err(&l, v, "prices", "expected a list of price entries, got %s",
                    cfg_node_kind_name(v->kind));
                continue;
            }
            for (uint32_t j = 0; j < v->n_items; j++)
                yaml_entry(&l, doc, v->items[j], cfg_path_index(doc, "prices", j));
        } else if (!strcmp(pr->key, "version")) {
            const char *s = yaml_str(&l, pr->value, "version");
            if (s) origin = dup(&l, s);
        } else {
            static const char *const top[] = {"prices", "version"};
            unknown_key(&l, pr, "", top, 2);
        }
    }
    if (!cfg_node_get(doc->root, "prices"))
        err(&l, doc->root, "", "missing required key \"%s\"", "prices");
    return finish(&l, origin);
}

gb_status gov_prices_load_yaml(gov_prices *p, const char *name, const char *text, size_t len,
                               cfg_diags *d)
{
    cfg_doc doc;
    cfg_doc_init(&doc);
    gb_status st = cfg_doc_parse(&doc, name, text, len, d);
    if (st == GB_OK) st = load_doc(p, &doc, name, d);
    cfg_doc_free(&doc);
    return st;
}

gb_status gov_prices_load_entries(gov_prices *p, const cfg_node *list, const char *path,
                                  cfg_diags *d)
{
    cfg_doc scratch; /* only holds the paths of messages */
    cfg_doc_init(&scratch);
    loader l = {p, &p->arena, NULL, 0, 0, d, NULL, false};
    l.file = dup(&l, list && list->mark.file ? list->mark.file : "config");
    if (!list || list->kind != CFG_NODE_SEQ) {
        if (list)
            err(&l, list, path, "expected a list of price entries, got %s",
                cfg_node_kind_name(list->kind));
    } else {
        for (uint32_t j = 0; j < list->n_items; j++)
            yaml_entry(&l, &scratch, list->items[j], cfg_path_index(&scratch, path, j));
    }
    /* the table is no longer the built-in one once entries are added */
    const char *origin =
        !strcmp(p->origin, "builtin") || !strcmp(p->origin, "empty") ? "custom" : p->origin;
    gb_status st = finish(&l, origin);
    cfg_doc_free(&scratch);
    return st;
}

/* ---- LiteLLM JSON ------------------------------------------------------------------------ */

static const struct {
    const char *litellm;
    const char *otel;
} LITELLM_PROVIDERS[] = {
    {"openai", "openai"},
    {"text-completion-openai", "openai"},
    {"azure", "azure.ai.openai"},
    {"azure_ai", "azure.ai.inference"},
    {"anthropic", "anthropic"},
    {"gemini", "gcp.gemini"},
    {"vertex_ai", "gcp.vertex_ai"},
    {"bedrock", "aws.bedrock"},
    {"bedrock_converse", "aws.bedrock"},
    {"mistral", "mistral_ai"},
    {"groq", "groq"},
    {"together_ai", "together"},
    {"xai", "x_ai"},
    {"deepseek", "deepseek"},
    {"cohere", "cohere"},
    {"cohere_chat", "cohere"},
    {"perplexity", "perplexity"},
    {"watsonx", "ibm.watsonx.ai"},
};

static const char *litellm_provider(const char *p)
{
    for (size_t i = 0; i < sizeof LITELLM_PROVIDERS / sizeof *LITELLM_PROVIDERS; i++)
        if (!strcmp(p, LITELLM_PROVIDERS[i].litellm)) return LITELLM_PROVIDERS[i].otel;
    if (!strncmp(p, "vertex_ai", 9))
        return "gcp.vertex_ai"; /* vertex_ai-language-models, vertex_ai-anthropic_models, ... */
    return NULL;
}

/* A per-token USD cost -> micro-USD per 1M tokens; false (with a diagnostic) when invalid. */
static bool lite_cost(loader *l, json_t *o, const char *key, const char *model, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return true;
    double x = json_is_real(v)      ? json_real_value(v)
               : json_is_integer(v) ? (double)json_integer_value(v)
                                    : -1;
    if (!(x >= 0 && x < 1e6)) {
        cfg_diag_add(l->d, CFG_ERROR, (cfg_mark){l->file, 0, 0}, model, "%s must be a number >= 0",
                     key);
        l->failed = true;
        return false;
    }
    *out = llround(x * 1e12);
    return true;
}

gb_status gov_prices_load_litellm(gov_prices *p, const char *name, const char *text, size_t len,
                                  cfg_diags *d)
{
    gb_status st = GB_OK;
    loader l = {p, &p->arena, NULL, 0, 0, d, NULL, false};
    l.file = dup(&l, name);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root || !json_is_object(root)) {
        cfg_diag_add(
            d, CFG_ERROR,
            (cfg_mark){l.file, root ? 1 : (uint32_t)je.line, root ? 1 : (uint32_t)je.column}, "",
            "%s", root ? "expected a JSON object of models" : je.text);
        st = GB_ERR_INVALID;
        goto out;
    }
    const char *key;
    json_t *o;
    json_object_foreach(root, key, o)
    {
        if (!json_is_object(o) || !strcmp(key, "sample_spec")) continue;
        json_t *in = json_object_get(o, "input_cost_per_token");
        json_t *outc = json_object_get(o, "output_cost_per_token");
        if (!json_is_number(in) || !json_is_number(outc)) continue;
        const char *lp = json_string_value(json_object_get(o, "litellm_provider"));
        const char *prov = lp ? litellm_provider(lp) : NULL;
        gov_price *e = push(&l);
        if (!e) {
            cfg_diag_add(d, CFG_ERROR, (cfg_mark){l.file, 0, 0}, key, "too many entries%s", "");
            l.failed = true;
            break;
        }
        e->provider = prov ? prov : lp ? dup(&l, lp) : "unknown";
        e->model = dup(&l, key);
        /* "gemini/gemini-1.5-pro" -> model "gemini-1.5-pro", alias the full key */
        const char *slash = strchr(key, '/');
        if (slash && lp && (size_t)(slash - key) == strlen(lp) && !strncmp(key, lp, strlen(lp))) {
            const char **al = gb_arena_calloc(l.arena, 2, sizeof *al);
            if (!al)
                l.failed = true;
            else {
                al[0] = e->model;
                e->aliases = al;
                e->model = dup(&l, slash + 1);
            }
        }
        lite_cost(&l, o, "input_cost_per_token", key, &e->rates.input);
        lite_cost(&l, o, "output_cost_per_token", key, &e->rates.output);
        lite_cost(&l, o, "cache_read_input_token_cost", key, &e->rates.cache_read);
        lite_cost(&l, o, "cache_creation_input_token_cost", key, &e->rates.cache_write);
        /* tiers: <base>_above_<N>k_tokens */
        const char *tk;
        json_t *tv;
        json_object_foreach(o, tk, tv)
        {
            const char *ab = strstr(tk, "_above_");
            if (!ab) continue;
            char *end = NULL;
            long long kt = strtoll(ab + 7, &end, 10);
            if (kt <= 0 || !end || strcmp(end, "k_tokens") != 0) continue;
            size_t bl = (size_t)(ab - tk);
            int which = -1; /* 0 input, 1 output, 2 cache read, 3 cache write */
            if (bl == 20 && !strncmp(tk, "input_cost_per_token", bl))
                which = 0;
            else if (bl == 21 && !strncmp(tk, "output_cost_per_token", bl))
                which = 1;
            else if (bl == 27 && !strncmp(tk, "cache_read_input_token_cost", bl))
                which = 2;
            else if (bl == 31 && !strncmp(tk, "cache_creation_input_token_cost", bl))
                which = 3;
            if (which < 0) continue; /* other per-unit costs are not priced */
            uint32_t t;
            for (t = 0; t < e->n_tiers; t++)
                if (e->tiers[t].above_input == kt * 1000) break;
            if (t == e->n_tiers) {
                if (e->n_tiers == GOV_MAX_TIERS) continue;
                e->tiers[t].above_input = kt * 1000;
                e->tiers[t].rates = (gov_rates){GOV_PRICE_ABSENT, GOV_PRICE_ABSENT,
                                                GOV_PRICE_ABSENT, GOV_PRICE_ABSENT};
                e->n_tiers++;
            }
            gov_rates *r = &e->tiers[t].rates;
            int64_t *slots[] = {&r->input, &r->output, &r->cache_read, &r->cache_write};
            lite_cost(&l, o, tk, key, slots[which]);
        }
        /* keep tiers ascending */
        for (uint32_t a = 1; a < e->n_tiers; a++)
            for (uint32_t b = a; b > 0 && e->tiers[b].above_input < e->tiers[b - 1].above_input;
                 b--) {
                gov_price_tier x = e->tiers[b];
                e->tiers[b] = e->tiers[b - 1];
                e->tiers[b - 1] = x;
            }
        e->source = "LiteLLM model_prices_and_context_window.json";
        e->checked = "unchecked";
    }
    st = finish(&l, "litellm");
out:
    free(l.v);
    json_decref(root);
    return st;
}

static gb_status load_json_file(gov_prices *p, const char *path, cfg_diags *d)
{
    gb_status st = GB_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "", "cannot open: %s", strerror(errno));
        st = GB_ERR_IO;
        goto out;
    }
    size_t cap = 1 << 16, n = 0;
    buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= CFG_MAX_FILE_BYTES * 4u) {
                cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "", "file larger than %u bytes",
                             CFG_MAX_FILE_BYTES * 4u);
                st = GB_ERR_LIMIT;
                goto out;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (!buf) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    if (ferror(f)) {
        cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "", "read error%s", "");
        st = GB_ERR_IO;
        goto out;
    }
    st = gov_prices_load_litellm(p, path, buf, n, d);
out:
    if (f) fclose(f);
    free(buf);
    return st;
}

gb_status gov_prices_load_file(gov_prices *p, const char *path, cfg_diags *d)
{
    size_t pl = strlen(path);
    if (pl > 5 && !strcmp(path + pl - 5, ".json")) return load_json_file(p, path, d);
    cfg_doc doc;
    cfg_doc_init(&doc);
    gb_status st = cfg_doc_load_file(&doc, path, d);
    if (st == GB_OK) st = load_doc(p, &doc, path, d);
    cfg_doc_free(&doc);
    return st;
}
