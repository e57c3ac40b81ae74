/* Blocking unary gRPC client for exporter consumer threads (see docs/internals/grpc-client.md).
 *
 * One client = one HTTP/2 connection (h2c with prior knowledge, or TLS with ALPN "h2"), opened
 * lazily on the first call, kept across calls, and reopened after GOAWAY, EOF or any connection
 * error. A client is owned by one thread: no locking; different clients are independent.
 *
 * net_grpc_client_call never blocks past its deadline (except for the DNS lookup, which uses the
 * system resolver) and never crashes on bad peer input: every failure comes back as a gRPC
 * status code (transport failures as UNAVAILABLE, the deadline as DEADLINE_EXCEEDED, a response
 * over the size bound as RESOURCE_EXHAUSTED) with a one-line message. */
#ifndef NET_GRPC_CLIENT_H
#define NET_GRPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sbuf.h"
#include "../base/status.h"

typedef enum net_grpc_compression {
    NET_GRPC_COMP_NONE = 0,
    NET_GRPC_COMP_GZIP,
    NET_GRPC_COMP_ZSTD,
    NET_GRPC_COMP_SNAPPY, /* snappy framing format, as otelcol's gRPC snappy codec */
} net_grpc_compression;

/* Default levels favour speed: the exporter's throughput matters more than a few percent of
 * ratio (otelcol's grpc-go uses gzip level 6). */
#define NET_GRPC_GZIP_DEFAULT_LEVEL 1
#define NET_GRPC_ZSTD_DEFAULT_LEVEL 3

/* "identity", "gzip", "zstd", "snappy". */
const char *net_grpc_compression_name(net_grpc_compression c);

typedef struct net_grpc_tls_opts {
    bool enabled;              /* false: h2c with prior knowledge */
    bool insecure_skip_verify; /* do not verify the server certificate or name */
    const char *ca_file;       /* PEM roots; NULL = system roots */
    const char *cert_file;     /* client certificate for mTLS (with key_file) */
    const char *key_file;
    const char *server_name_override; /* SNI and verified name; NULL = endpoint host */
    const char *min_version;          /* "1.0", "1.1", "1.2" (default), "1.3" */
    const char *max_version;          /* "" = newest */
    const char *ca_pem;               /* PEM text alternatives to the files */
    const char *cert_pem;
    const char *key_pem;
    bool include_system_ca_certs_pool; /* system roots as well as ca_file / ca_pem */
} net_grpc_tls_opts;

typedef struct net_grpc_client_opts {
    const char *host; /* name or IP literal (no brackets) */
    uint16_t port;
    net_grpc_tls_opts tls;
    net_grpc_compression compression; /* of requests */
    int compression_level;            /* 0 = NET_GRPC_*_DEFAULT_LEVEL; gzip 1-9, zstd 1-22 */
    int64_t keepalive_time;           /* ns; 0 = no keepalive pings */
    int64_t keepalive_timeout;        /* ns; wait for a PING ack (default 20s when 0) */
    bool keepalive_permit_without_stream;
    size_t max_response_bytes; /* response message bound after decompression; 0 = 4 MiB */
    const char *user_agent;    /* NULL = "genops-collector/<version>" */
    const char *authority;     /* :authority; NULL = "host:port" */
} net_grpc_client_opts;

typedef struct net_grpc_header {
    const char *name; /* lower case */
    const char *value;
} net_grpc_header;

typedef struct net_grpc_result {
    int32_t status;          /* grpc-status (0 = OK); transport failures mapped to a gRPC code */
    char message[256];       /* grpc-message percent-decoded, or the local failure reason */
    bool has_retry_info;     /* grpc-status-details-bin carried a google.rpc.RetryInfo */
    int64_t retry_delay_ns;  /* its retry_delay */
    bool transport_error;    /* the status was produced locally (connect, I/O, deadline, ...) */
    const uint8_t *response; /* response message (decompressed, no prefix); valid until the next
                                call on this client; NULL when none */
    size_t response_len;
} net_grpc_result;

