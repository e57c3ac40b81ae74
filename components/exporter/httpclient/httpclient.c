/* Shared HTTP exporter client pieces (see httpclient.h).
 *
 * How: the `tls` table, its validation, the libcurl handle setup (TLS, keep-alive, buffers,
 * proxy, bounded response capture) and the POST with a deadline used to live in the otlphttp
 * exporter; they moved here when the prometheusremotewrite exporter needed the same client
 * (otelcol's confighttp/configtls are shared the same way). Each exporter keeps its own encoding,
 * buffers and interpretation of the response, since those differ per protocol.
 *
 * Rejected: one shared "HTTP POST with retries" object for both exporters (the response
 * semantics - OTLP partial success and google.rpc.Status versus remote write's plain-text errors -
 * and the per-thread buffers differ enough that the shared part would be a thin wrapper over
 * libcurl with many hooks). */
#include "httpclient.h"

#include <ctype.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/timeutil.h"

static const cfg_field tls_fields[] = {
    {"insecure", CFG_T_BOOL, offsetof(httpclient_tls, insecure), "false",
     "ignored for HTTP (the endpoint scheme decides)", .flags = 0},
    {"insecure_skip_verify", CFG_T_BOOL, offsetof(httpclient_tls, insecure_skip_verify), "false",
     "do not verify the server certificate", .flags = 0},
    {"ca_file", CFG_T_STRING, offsetof(httpclient_tls, ca_file), NULL, "CA bundle (PEM file)",
     .flags = 0},
    {"ca_pem", CFG_T_STRING, offsetof(httpclient_tls, ca_pem), NULL, "CA bundle (PEM text)",
     .flags = CFG_F_SECRET},
    {"cert_file", CFG_T_STRING, offsetof(httpclient_tls, cert_file), NULL,
     "client certificate (PEM file)", .flags = 0},
    {"cert_pem", CFG_T_STRING, offsetof(httpclient_tls, cert_pem), NULL,
     "client certificate (PEM text)", .flags = CFG_F_SECRET},
    {"key_file", CFG_T_STRING, offsetof(httpclient_tls, key_file), NULL, "client key (PEM file)",
     .flags = 0},
    {"key_pem", CFG_T_STRING, offsetof(httpclient_tls, key_pem), NULL, "client key (PEM text)",
     .flags = CFG_F_SECRET},
    {"server_name_override", CFG_T_STRING, offsetof(httpclient_tls, server_name_override), NULL,
     "name used for TLS verification and SNI", .flags = 0},
    {"min_version", CFG_T_STRING, offsetof(httpclient_tls, min_version), "1.2",
     "minimum TLS version (1.0, 1.1, 1.2, 1.3)", .flags = 0},
    {"max_version", CFG_T_STRING, offsetof(httpclient_tls, max_version), NULL,
     "maximum TLS version (1.0, 1.1, 1.2, 1.3)", .flags = 0},
    {"include_system_ca_certs_pool", CFG_T_BOOL,
     offsetof(httpclient_tls, include_system_ca_certs_pool), "false",
     "also trust the system CAs when ca_file is set", .flags = 0},
    {"reload_interval", CFG_T_DURATION, offsetof(httpclient_tls, reload_interval), "0",
     "accepted; certificates are read when a connection is made", .flags = 0},
    {"cipher_suites", CFG_T_STRINGS, offsetof(httpclient_tls, cipher_suites), NULL,
     "accepted; the TLS library's defaults are used", .flags = 0},
};
CFG_TABLE(httpclient_tls_table, tls_fields, NULL);

cfg_mark httpclient_mark_of(const cfg_node *node, const char *key)
{
    const cfg_pair *p = node ? cfg_node_get_pair(node, key) : NULL;
    if (p && p->value) return p->value->mark;
    if (p) return p->key_mark;
    return node ? node->mark : (cfg_mark){0};
}

bool httpclient_url_ok(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

static bool tls_version_ok(const char *v)
{
    return !v || !*v || strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0 || strcmp(v, "1.2") == 0 ||
           strcmp(v, "1.3") == 0;
}

void httpclient_tls_validate(const httpclient_tls *tls, const cfg_node *node, const char *path,
                             cfg_diags *d)
{
    const cfg_node *tn = node ? cfg_node_get(node, "tls") : NULL;
    if ((tls->cert_file || tls->cert_pem) != (tls->key_file || tls->key_pem))
        cfg_diag_add(d, CFG_ERROR, tn ? tn->mark : httpclient_mark_of(node, "tls"), path,
                     "tls: for client authentication provide both a certificate and a key");
    if (!tls_version_ok(tls->min_version))
        cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(tn, "min_version"), path,
                     "tls.min_version: invalid TLS version \"%s\" (1.0, 1.1, 1.2 or 1.3)",
                     tls->min_version);
    if (!tls_version_ok(tls->max_version))
        cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(tn, "max_version"), path,
                     "tls.max_version: invalid TLS version \"%s\" (1.0, 1.1, 1.2 or 1.3)",
                     tls->max_version);
}

