/* Shared by the sum and count connectors (otelcol-contrib connector/sumconnector and
 * connector/countconnector): metric definitions per context (spans, spanevents, metrics,
 * datapoints, logs), a documented subset of OTTL conditions, and the per-batch aggregation that
 * turns matching items into delta sums. */
#ifndef CONNUTIL_H
#define CONNUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "config/config.h"
#include "pipeline/component.h"

typedef enum cu_ctx {
    CU_SPANS = 0,
    CU_SPANEVENTS,
    CU_METRICS,
    CU_DATAPOINTS,
    CU_LOGS,
} cu_ctx;
#define CU_CTX_COUNT 5

extern const char *const cu_ctx_names[CU_CTX_COUNT]; /* "spans", "spanevents", ... */

typedef enum cu_path {
    CU_PATH_ATTR = 0,   /* attributes["k"] (of the item) */
    CU_PATH_RES_ATTR,   /* resource.attributes["k"] */
    CU_PATH_NAME,       /* name: span name (spans), event name (spanevents) */
    CU_PATH_METRIC_NAME /* metric.name (metrics, datapoints) */
} cu_path;

typedef struct cu_cmp {
    cu_path path;
    char *key;
    bool ne;    /* != instead of == */
    pd_any rhs; /* PD_ANY_EMPTY = nil */
} cu_cmp;

typedef struct cu_and { /* all hold */
    cu_cmp *v;
    uint32_t n;
} cu_and;

#define CU_MAX_ATTRS 32 /* attributes per metric definition */

typedef struct cu_attr {
    char *key;
    pd_any def; /* default_value; PD_ANY_EMPTY = none */
} cu_attr;

typedef struct cu_metric {
    char *name;
    char *desc;
    char *source; /* sum: source_attribute */
    cu_attr *attrs;
    uint32_t n_attrs;
    cu_and *conds; /* any holds (conditions are ORed; `or` inside one splits too) */
    uint32_t n_conds;
} cu_metric;

typedef struct cu_defs {
    cu_metric *m[CU_CTX_COUNT];
    uint32_t n[CU_CTX_COUNT];
    gb_arena arena;
} cu_defs;

typedef struct cu_spec {
    bool is_sum;                        /* source_attribute required, values summed */
    bool allowed[CU_CTX_COUNT];         /* sections this connector accepts */
    const char *def_name[CU_CTX_COUNT]; /* default metric when a section is absent, or NULL */
    const char *def_desc[CU_CTX_COUNT];
} cu_spec;

/* Parses the sections (NULL = absent) into out (its own arena); diagnostics go to d (may be
 * NULL). GB_ERR_INVALID when anything is wrong. Free with cu_defs_free even on error. */
gb_status cu_parse(const cu_spec *spec, const cfg_node *const sections[CU_CTX_COUNT],
                   const char *path, cu_defs *out, cfg_diags *d);
void cu_defs_free(cu_defs *defs);

/* Parses one condition string (tests); errors name col offsets from the start of text. */
gb_status cu_parse_condition(gb_arena *a, const char *text, cu_and **out, uint32_t *n, char *err,
                             size_t errlen, uint32_t *err_off);

/* What a condition reads. */
typedef struct cu_item {
    const pd_attrs *attrs;
    const pd_attrs *res;
    gb_str name;
    gb_str metric_name;
} cu_item;

bool cu_match(const cu_metric *m, const cu_item *it);

/* Runs the connector on one batch: builds the metrics (delta, monotonic sums; count: int values,
 * sum: double values) and hands them to next. Releases b. */
gb_status cu_consume(const cu_spec *spec, const cu_defs *defs, pl_component *c, pd_batch *b);

/* A scalar as a label value: strings as they are, ints/doubles/bools rendered as text ("" for
 * other types). buf (>= 32 bytes) holds rendered text. */
gb_str cu_label_value(const pd_any *v, char *buf, size_t cap);
/* A number from a double, an int or a numeric string. */
bool cu_number(const pd_any *v, double *out);

/* Component glue shared by count and sum: the config struct (one CFG_T_ANY per section), the
 * validate hook body, and create/consume/destroy (state = spec + parsed definitions). */
typedef struct cu_cfg {
    const cfg_node *sections[CU_CTX_COUNT];
} cu_cfg;

/* The five cfg_field entries of cu_cfg, with one doc line per section. */
#define CU_SECTION_FIELDS(d_spans, d_events, d_metrics, d_points, d_logs)                          \
    {.key = "spans",                                                                               \
     .type = CFG_T_ANY,                                                                            \
     .offset = offsetof(cu_cfg, sections[CU_SPANS]),                                               \
     .doc = d_spans},                                                                              \
        {.key = "spanevents",                                                                      \
         .type = CFG_T_ANY,                                                                        \
         .offset = offsetof(cu_cfg, sections[CU_SPANEVENTS]),                                      \
         .doc = d_events},                                                                         \
        {.key = "metrics",                                                                         \
         .type = CFG_T_ANY,                                                                        \
         .offset = offsetof(cu_cfg, sections[CU_METRICS]),                                         \
         .doc = d_metrics},                                                                        \
        {.key = "datapoints",                                                                      \
         .type = CFG_T_ANY,                                                                        \
         .offset = offsetof(cu_cfg, sections[CU_DATAPOINTS]),                                      \
         .doc = d_points},                                                                         \
    {                                                                                              \
        .key = "logs", .type = CFG_T_ANY, .offset = offsetof(cu_cfg, sections[CU_LOGS]),           \
        .doc = d_logs                                                                              \
    }

void cu_validate(const cu_spec *spec, const void *obj, const char *path, cfg_diags *d);
gb_status cu_create(const cu_spec *spec, pl_component *c);
gb_status cu_component_consume(pl_component *c, pd_batch *b);
void cu_destroy(pl_component *c);

#endif
