/* Configuration: YAML -> node tree with file:line:col on every node, ${env:X} expansion, deep
 * merge of several files, --set overrides, schema binding from per-component config tables, and
 * compiler-style diagnostics collected all at once.
 *
 * Ownership: a cfg_doc owns every node, string and bound value (one arena). Bound component
 * configs point into it, so the doc lives as long as the running pipelines that use it.
 * Not thread-safe; used on the control path only. */
#ifndef CFG_CONFIG_H
#define CFG_CONFIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/arena.h"
#include "../base/sbuf.h"
#include "../base/status.h"

/* ---- diagnostics ------------------------------------------------------------------------- */

typedef struct cfg_mark {
    const char *file; /* "config.yaml", "--set", "<embedded>" */
    uint32_t line;    /* 1-based; 0 = unknown */
    uint32_t col;     /* 1-based */
} cfg_mark;

typedef enum cfg_severity {
    CFG_WARNING,
    CFG_ERROR,
} cfg_severity;

typedef struct cfg_diag {
    cfg_severity severity;
    cfg_mark mark;
    char *path;    /* dotted key path, e.g. receivers.otlp.protocols.http.endpoint (may be "") */
    char *message; /* e.g. invalid port "43l8" */
} cfg_diag;

typedef struct cfg_diags {
    cfg_diag *v;
    uint32_t n;
    uint32_t cap;
    uint32_t errors;
    uint32_t warnings;
} cfg_diags;

void cfg_diags_init(cfg_diags *d);
void cfg_diags_free(cfg_diags *d);
void cfg_diag_add(cfg_diags *d, cfg_severity sev, cfg_mark mark, const char *path, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
/* Renders "file:line:col: error: path: message" lines, sorted by file and position. */
void cfg_diags_render(const cfg_diags *d, gb_sbuf *out);
/* Nearest candidate by edit distance for "did you mean"; NULL if none is close enough. */
const char *cfg_did_you_mean(const char *word, const char *const *candidates, size_t n);

/* Limits (bad input gets an error, never unbounded memory). */
#define CFG_MAX_DEPTH       64u         /* nesting of maps and sequences */
#define CFG_MAX_ALIAS_NODES 100000u     /* nodes created by expanding aliases, per document */
#define CFG_MAX_FILE_BYTES  (16u << 20) /* a config file */
#define CFG_MAX_FILE_VALUE  (1u << 20)  /* one ${file:...} value */
#define CFG_MAX_DIAGS       1000u       /* kept diagnostics; more are only counted */

/* va_list form of cfg_diag_add. */
void cfg_diag_addv(cfg_diags *d, cfg_severity sev, cfg_mark mark, const char *path, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));

/* ---- node tree ----------------------------------------------------------------------------- */

typedef enum cfg_node_kind {
    CFG_NODE_NULL,
    CFG_NODE_SCALAR,
    CFG_NODE_MAP,
    CFG_NODE_SEQ,
} cfg_node_kind;

typedef struct cfg_node cfg_node;
typedef struct cfg_table cfg_table;

typedef struct cfg_pair {
    char *key;
    cfg_mark key_mark;
    cfg_node *value;
} cfg_pair;

struct cfg_node {
    cfg_node_kind kind;
    cfg_mark mark;
    /* SCALAR */
    char *scalar;  /* after ${...} expansion and $$ unescaping ("" for NULL nodes, never NULL) */
    bool quoted;   /* written as a quoted scalar (so "true"/"null" stay strings) */
    char *env_var; /* set when the whole or part of the value came from ${env:...}: the variable
                      names, comma-separated ("API_KEY" or "HOST,PORT") */
    /* MAP */
    cfg_pair *pairs;
    uint32_t n_pairs;
    /* SEQ */
    cfg_node **items;
    uint32_t n_items;
};

typedef struct cfg_doc {
    gb_arena arena;
    cfg_node *root; /* a MAP (empty map for an empty document) */
    /* internal: file names already copied into the arena, for marks */
    const char *files[8];
    uint32_t n_files;
} cfg_doc;

/* Parses YAML text. name is used in marks. Parse errors and env problems go to d; returns
 * GB_ERR_INVALID when the document cannot be used (root is then still a valid, possibly empty
 * map). ${...} references in values are expanded here, once; see docs/internals/config.md. The
 * doc must have been initialized with cfg_doc_init; a second parse replaces root. */
gb_status cfg_doc_parse(cfg_doc *doc, const char *name, const char *text, size_t len, cfg_diags *d);
/* Reads and parses a file; GB_ERR_IO (with a diagnostic) when it cannot be read. */
gb_status cfg_doc_load_file(cfg_doc *doc, const char *path, cfg_diags *d);
/* Deep-merges src into dst: maps merge key by key, everything else (lists too) is replaced.
 * src nodes are copied into dst's arena (src may be freed after); marks keep their file. */