void httpclient_headers_validate(const cfg_strmap *headers, const cfg_node *node, const char *path,
                                 cfg_diags *d)
{
    for (uint32_t i = 0; i < headers->n; i++)
        if (!headers->keys[i][0] || strpbrk(headers->keys[i], ": \r\n") ||
            strpbrk(headers->values[i] ? headers->values[i] : "", "\r\n"))
            cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(node, "headers"), path,
                         "headers: invalid header \"%s\"", headers->keys[i]);
}

gb_status httpclient_append_headers(struct curl_slist **list, const cfg_strmap *headers)
{
    for (uint32_t i = 0; i < headers->n; i++) {
        const char *v = headers->values[i] ? headers->values[i] : "";
        size_t n = strlen(headers->keys[i]) + strlen(v) + 4;
        char *line = malloc(n);
        if (!line) return GB_ERR_NOMEM;
        if (*v)
            snprintf(line, n, "%s: %s", headers->keys[i], v);
        else
            snprintf(line, n, "%s;", headers->keys[i]); /* curl's form of an empty value */
        struct curl_slist *l = curl_slist_append(*list, line);
        free(line);
        if (!l) return GB_ERR_NOMEM;
        *list = l;
    }
    return GB_OK;
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init;

static void curl_init_once(void)
{
    g_curl_init = curl_global_init(CURL_GLOBAL_ALL);
}

gb_status httpclient_start(const char *component, const cfg_node *auth)
{
    pthread_once(&g_curl_once, curl_init_once);
    if (g_curl_init != CURLE_OK) {
        gb_log(GB_LOG_ERROR, component, "cannot initialise libcurl: %s",
               curl_easy_strerror(g_curl_init));
        return GB_ERR_IO;
    }
    if (auth)
        gb_log(GB_LOG_WARN, component,
               "auth: authenticator extensions are not available in this build; requests are "
               "sent without them (use headers)");
    return GB_OK;
}

static long tls_version(const char *v, bool max)
{
    if (!v || !*v) return max ? CURL_SSLVERSION_MAX_DEFAULT : CURL_SSLVERSION_TLSv1_2;
    if (strcmp(v, "1.0") == 0) return max ? CURL_SSLVERSION_MAX_TLSv1_0 : CURL_SSLVERSION_TLSv1_0;
    if (strcmp(v, "1.1") == 0) return max ? CURL_SSLVERSION_MAX_TLSv1_1 : CURL_SSLVERSION_TLSv1_1;
    if (strcmp(v, "1.3") == 0) return max ? CURL_SSLVERSION_MAX_TLSv1_3 : CURL_SSLVERSION_TLSv1_3;
    return max ? CURL_SSLVERSION_MAX_TLSv1_2 : CURL_SSLVERSION_TLSv1_2;
}

CURLcode httpclient_apply_tls(CURL *e, const httpclient_tls *tls)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val);                                    \
    } while (0)
    SET(CURLOPT_SSLVERSION,
        tls_version(tls->min_version, false) | tls_version(tls->max_version, true));
    if (tls->insecure_skip_verify) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (tls->ca_file && *tls->ca_file) {
        SET(CURLOPT_CAINFO, tls->ca_file);
        /* the system directory is searched as well when asked to (OpenSSL loads both) */
        if (tls->include_system_ca_certs_pool) SET(CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    if (tls->ca_pem && *tls->ca_pem) {
        struct curl_blob blob = {tls->ca_pem, strlen(tls->ca_pem), CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO_BLOB, &blob);
    }
    if (tls->cert_file && *tls->cert_file) SET(CURLOPT_SSLCERT, tls->cert_file);
    if (tls->cert_pem && *tls->cert_pem) {
        struct curl_blob blob = {tls->cert_pem, strlen(tls->cert_pem), CURL_BLOB_COPY};
        SET(CURLOPT_SSLCERT_BLOB, &blob);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (tls->key_file && *tls->key_file) SET(CURLOPT_SSLKEY, tls->key_file);
    if (tls->key_pem && *tls->key_pem) {
        struct curl_blob blob = {tls->key_pem, strlen(tls->key_pem), CURL_BLOB_COPY};
        SET(CURLOPT_SSLKEY_BLOB, &blob);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
#undef SET
    return rc;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    httpclient_resp *r = ud;
    size_t n = size * nmemb;
    if (r->body.len < r->limit) {
        size_t room = r->limit - r->body.len;
        gb_sbuf_append(&r->body, ptr, n < room ? n : room);
    }
    return n;
}

static void header_value(char *dst, size_t dst_size, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= dst_size) n = dst_size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    httpclient_resp *r = ud;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(ptr, "retry-after:", 12) == 0)
        header_value(r->retry_after, sizeof r->retry_after, ptr + 12, n - 12);
    else if (n > 13 && strncasecmp(ptr, "content-type:", 13) == 0)
        header_value(r->content_type, sizeof r->content_type, ptr + 13, n - 13);
    return n;
}

gb_status httpclient_easy_new(const httpclient_conn *conn, httpclient_resp *resp, size_t limit,
                              const char *component, CURL **out)
{
    CURL *e = curl_easy_init();
    if (!e) return GB_ERR_NOMEM;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val);                                    \
    } while (0)
    SET(CURLOPT_URL, conn->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_HTTPHEADER, conn->headers);
    SET(CURLOPT_USERAGENT, conn->user_agent);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, resp);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, resp);
    SET(CURLOPT_ERRORBUFFER, resp->errbuf);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    if (conn->idle_conn_timeout > 0)
        SET(CURLOPT_MAXAGE_CONN, (long)(conn->idle_conn_timeout / GB_NS_PER_S));
    if (conn->disable_keep_alives) SET(CURLOPT_FORBID_REUSE, 1L);
    if (conn->read_buffer_size >= 1024) SET(CURLOPT_BUFFERSIZE, (long)conn->read_buffer_size);
    if (conn->write_buffer_size >= 16384)
        SET(CURLOPT_UPLOAD_BUFFERSIZE, (long)conn->write_buffer_size);
    if (conn->proxy_url && *conn->proxy_url) SET(CURLOPT_PROXY, conn->proxy_url);
    if (conn->connect_to) SET(CURLOPT_CONNECT_TO, conn->connect_to);
