/* Attribute action engine shared by the resource and attributes processors (the equivalent of
 * contrib's internal/coreinternal/attraction): a list of {key, value | from_attribute |
 * from_context, pattern, converted_type, action} applied in order to an attribute map.
 *
 * Compiled once at create (validation, regex translation, value parsing); applied on the data
 * path with no heap allocation: new strings and grown arrays go into the batch arena. */
#ifndef ATTRACTION_H
#define ATTRACTION_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "pdata/pdata.h"

/* ---- config ------------------------------------------------------------------------------ */

typedef struct attraction_cfg {
    char *key;
    const cfg_node *value; /* any scalar: int, double, bool, string */
    char *pattern;
    char *from_attribute;
    char *from_context;
    char *converted_type; /* int | double | string */
    char *action;         /* insert | update | upsert | delete | hash | extract | convert */
} attraction_cfg;

/* Table of one list element (bind a CFG_T_LIST of attraction_cfg with it). */
extern const cfg_table attraction_cfg_table;

/* The cfg_field of a required action list at member of struct type. */
#define ATTRACTION_LIST_FIELD(k, T, member, d)                                                     \
    {                                                                                              \
        .key = k, .type = CFG_T_LIST, .offset = offsetof(T, member), .doc = d,                     \
        .flags = CFG_F_REQUIRED, .sub = &attraction_cfg_table, .elem_size = sizeof(attraction_cfg) \
    }

/* ---- regular expressions ------------------------------------------------------------------- */

/* RE2/Go syntax translated to POSIX extended regex: (?P<name>...) and (?<name>...) become
 * numbered groups remembered by name, (?:...) becomes a plain group, a leading (?i) sets
 * case-insensitive matching, \d \w \s (and upper-case negations) become bracket classes.
 * Lazy quantifiers, other (?...) flags, backreferences and \b \A \z are rejected. */
#define ATTRACTION_MAX_GROUPS 16

typedef struct attraction_regex {
    regex_t re;
    bool compiled;
    uint32_t n_names;
    char *names[ATTRACTION_MAX_GROUPS];    /* group name (heap) */
    uint32_t group[ATTRACTION_MAX_GROUPS]; /* its POSIX group number */
} attraction_regex;

gb_status attraction_regex_compile(const char *pattern, attraction_regex *out, char *err,
                                   size_t errlen);
void attraction_regex_free(attraction_regex *r);
/* Unanchored search in s (not NUL-terminated). m receives up to nm matches (m[0] = whole). */
bool attraction_regex_match(const attraction_regex *r, gb_str s, regmatch_t *m, size_t nm);

/* ---- values -------------------------------------------------------------------------------- */

/* Converts a YAML scalar node to a value: quoted -> string; true/false -> bool; integers
 * (decimal, 0x, 0o) -> int; floats (incl. .inf/.nan) -> double; anything else -> string.
 * Strings point into the node (lives as long as the config doc). Lists and maps are refused. */
gb_status attraction_node_value(const cfg_node *n, pd_any *out, char *err, size_t errlen);

/* SHA-256 of data into out (32 bytes); FIPS 180-4. */
void attraction_sha256(const void *data, size_t len, uint8_t out[32]);

/* ---- compiled actions ---------------------------------------------------------------------- */

typedef enum attraction_kind {
    ATTRACTION_INSERT = 0,
    ATTRACTION_UPDATE,
    ATTRACTION_UPSERT,
    ATTRACTION_DELETE,
    ATTRACTION_HASH,
    ATTRACTION_EXTRACT,
    ATTRACTION_CONVERT,
} attraction_kind;

typedef struct attraction_action {
    attraction_kind kind;
    char *key; /* NULL when a pattern selects keys (delete, hash) */
    bool has_value;
    pd_any value; /* strings point into the config doc */
    char *from_attribute;
    char *from_context;
    attraction_regex *re; /* extract: on the value; delete/hash: on the keys */
    pd_any_type convert_to;
} attraction_action;

typedef struct attraction {
    attraction_action *v;
    uint32_t n;
} attraction;

/* Validates and compiles n actions; on error returns GB_ERR_INVALID with a message naming the
 * action's position ("actions[2]: ...") in err. what is the list's key for messages. */
gb_status attraction_compile(const attraction_cfg *cfg, uint32_t n, const char *what,
                             attraction **out, char *err, size_t errlen);
void attraction_free(attraction *a);

/* Per-batch context: the actions' constant keys and values copied once into the batch arena so
 * that what is inserted lives exactly as long as the batch. */
typedef struct attraction_ctx {
    const attraction *a;
    gb_arena *arena;
    const pd_meta *meta;
    gb_str *keys;       /* per action: key in the arena */
    pd_any *values;     /* per action: value in the arena */
    gb_str *group_keys; /* per action, ATTRACTION_MAX_GROUPS each: extract names in the arena */
} attraction_ctx;

gb_status attraction_ctx_init(attraction_ctx *ctx, const attraction *a, pd_batch *b);
/* Applies every action in order to attrs. */
gb_status attraction_apply(attraction_ctx *ctx, pd_attrs *attrs);

#endif
