/* attributes processor (contrib processor/attributesprocessor): applies attribute actions to
 * span, log record and metric data point attributes, optionally filtered by include/exclude. */
#ifndef ATTRIBUTES_PROCESSOR_H
#define ATTRIBUTES_PROCESSOR_H

#include <stdbool.h>

#include "pipeline/component.h"
#include "processor/attraction/attraction.h"

typedef struct attributes_kv_cfg {
    char *key;
    const cfg_node *value; /* optional; absent = the key must exist */
} attributes_kv_cfg;

typedef struct attributes_lib_cfg {
    char *name;
    char *version; /* optional */
} attributes_lib_cfg;

typedef struct attributes_match_cfg {
    char *match_type; /* strict | regexp */
    cfg_strings services;
    cfg_strings span_names;
    cfg_strings log_bodies;
    cfg_strings log_severity_texts;
    cfg_strings metric_names;
    cfg_list attributes;    /* attributes_kv_cfg */
    cfg_list resources;     /* attributes_kv_cfg */
    cfg_list libraries;     /* attributes_lib_cfg */
    cfg_strings span_kinds; /* refused: not supported */
    struct {
        char *min;            /* severity name (INFO, warn2, ...) or number 1-24 */
        bool match_undefined; /* also match records with severity 0 */
    } log_severity_number;
    bool log_severity_number_set;
    const cfg_node *regexp; /* regexp cache options: accepted, not needed */
} attributes_match_cfg;

typedef struct attributes_cfg {
    cfg_list actions; /* attraction_cfg */
    attributes_match_cfg include;
    bool include_set;
    attributes_match_cfg exclude;
    bool exclude_set;
} attributes_cfg;

extern const cfg_table attributes_cfg_table;
extern const pl_descriptor processor_attributes_descriptor;

/* Validates a bound config for a signal (include/exclude properties depend on it; pass -1 to
 * check only what does not); GB_ERR_INVALID with a message in err. */
gb_status attributes_check(const attributes_cfg *c, int signal, char *err, size_t errlen);

#endif
