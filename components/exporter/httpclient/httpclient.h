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
/* curl_global_init, once per process; GB_ERR_IO (logged under `component`) when it failed. */
gb_status httpclient_global_init(const char *component);
/* Sets the TLS options of an easy handle for an https:// URL (versions, verification, CA,
 * client certificate and key, as files or PEM text). */
CURLcode httpclient_apply_tls(CURL *e, const httpclient_tls *tls);
/* Retry-After: delta-seconds or an HTTP-date; now_unix is the wall clock in seconds. Returns the
 * delay in ns (at most a day), 0 when absent or unparseable. */
int64_t httpclient_parse_retry_after(const char *v, int64_t now_unix);

#endif
