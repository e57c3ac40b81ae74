/* otlphttp exporter internals shared with its tests: config struct and response helpers. */
#ifndef OTLPHTTP_OTLPHTTP_H
#define OTLPHTTP_OTLPHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/httpclient/httpclient.h"
#include "pipeline/component.h"
#include "pipeline/exporter_helper.h"

typedef enum otlphttp_encoding {
    OTLPHTTP_ENC_PROTO = 0,
    OTLPHTTP_ENC_JSON,
} otlphttp_encoding;

typedef enum otlphttp_compression {
    OTLPHTTP_COMP_GZIP = 0,
    OTLPHTTP_COMP_ZSTD,
    OTLPHTTP_COMP_DEFLATE,
    OTLPHTTP_COMP_ZLIB, /* otelcol's name for the same zlib stream, sent as "deflate" */
    OTLPHTTP_COMP_NONE,
    OTLPHTTP_COMP_EMPTY, /* "" means none in otelcol */
} otlphttp_compression;

typedef httpclient_tls otlphttp_tls;

typedef struct otlphttp_cfg {
    char *endpoint;
    char *traces_endpoint;
    char *metrics_endpoint;
    char *logs_endpoint;
    int encoding;    /* otlphttp_encoding */
    int compression; /* otlphttp_compression */
    cfg_strmap headers;
    int64_t timeout;
    otlphttp_tls tls;
    char *proxy_url;
    int64_t read_buffer_size;
    int64_t write_buffer_size;
    int64_t max_idle_conns;
    int64_t max_idle_conns_per_host;
    int64_t max_conns_per_host;
    int64_t idle_conn_timeout;
    bool disable_keep_alives;
    int64_t http2_read_idle_timeout;
    int64_t http2_ping_timeout;
    const cfg_node *auth;
    const cfg_node *compression_params;
    pl_retry_cfg retry;
    pl_queue_cfg queue;
} otlphttp_cfg;

extern const cfg_table otlphttp_table;
extern const pl_descriptor exporter_otlphttp_descriptor;

/* Fills cfg with the table's defaults without the config binder (tests, embedding). */
void otlphttp_cfg_default(otlphttp_cfg *cfg);

/* Retry-After: delta-seconds or an HTTP-date; now_unix is the wall clock in seconds. Returns the
 * delay in ns, 0 when absent or unparseable. */
int64_t otlphttp_parse_retry_after(const char *v, int64_t now_unix);

/* google.rpc.Status message from an error body (protobuf or JSON); msg = "" when none. */
void otlphttp_status_message(const uint8_t *body, size_t len, bool json, char *msg,
                             size_t msg_size);

#endif
