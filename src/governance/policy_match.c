/* Policy helpers that need no state: kind / result / action names, the glob of model_allowlist,
 * the attribute equality of match lists and conditions, the content-key set scanned by
 * content_filter, and redaction.
 *
 * How: names are small static tables; globs use the classic linear backtracking matcher (one
 * remembered '*', no recursion, so a hostile pattern such as "*a*a*a*b" costs at most
 * len(p) * len(s) steps, never exponential time or stack); attribute equality parses the
 * configured value as a number when the attribute is numeric instead of formatting the
 * attribute (no buffer, no doubt about how a double prints); content keys are an exact list plus
 * four prefixes. Redaction swaps the value in place for a static "[REDACTED]" string: no copy.
 *
 * Rejected: fnmatch(3) (locale-dependent case folding, '[' classes users would not expect, and
 * it needs NUL-terminated copies of views); regular expressions for blocked patterns (the
 * guide's contract is a case-insensitive substring, and a regex engine on every prompt is a
 * denial-of-service risk). Case folding is ASCII only: non-ASCII bytes compare exactly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "governance/gov_policy.h"

static inline unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool str_ieq(gb_str a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n) return false;
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)a.ptr[i]) != lc((unsigned char)b[i])) return false;
    return true;
}

/* ---- names ------------------------------------------------------------------------------- */

static const char *const k_kinds[] = {
    "cost_limit", "rate_limit", "content_filter", "team_access", "model_allowlist", "condition",
};

const char *gov_policy_kind_str(gov_policy_kind k)
{
    if ((unsigned)k < sizeof(k_kinds) / sizeof(k_kinds[0])) return k_kinds[k];
    return "unknown";
}

bool gov_policy_kind_parse(const char *s, gov_policy_kind *out)
{
    if (!s) return false;
    for (unsigned i = 0; i < sizeof(k_kinds) / sizeof(k_kinds[0]); i++) {
        if (str_ieq(gb_str_c(s), k_kinds[i])) {
            *out = (gov_policy_kind)i;
            return true;
        }
    }
    return false;
}

static const char *const k_results[] = {"passed", "warning", "rate_limited", "blocked"};

const char *gov_policy_result_str(gov_policy_result r)
{
    if ((unsigned)r < sizeof(k_results) / sizeof(k_results[0])) return k_results[r];
    return "unknown";
}

bool gov_policy_result_parse(gb_str s, gov_policy_result *out)
{
    static const struct {
        const char *name;
        gov_policy_result r;
    } words[] = {
        {"passed", GOV_POLICY_PASSED},
        {"allowed", GOV_POLICY_PASSED},
        {"warning", GOV_POLICY_WARNING},
        {"warn", GOV_POLICY_WARNING},
        {"rate_limited", GOV_POLICY_RATE_LIMITED},
        {"blocked", GOV_POLICY_BLOCKED},
        {"block", GOV_POLICY_BLOCKED},
    };
    for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (str_ieq(s, words[i].name)) {
            *out = words[i].r;
            return true;
        }
    }
    return false;
}

static const char *const k_actions[] = {"annotate", "drop", "redact"};

const char *gov_policy_action_str(gov_policy_action a)
{
    if ((unsigned)a < sizeof(k_actions) / sizeof(k_actions[0])) return k_actions[a];
    return "unknown";
}

bool gov_policy_action_parse(gb_str s, gov_policy_action *out)
{
    for (unsigned i = 0; i < sizeof(k_actions) / sizeof(k_actions[0]); i++) {
        if (str_ieq(s, k_actions[i])) {
            *out = (gov_policy_action)i;
            return true;
        }
    }
    return false;
}

/* ---- glob -------------------------------------------------------------------------------- */

bool gov_glob_match(gb_str pattern, gb_str s)
{
    uint32_t pi = 0, si = 0, star = UINT32_MAX, mark = 0;
    while (si < s.len) {
        if (pi < pattern.len && pattern.ptr[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < pattern.len &&
                   (pattern.ptr[pi] == '?' ||
                    lc((unsigned char)pattern.ptr[pi]) == lc((unsigned char)s.ptr[si]))) {
            pi++;
            si++;
        } else if (star != UINT32_MAX) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pattern.len && pattern.ptr[pi] == '*')
        pi++;
    return pi == pattern.len;
}

/* ---- attribute equality ------------------------------------------------------------------ */

/* Parses all of s as a number; false on junk, overflow or an empty string. */
static bool parse_int(const char *s, int64_t *out)
{
    if (!*s) return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    if (!*s) return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool gov_attr_match_holds(const gov_attr_match *m, const pd_attrs *span, const pd_attrs *resource)
{
    if (!m || !m->key || !m->value) return false;
    gb_str key = gb_str_c(m->key);
    const pd_kv *kv = span ? pd_attrs_find(span, key) : NULL;
    if (!kv && resource) kv = pd_attrs_find(resource, key);
    if (!kv) return false;
    const pd_any *v = &kv->value;
    int64_t i;
    double d;
    switch (v->type) {
    case PD_ANY_STR:
        return gb_str_eq_c(v->u.str, m->value);
    case PD_ANY_BOOL:
        return str_ieq(gb_str_c(v->u.b ? "true" : "false"), m->value);
    case PD_ANY_INT:
        if (parse_int(m->value, &i)) return i == v->u.i;
        return parse_double(m->value, &d) && d == (double)v->u.i;
    case PD_ANY_DOUBLE:
        return parse_double(m->value, &d) && d == v->u.d;
    default:
        return false;
    }
}

/* ---- content keys and redaction ---------------------------------------------------------- */

#define KEY(s)                                                                                     \
    {                                                                                              \
        (s), (uint32_t)(sizeof(s) - 1)                                                             \
    }

bool gov_is_content_key(gb_str key)
{
    static const gb_str exact[] = {
        KEY("gen_ai.prompt"),
        KEY("gen_ai.completion"),
        KEY("gen_ai.input.messages"),
        KEY("gen_ai.output.messages"),
        KEY("gen_ai.system_instructions"),
        KEY("gen_ai.content.prompt"),
        KEY("gen_ai.content.completion"),
        KEY("llm.prompts"),
        KEY("llm.input_messages"),
        KEY("llm.output_messages"),
        KEY("input.value"),
        KEY("output.value"),
    };
    static const gb_str prefixes[] = {
        KEY("gen_ai.prompt."),
        KEY("gen_ai.completion."),
        KEY("llm.input_messages."),
        KEY("llm.output_messages."),
    };
    if (key.len < 11) return false; /* shorter than "input.value" */
    for (unsigned i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (gb_str_eq(key, exact[i])) return true;
    for (unsigned i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (key.len > prefixes[i].len && gb_str_has_prefix(key, prefixes[i])) return true;
    return false;
}

#undef KEY

gb_status gov_policy_redact(gb_arena *arena, pd_attrs *attrs, uint32_t *count)
{
    (void)arena;
    uint32_t n = 0;
    if (attrs) {
        for (uint32_t i = 0; i < attrs->n; i++) {
            if (!gov_is_content_key(attrs->v[i].key)) continue;
            attrs->v[i].value = pd_any_str(GB_STR_LIT("[REDACTED]"));
            n++;
        }
    }
    if (count) *count = n;
    return GB_OK;
}
