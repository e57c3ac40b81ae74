/* TLS server contexts (OpenSSL 3) from otelcol's configtls keys. One SSL_CTX per server
 * (HTTP or gRPC), shared read-only by every worker; each accepted connection gets its own SSL.
 * ALPN: the gRPC server selects "h2" (and refuses clients that offer only http/1.1 by letting
 * the handshake continue without ALPN; the h2 preface check then fails them), the HTTP server
 * selects "http/1.1". Certificate reload (reload_interval) is accepted and not implemented. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"

#define OFF(f) offsetof(net_tls_server_cfg, f)

static const cfg_field tls_fields[] = {
    {.key = "cert_file",
     .type = CFG_T_STRING,
     .offset = OFF(cert_file),
     .doc = "server certificate chain (PEM)"},
    {.key = "key_file",
     .type = CFG_T_STRING,
     .offset = OFF(key_file),
     .doc = "server private key (PEM)",
     .flags = CFG_F_SECRET},
    {.key = "ca_file", .type = CFG_T_STRING, .offset = OFF(ca_file), .doc = "CA bundle (PEM)"},
    {.key = "client_ca_file",
     .type = CFG_T_STRING,
     .offset = OFF(client_ca_file),
     .doc = "CA bundle to verify client certificates; turns on mTLS"},
    {.key = "client_auth_type",
     .type = CFG_T_STRING,
     .offset = OFF(client_auth_type),
     .doc = "accepted synonym: RequireAndVerifyClientCert, VerifyClientCertIfGiven, ..."},
    {.key = "min_version",
     .type = CFG_T_STRING,
     .offset = OFF(min_version),
     .def = "1.2",
     .doc = "minimum TLS version (1.0 .. 1.3)"},
    {.key = "max_version",
     .type = CFG_T_STRING,
     .offset = OFF(max_version),
     .doc = "maximum TLS version (empty: newest)"},
    {.key = "reload_interval",
     .type = CFG_T_DURATION,
     .offset = OFF(reload_interval),
     .def = "0",
     .doc = "certificate reload interval (accepted, not implemented)"},
    {.key = "cipher_suites",
     .type = CFG_T_STRINGS,
     .offset = OFF(cipher_suites),
     .doc = "TLS 1.2 cipher suites (OpenSSL names)"},
    {.key = "include_system_ca_certs_pool",
     .type = CFG_T_BOOL,
     .offset = OFF(include_system_ca_certs_pool),
     .def = "false",
     .doc = "also trust the system CAs for client certificates"},
};

static void tls_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    net_tls_server_cfg *c = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    int v;
    if ((c->cert_file && *c->cert_file) != (c->key_file && *c->key_file))
        cfg_diag_add(d, CFG_ERROR, m, path, "cert_file and key_file must be set together");
    if (c->min_version && net_tls_parse_version(c->min_version, &v) != GB_OK)
        cfg_diag_add(d, CFG_ERROR, m, path, "invalid TLS min_version \"%s\"", c->min_version);
    if (c->max_version && net_tls_parse_version(c->max_version, &v) != GB_OK)
        cfg_diag_add(d, CFG_ERROR, m, path, "invalid TLS max_version \"%s\"", c->max_version);
    if (c->client_auth_type && *c->client_auth_type) {
        static const char *ok[] = {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                   "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};
        bool found = false;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
            if (strcasecmp(ok[i], c->client_auth_type) == 0) found = true;
        if (!found)
            cfg_diag_add(d, CFG_ERROR, m, path,
                         "invalid client_auth_type \"%s\" (RequireAndVerifyClientCert, "
                         "VerifyClientCertIfGiven, RequireAnyClientCert, RequestClientCert, "
                         "NoClientCert)",
                         c->client_auth_type);
        else
            cfg_diag_add(d, CFG_WARNING, m, path,
                         "client_auth_type is not an otelcol key; accepted (client_ca_file "
                         "alone turns on client certificate verification)");
    }
    if (c->reload_interval > 0)
        cfg_diag_add(d, CFG_WARNING, m, path,
                     "reload_interval is accepted but certificates are not reloaded");
}

CFG_TABLE(net_tls_server_table, tls_fields, tls_validate);

bool net_tls_server_enabled(const net_tls_server_cfg *c)
{
    return c && c->cert_file && *c->cert_file;
}

gb_status net_tls_parse_version(const char *s, int *out)
{
    if (!s || !*s)
        *out = 0;
    else if (strcmp(s, "1.0") == 0)
        *out = TLS1_VERSION;
    else if (strcmp(s, "1.1") == 0)
        *out = TLS1_1_VERSION;
    else if (strcmp(s, "1.2") == 0)
        *out = TLS1_2_VERSION;
    else if (strcmp(s, "1.3") == 0)
        *out = TLS1_3_VERSION;
    else
        return GB_ERR_INVALID;
    return GB_OK;
}

static void ssl_err(char *err, size_t err_size, const char *what, const char *file)
{
    char e[256] = "";
    unsigned long code = ERR_get_error();
    if (code) ERR_error_string_n(code, e, sizeof(e));
    ERR_clear_error();
    snprintf(err, err_size, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
             *e ? e : "unknown error");
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const char *want = arg;
    size_t wlen = strlen(want);
    for (unsigned i = 0; i < inlen;) {
        unsigned l = in[i];
        if (i + 1 + l > inlen) break;
        if (l == wlen && memcmp(in + i + 1, want, l) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)l;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + l;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

gb_status net_tls_server_ctx_new(const net_tls_server_cfg *c, net_alpn alpn, SSL_CTX **out,
                                 char *err, size_t err_size)
{
    gb_status st = GB_OK;
    int minv = 0, maxv = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_err(err, err_size, "cannot create TLS context", NULL);
        return GB_ERR_NOMEM;
    }
    if (net_tls_parse_version(c->min_version ? c->min_version : "1.2", &minv) != GB_OK ||
        net_tls_parse_version(c->max_version, &maxv) != GB_OK) {
        snprintf(err, err_size, "invalid TLS version");
        st = GB_ERR_INVALID;
        goto fail;
    }
    if (minv) SSL_CTX_set_min_proto_version(ctx, minv);
    if (maxv) SSL_CTX_set_max_proto_version(ctx, maxv);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (!c->cert_file || !c->key_file) {
        snprintf(err, err_size, "tls: cert_file and key_file are required");
        st = GB_ERR_INVALID;
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1) {
        ssl_err(err, err_size, "failed to load TLS cert_file", c->cert_file);
        st = GB_ERR_INVALID;
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_err(err, err_size, "failed to load TLS key_file", c->key_file);
        st = GB_ERR_INVALID;
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(err, err_size, "TLS key_file does not match cert_file", c->key_file);
        st = GB_ERR_INVALID;
        goto fail;
    }
    if (c->cipher_suites.n > 0) {
        char list[1024] = "";
        size_t used = 0;
        for (uint32_t i = 0; i < c->cipher_suites.n; i++) {
            int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ":" : "",
                             c->cipher_suites.v[i]);
            if (w < 0 || (size_t)w >= sizeof(list) - used) break;
            used += (size_t)w;
        }
        if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
            ssl_err(err, err_size, "invalid TLS cipher_suites", NULL);
            st = GB_ERR_INVALID;
            goto fail;
        }
    }
    const char *client_ca = c->client_ca_file && *c->client_ca_file ? c->client_ca_file : NULL;
    const char *auth = c->client_auth_type ? c->client_auth_type : "";
    bool want_verify = client_ca != NULL || strcasecmp(auth, "RequireAndVerifyClientCert") == 0 ||
                       strcasecmp(auth, "VerifyClientCertIfGiven") == 0;
    if (want_verify) {
        const char *bundle = client_ca ? client_ca : c->ca_file;
        if (!bundle || !*bundle) {
            snprintf(err, err_size, "tls: client certificate verification needs client_ca_file");
            st = GB_ERR_INVALID;
            goto fail;
        }
        if (SSL_CTX_load_verify_locations(ctx, bundle, NULL) != 1) {
            ssl_err(err, err_size, "failed to load TLS client_ca_file", bundle);
            st = GB_ERR_INVALID;
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(bundle);
        if (names) SSL_CTX_set_client_CA_list(ctx, names);
        if (c->include_system_ca_certs_pool) SSL_CTX_set_default_verify_paths(ctx);
        int mode = SSL_VERIFY_PEER;
        if (strcasecmp(auth, "VerifyClientCertIfGiven") != 0)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, NULL);
    } else if (strcasecmp(auth, "RequireAnyClientCert") == 0) {
        snprintf(err, err_size,
                 "tls: client_auth_type RequireAnyClientCert is not supported; "
                 "set client_ca_file to verify client certificates");
        st = GB_ERR_UNSUPPORTED;
        goto fail;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)(alpn == NET_ALPN_H2 ? "h2" : "http/1.1"));
    *out = ctx;
    return GB_OK;
fail:
    SSL_CTX_free(ctx);
    return st;
}
