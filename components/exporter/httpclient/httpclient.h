/* Pieces of an HTTP exporter client that are not specific to one protocol, shared by the
 * otlphttp and prometheusremotewrite exporters: the `tls` section (otelcol's configtls client
 * settings) with its validation and its application to a libcurl easy handle, validation of the
 * `headers` map and its conversion to a curl header list, the one-time libcurl initialisation, and
 * Retry-After parsing. */
#ifndef HTTPCLIENT_HTTPCLIENT_H
#define HTTPCLIENT_HTTPCLIENT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "config/config.h"

typedef struct httpclient_tls {
    bool insecure;
    bool insecure_skip_verify;
    char *ca_file;
    char *ca_pem;
    char *cert_file;
    char *cert_pem;
    char *key_file;
    char *key_pem;
    char *server_name_override;
    char *min_version;
    char *max_version;
    bool include_system_ca_certs_pool;
    int64_t reload_interval;
    cfg_strings cipher_suites;
} httpclient_tls;

/* Config table of the `tls` section (embed with CFG_F_NULLABLE, .sub = &httpclient_tls_table). */
extern const cfg_table httpclient_tls_table;

/* Position of key's value in a mapping node (its key, or the node itself, when absent). */
cfg_mark httpclient_mark_of(const cfg_node *node, const char *key);
/* True for http:// and https:// URLs. */
bool httpclient_url_ok(const char *u);
/* Checks the tls section (certificate and key in pairs, TLS versions) of the config at `node`
 * (the exporter's mapping, which holds `tls`). */
void httpclient_tls_validate(const httpclient_tls *tls, const cfg_node *node, const char *path,
                             cfg_diags *d);
/* Checks header names and values of the `headers` map of the config at `node`. */
void httpclient_headers_validate(const cfg_strmap *headers, const cfg_node *node, const char *path,
                                 cfg_diags *d);
/* Appends "Name: value" lines for every configured header to *list (an empty value uses curl's
 * "Name;" form). GB_ERR_NOMEM leaves *list as it was before the failing append. */
gb_status httpclient_append_headers(struct curl_slist **list, const cfg_strmap *headers);
/* At an exporter's start: curl_global_init once per process (GB_ERR_IO, logged under
 * `component`, when it failed), and a warning when an `auth` section is configured
 * (authenticator extensions are not in this build). */
gb_status httpclient_start(const char *component, const cfg_node *auth);
/* Sets the TLS options of an easy handle for an https:// URL (versions, verification, CA,
 * client certificate and key, as files or PEM text). */
CURLcode httpclient_apply_tls(CURL *e, const httpclient_tls *tls);
/* Connection settings of one easy handle (strings must outlive the handle). */
typedef struct httpclient_conn {
    const char *url;
    struct curl_slist *headers;    /* request headers (Content-Type, ...) */
    struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO entries, may be NULL */
    const char *user_agent;
    const char *proxy_url;     /* may be NULL */
    int64_t idle_conn_timeout; /* ns; kept-alive connections older than this are not reused */
    bool disable_keep_alives;
    int64_t read_buffer_size;  /* bytes, used when >= 1024 */
    int64_t write_buffer_size; /* bytes, used when >= 16384 */
    const httpclient_tls *tls; /* applied to https:// URLs */
} httpclient_conn;

/* What a request's response left: the body (truncated at limit bytes), Retry-After and
 * Content-Type header values, libcurl's error text. One per easy handle. */
typedef struct httpclient_resp {
    gb_sbuf body;
    size_t limit;
    char retry_after[64];
    char content_type[96];
    char errbuf[CURL_ERROR_SIZE];
} httpclient_resp;

/* New easy handle for POST requests with every option of conn; responses go to resp (whose
 * body buffer is initialised here with the given limit). Errors are logged under component. */
gb_status httpclient_easy_new(const httpclient_conn *conn, httpclient_resp *resp, size_t limit,
                              const char *component, CURL **out);
/* Frees resp's buffers. */
void httpclient_resp_free(httpclient_resp *resp);
/* POSTs body[0..len) with a time limit from deadline_ns (gb_mono_ns() time, INT64_MAX = none).
 * GB_OK: *code is the HTTP status and resp holds the response. GB_ERR_RETRY: no response
 * (deadline already passed, transport error or timeout), msg says why. */
gb_status httpclient_post(CURL *e, httpclient_resp *resp, const void *body, size_t len,
                          int64_t deadline_ns, long *code, char *msg, size_t msg_size);

/* Retry-After: delta-seconds or an HTTP-date; now_unix is the wall clock in seconds. Returns the
 * delay in ns (at most a day), 0 when absent or unparseable. */
int64_t httpclient_parse_retry_after(const char *v, int64_t now_unix);

#endif