gb_status cfg_doc_merge(cfg_doc *dst, const cfg_doc *src);
/* Applies one --set: "a::b::c=value" (otelcol form) or "a.b.c=value" when no "::" appears;
 * value parsed as YAML (scalar or flow; empty = null) and merged like one more file. Marks are on
 * the file "--set", line 1, column of the text inside the assignment. GB_ERR_INVALID (with a
 * diagnostic) leaves the doc unchanged. */
gb_status cfg_doc_set(cfg_doc *doc, const char *assignment, cfg_diags *d);
void cfg_doc_init(cfg_doc *doc);
void cfg_doc_free(cfg_doc *doc);
/* Writes the tree back as YAML (print-config). Secrets are printed as "[REDACTED]" when their
 * key is listed in secret_keys (NULL-terminated; matched on the last path element). */
void cfg_node_emit_yaml(const cfg_node *n, gb_sbuf *out, const char *const *secret_keys);

/* Map lookup by key; NULL if n is not a map or has no such key. */
cfg_node *cfg_node_get(const cfg_node *n, const char *key);
const cfg_pair *cfg_node_get_pair(const cfg_node *n, const char *key);

/* ---- helpers for the CLI and the pipeline builder -------------------------------------------- */

/* "null", "scalar", "map", "sequence". */
const char *cfg_node_kind_name(cfg_node_kind k);
/* True for a NULL pointer or a CFG_NODE_NULL node. */
bool cfg_node_is_null(const cfg_node *n);
/* The scalar text, or NULL if n is not a SCALAR. */
const char *cfg_node_scalar(const cfg_node *n);
/* The pairs of a map in document order (*n = count); NULL and 0 if n is not a map. */
const cfg_pair *cfg_node_pairs(const cfg_node *n, uint32_t *count);
/* Lookup by a path of map keys split on sep, e.g. cfg_node_find(root, "service::pipelines",
 * "::"); NULL when absent. */
cfg_node *cfg_node_find(const cfg_node *n, const char *path, const char *sep);
/* Structural equality: same kinds, keys (in order), texts, and the same YAML type for scalars
 * (a quoted "true" is a string, a plain true is a bool). Marks and env_var are ignored. */
bool cfg_node_equal(const cfg_node *a, const cfg_node *b);
/* Describes a scalar for a diagnostic: `"43l8"`, `"43l8" (from ${env:PORT})`, and with
 * secret "value hidden" / "value hidden, from ${env:TOKEN}". Maps and sequences are "a map" /
 * "a sequence", null is "null". Always NUL-terminates out (truncating). */
void cfg_node_describe_value(const cfg_node *n, bool secret, char *out, size_t cap);
/* Dotted paths for messages, allocated in the doc arena: cfg_path_key("a.b", "c") = "a.b.c"
 * (just "c" when parent is NULL or ""), cfg_path_index("a.b", 2) = "a.b[2]". NULL on OOM. */
char *cfg_path_key(cfg_doc *doc, const char *parent, const char *key);
char *cfg_path_index(cfg_doc *doc, const char *parent, uint32_t i);
/* Copies a string into the doc arena (NULL on OOM). */
char *cfg_doc_strdup(cfg_doc *doc, const char *s);
/* Parses one YAML value (scalar, flow or block collection) into a node of doc, without the
 * top-level-map requirement; used for --set values and defaults. name/line/col place its marks
 * (col is the column of text[0]). Env expansion applies; path names the key in messages. */
gb_status cfg_doc_parse_value(cfg_doc *doc, const char *name, uint32_t line, uint32_t col,
                              const char *text, size_t len, const char *path, cfg_node **out,
                              cfg_diags *d);
/* Collects the keys of every CFG_F_SECRET field of t (recursively, without duplicates) into
 * keys[*n..cap-1], for cfg_node_emit_yaml's secret_keys. Keeps keys NULL-terminated when there is
 * room. */
void cfg_table_secret_keys(const cfg_table *t, const char **keys, size_t *n, size_t cap);

/* ---- schema binding ---------------------------------------------------------------------- */

typedef enum cfg_type {
    CFG_T_BOOL,     /* bool */
    CFG_T_INT,      /* int64_t */
    CFG_T_DOUBLE,   /* double */
    CFG_T_STRING,   /* char * (NUL-terminated, in the doc arena; NULL when unset and no default) */
    CFG_T_DURATION, /* int64_t nanoseconds; "5s", "250ms", "1h30m", bare integers are ns */
    CFG_T_ENUM,     /* int: index into enum_names */
    CFG_T_STRINGS,  /* cfg_strings (YAML sequence of scalars) */
    CFG_T_STRMAP,   /* cfg_strmap (YAML map of scalar values), e.g. headers */
    CFG_T_SECTION,  /* nested struct at offset, bound with sub */
    CFG_T_LIST,     /* cfg_list of elem_size structs, each bound with sub */
    CFG_T_ANY,      /* const cfg_node * kept as is (component interprets it) */
} cfg_type;

