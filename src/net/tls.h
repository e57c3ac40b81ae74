/* TLS server settings shared by the HTTP/1.1 and HTTP/2 (gRPC) servers, with otelcol's
 * configtls keys:
 *   tls:
 *     cert_file, key_file        server certificate chain and key (PEM); both required
 *     ca_file                    extra CA bundle (accepted; servers use it as client CAs too)
 *     client_ca_file             turns on mTLS: client certificates required and verified
 *     client_auth_type           accepted synonym (RequireAndVerifyClientCert, ...; see below)
 *     min_version "1.2", max_version ""   ("1.0" .. "1.3")
 *     reload_interval            accepted; certificate reload is not implemented (warning)
 *     cipher_suites              accepted list (TLS 1.2 suites by OpenSSL name)
 *     include_system_ca_certs_pool accepted
 * client_auth_type values: NoClientCert, RequestClientCert, RequireAnyClientCert,
 * VerifyClientCertIfGiven, RequireAndVerifyClientCert (Go's tls.ClientAuthType names), also
 * lower-case. */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/status.h"
#include "../config/config.h"

typedef struct ssl_ctx_st SSL_CTX;

typedef struct net_tls_server_cfg {
    char *cert_file;
    char *key_file;
    char *ca_file;
    char *client_ca_file;
    char *client_auth_type;
    char *min_version;
    char *max_version;
    int64_t reload_interval; /* ns; not implemented */
    cfg_strings cipher_suites;
    bool include_system_ca_certs_pool;
} net_tls_server_cfg;

/* Table for a `tls:` section: {"tls", CFG_T_SECTION, offsetof(x, tls), .sub =
 * &net_tls_server_table, .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE, .set_offset = offsetof(x,
 * tls_set)} */
extern const cfg_table net_tls_server_table;

/* True when the section configures TLS (a cert_file is set). */
bool net_tls_server_enabled(const net_tls_server_cfg *c);

typedef enum net_alpn {
    NET_ALPN_HTTP1 = 0, /* offers http/1.1 */
    NET_ALPN_H2,        /* offers h2 (gRPC) */
} net_alpn;

/* Builds a server SSL_CTX: loads certificate and key, client CAs, versions, ALPN. err receives
 * a reason naming the file and the OpenSSL error. The caller frees with SSL_CTX_free. */
gb_status net_tls_server_ctx_new(const net_tls_server_cfg *c, net_alpn alpn, SSL_CTX **out,
                                 char *err, size_t err_size);

/* Parses "1.0".."1.3" into an OpenSSL version constant; "" -> 0 (library default). */
gb_status net_tls_parse_version(const char *s, int *out);

#endif
