/* prometheus exporter: config (exposed for tests; see README.md for the keys). */
#ifndef PROMETHEUS_EXPORTER_H
#define PROMETHEUS_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "net/tls.h"

typedef struct prometheus_r2t_cfg {
    bool enabled;
    bool exclude_service_attributes;
} prometheus_r2t_cfg;

typedef struct prometheus_rcl_cfg {
    cfg_strings included;
    cfg_strings excluded;
} prometheus_rcl_cfg;

typedef struct prometheus_cfg {
    char *endpoint;
    net_tls_server_cfg tls;
    bool tls_set;
    char *namespace_;
    cfg_strmap const_labels;
    bool send_timestamps;
    int64_t metric_expiration;
    prometheus_r2t_cfg r2t;
    prometheus_rcl_cfg rcl;
    bool rcl_set;
    bool enable_open_metrics;
    bool without_scope_info;
    bool add_metric_suffixes;
    char *translation_strategy;
    int64_t max_series;
} prometheus_cfg;

extern const cfg_table prometheus_cfg_table;

#endif