typedef struct cfg_strings {
    char **v;
    uint32_t n;
} cfg_strings;

typedef struct cfg_strmap {
    char **keys;
    char **values;
    uint32_t n;
} cfg_strmap;

typedef struct cfg_list {
    void *v; /* n elements of the field's elem_size */
    uint32_t n;
} cfg_list;

enum {
    CFG_F_REQUIRED = 1u << 0,   /* error if absent */
    CFG_F_SECRET = 1u << 1,     /* never echoed in diagnostics or print-config */
    CFG_F_DEPRECATED = 1u << 2, /* accepted with a warning naming `replacement` */
    CFG_F_TRACK_SET = 1u << 3,  /* set the bool at set_offset when the key is present */
    CFG_F_NULLABLE = 1u << 4,   /* a YAML null/empty value is accepted (section present, empty) */
};

typedef struct cfg_field {
    const char *key;
    cfg_type type;
    size_t offset;
    const char *def; /* default as YAML scalar text, parsed by the same rules */
    const char *doc; /* one line, shown by `components` */
    unsigned flags;
    double min, max;               /* numeric bounds when min < max */
    const char *const *enum_names; /* NULL-terminated, CFG_T_ENUM */
    const cfg_table *sub;          /* CFG_T_SECTION, CFG_T_LIST */
    size_t elem_size;              /* CFG_T_LIST */
    size_t set_offset;             /* CFG_F_TRACK_SET */
    const char *replacement;       /* CFG_F_DEPRECATED: what to write instead */
} cfg_field;

struct cfg_table {
    const cfg_field *fields;
    size_t n_fields;
    /* Optional cross-field check after binding; add diagnostics with the node's marks. */
    void (*validate)(void *obj, const cfg_node *node, const char *path, cfg_diags *d);
};

#define CFG_TABLE(name, fields_array, validate_fn)                                                 \
    const cfg_table name = {fields_array, sizeof(fields_array) / sizeof(fields_array[0]),          \
                            validate_fn}

/* Applies every default of t to obj (the caller zeroes obj first; nested sections are filled
 * too). Lists start empty. An invalid default is a programming error reported as a diagnostic. */
gb_status cfg_apply_defaults(const cfg_table *t, void *obj, cfg_doc *doc, cfg_diags *d);
/* Binds node (a MAP or NULL) onto obj after defaults: unknown keys are errors with "did you
 * mean"; types, bounds and enums are checked; every error is recorded, binding continues. path is
 * the dotted path of node for messages. Returns GB_ERR_INVALID if any error was added.
 * Rules: scalars are parsed by the field type whether quoted or not; a null value keeps the
 * default for sections, lists, maps and any, and for scalar types only with CFG_F_NULLABLE
 * (otherwise it is an error). A section present in the map is bound (required keys checked,
 * validate run) even when null; an absent section keeps its defaults and is not validated.
 * validate runs after the fields, unless binding this table's fields added errors. Bound strings
 * point into node's doc. Duration bounds (min/max) are in nanoseconds; without bounds a negative
 * duration is an error. */
gb_status cfg_bind(const cfg_table *t, const cfg_node *node, void *obj, const char *path,
                   cfg_doc *doc, cfg_diags *d);
/* Allocates size zeroed bytes in the doc arena, applies defaults and binds: the usual one call
 * for a component config. *out is set even when binding reported errors. */
gb_status cfg_bind_new(const cfg_table *t, size_t size, const cfg_node *node, const char *path,
                       cfg_doc *doc, cfg_diags *d, void **out);
/* Parses a duration string ("1h2m3s", "250ms", "1.5s", "10us", "0") into ns. Go syntax; a bare
 * integer is ns. GB_ERR_INVALID on bad syntax, GB_ERR_LIMIT when it does not fit int64 ns. */
gb_status cfg_parse_duration(const char *s, int64_t *ns);
/* Formats ns like Go's time.Duration.String(): "1h2m3.5s", "250ms", "10µs", "0s". */
void cfg_format_duration(int64_t ns, char *out, size_t cap);
/* Prints a table as an indented key list with types, defaults and docs (`components`):
 *   endpoint: string = "0.0.0.0:4317"  # doc
 *   verbosity: enum (basic|normal|detailed) = basic  # doc
 *   tls: section  # doc            (its keys follow, indented by 2 more) */
void cfg_table_describe(const cfg_table *t, int indent, gb_sbuf *out);

#endif