#undef SET
    if (rc == CURLE_OK && conn->tls && strncmp(conn->url, "https://", 8) == 0)
        rc = httpclient_apply_tls(e, conn->tls);
    if (rc != CURLE_OK) {
        gb_log(GB_LOG_ERROR, component, "cannot configure HTTP client: %s", curl_easy_strerror(rc));
        curl_easy_cleanup(e);
        return GB_ERR_INVALID;
    }
    gb_sbuf_init(&resp->body, 0);
    resp->limit = limit;
    *out = e;
    return GB_OK;
}

void httpclient_resp_free(httpclient_resp *resp)
{
    gb_sbuf_free(&resp->body);
}

gb_status httpclient_post(CURL *e, httpclient_resp *resp, const void *body, size_t len,
                          int64_t deadline_ns, long *code, char *msg, size_t msg_size)
{
    long timeout_ms = 0;
    if (deadline_ns != INT64_MAX) {
        int64_t left = deadline_ns - gb_mono_ns();
        if (left < GB_NS_PER_MS) {
            snprintf(msg, msg_size, "deadline exceeded before the request");
            return GB_ERR_RETRY;
        }
        timeout_ms = (long)(left / GB_NS_PER_MS);
    }
    gb_sbuf_reset(&resp->body);
    resp->retry_after[0] = '\0';
    resp->content_type[0] = '\0';
    resp->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)body);
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        const char *url = NULL;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
        if (snprintf(msg, msg_size, "failed to make an HTTP request to %s: %s%s%s", url ? url : "?",
                     curl_easy_strerror(cc), resp->errbuf[0] ? ": " : "", resp->errbuf) < 0)
            msg[0] = '\0';
        return GB_ERR_RETRY;
    }
    *code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, code);
    return GB_OK;
}

int64_t httpclient_parse_retry_after(const char *v, int64_t now_unix)
{
    if (!v) return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    if (!*v) return 0;
    if (isdigit((unsigned char)*v)) {
        char *end;
        long long s = strtoll(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end || s < 0) return 0;
        if (s > 86400) s = 86400; /* a day at most: a bogus header must not park a consumer */
        return (int64_t)s * GB_NS_PER_S;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(v, "%a, %d %b %Y %H:%M:%S", &tm);
    if (!e) return 0;
    time_t at = timegm(&tm);
    int64_t d = (int64_t)at - now_unix;
    if (d <= 0) return 0;
    if (d > 86400) d = 86400;
    return d * GB_NS_PER_S;
}