typedef struct net_grpc_client net_grpc_client;

/* Copies opts (strings included) and prepares TLS (loads CA, certificate and key now, so bad
 * files are reported at start). No connection is opened. err (may be NULL) gets the reason. */
gb_status net_grpc_client_new(const net_grpc_client_opts *opts, net_grpc_client **out, char *err,
                              size_t err_size);
/* Unary call. path is "/package.Service/Method"; req/len the serialized request message (the
 * client adds the 5-byte prefix and compresses). hdrs are extra metadata (lower-case names).
 * deadline_ns is a gb_mono_ns() time (0 = none; a 1-hour safety bound is then used).
 * Fills *res in every case. Returns GB_OK when the call ended with grpc-status OK, otherwise
 * GB_ERR_TIMEOUT (deadline), GB_ERR_IO (transport), GB_ERR_LIMIT (response too large) or
 * GB_ERR_PERMANENT (the server answered a non-OK status). */
gb_status net_grpc_client_call(net_grpc_client *c, const char *path, const uint8_t *req, size_t len,
                               const net_grpc_header *hdrs, size_t n_hdrs, int64_t deadline_ns,
                               net_grpc_result *res);
/* Closes the connection (the next call reconnects). */
void net_grpc_client_close(net_grpc_client *c);
void net_grpc_client_free(net_grpc_client *c);
/* Number of connections opened so far (tests, logs). */
uint64_t net_grpc_client_connects(const net_grpc_client *c);

/* ---- pieces exposed for tests and for other gRPC users --------------------------------------- */

/* Endpoint forms accepted by otelcol's gRPC client: "host:port", "[v6]:port", "dns:///host:port",
 * "dns://authority/host:port", "http://host:port" (plain text), "https://host:port" (TLS). A
 * trailing "/" is ignored. tls_scheme: -1 none given, 0 http, 1 https. */
typedef struct net_grpc_endpoint {
    char host[256];
    uint16_t port;
    int tls_scheme;
} net_grpc_endpoint;
gb_status net_grpc_parse_endpoint(const char *endpoint, net_grpc_endpoint *out, char *err,
                                  size_t err_size);

/* grpc-timeout value: at most 8 digits and a unit (n, u, m, S, M, H), rounded up so the server
 * never sees a shorter deadline than ours. ns <= 0 gives "1n". buf >= 16 bytes. */
void net_grpc_format_timeout(int64_t ns, char *buf, size_t size);
/* (grpc-message percent-decoding and the 5-byte prefix helpers are in grpc_server.h) */
/* Parses a google.rpc.Status (the binary grpc-status-details-bin, already base64-decoded) and
 * looks for a google.rpc.RetryInfo detail. Returns GB_OK with *delay_ns set when found,
 * GB_ERR_NOTFOUND when the status is well-formed but has none, GB_ERR_INVALID when malformed. */
gb_status net_grpc_parse_retry_info(const uint8_t *p, size_t len, int64_t *delay_ns);
/* Base64 decoding as used for -bin metadata (padding optional). */
gb_status net_grpc_base64_decode(const char *in, size_t len, uint8_t *out, size_t size,
                                 size_t *out_len);
/* Appends one length-prefixed gRPC message (compressed with c unless NONE; level 0 = default)
 * to out. On failure out is left as it was. */
gb_status net_grpc_frame(net_grpc_compression c, int level, const uint8_t *msg, size_t len,
                         gb_sbuf *out);
/* Parses one length-prefixed message from p/len (exactly one frame). encoding is the
 * grpc-encoding value (NULL or "identity" for none). The message goes to out (reset first),
 * bounded by max bytes after decompression. GB_ERR_LIMIT when over, GB_ERR_INVALID when
 * malformed, GB_ERR_UNSUPPORTED for an unknown encoding. */
gb_status net_grpc_unframe(const uint8_t *p, size_t len, const char *encoding, size_t max,
                           gb_sbuf *out);

#endif
