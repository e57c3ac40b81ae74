/* Test driver for the otlp exporter's gRPC path: builds the exporter config from flags, turns it
 * into client options with the exporter's own rules (endpoint schemes, TLS), and runs calls read
 * from stdin on ONE client (so connection reuse and reconnects are observable):
 *
 *   call <traces|metrics|logs> <hex payload or -> [timeout_ms]
 *   callgen <traces|metrics|logs> <size> [timeout_ms]   (payload byte i = (i * 31) % 251)
 *
 * Each call prints one JSON line with the gRPC outcome and the exporter's mapped answer
 * (OK / RETRY / PERMANENT, retry_after_ns). Flags:
 *   --endpoint E --insecure --skip-verify --ca F --cert F --key F --server-name N
 *   --min-version V --max-version V --ca-pem-file F --cert-pem-file F --key-pem-file F
 *   --compression gzip|zstd|snappy|none --header k=v (repeatable)
 *   --keepalive-time MS --keepalive-timeout MS --permit-without-stream --max-response BYTES */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sbuf.h"
#include "base/timeutil.h"
#include "exporter/otlp/otlpexp.h"
#include "net/grpc_client.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads a whole file (PEM text for the *_pem options); NULL when unreadable. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    otlpexp_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.compression = OTLPEXP_COMPRESSION_GZIP;
    cfg.keepalive.time = 10 * GB_NS_PER_S;
    cfg.keepalive.timeout = 10 * GB_NS_PER_S;
    size_t max_resp = 0;
    net_grpc_header hdrs[16];
    size_t n_hdrs = 0;
    static const char *comp[] = {"gzip", "zstd", "snappy", "none"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--insecure"))
            cfg.tls.insecure = true;
        else if (!strcmp(a, "--skip-verify"))
            cfg.tls.insecure_skip_verify = true;
        else if (!strcmp(a, "--permit-without-stream"))
            cfg.keepalive.permit_without_stream = true;
        else if (!v) {
            fprintf(stderr, "missing value for %s\n", a);
            return 2;
        } else {
            i++;
            if (!strcmp(a, "--endpoint"))
                cfg.endpoint = (char *)v;
            else if (!strcmp(a, "--ca"))
                cfg.tls.ca_file = (char *)v;
            else if (!strcmp(a, "--cert"))
                cfg.tls.cert_file = (char *)v;
            else if (!strcmp(a, "--key"))
                cfg.tls.key_file = (char *)v;
            else if (!strcmp(a, "--server-name"))
                cfg.tls.server_name_override = (char *)v;
            else if (!strcmp(a, "--max-version"))
                cfg.tls.max_version = (char *)v;
            else if (!strcmp(a, "--ca-pem-file"))
                cfg.tls.ca_pem = slurp(v);
            else if (!strcmp(a, "--cert-pem-file"))
                cfg.tls.cert_pem = slurp(v);
            else if (!strcmp(a, "--key-pem-file"))
                cfg.tls.key_pem = slurp(v);
            else if (!strcmp(a, "--min-version"))
                cfg.tls.min_version = (char *)v;
            else if (!strcmp(a, "--keepalive-time"))
                cfg.keepalive.time = atoll(v) * GB_NS_PER_MS;
            else if (!strcmp(a, "--keepalive-timeout"))
                cfg.keepalive.timeout = atoll(v) * GB_NS_PER_MS;
            else if (!strcmp(a, "--max-response"))
                max_resp = (size_t)atoll(v);
            else if (!strcmp(a, "--compression")) {
                int k;
                for (k = 0; k < 4 && strcmp(comp[k], v); k++) {}
                if (k == 4) {
                    fprintf(stderr, "bad compression %s\n", v);
                    return 2;
                }
                cfg.compression = k;
            } else if (!strcmp(a, "--header")) {
                char *eq = strchr(v, '=');
                if (!eq || n_hdrs == 16) return 2;
                *eq = '\0';
                hdrs[n_hdrs].name = v;
                hdrs[n_hdrs].value = eq + 1;
                n_hdrs++;
            } else {
                fprintf(stderr, "unknown flag %s\n", a);
                return 2;
            }
        }
    }
    net_grpc_endpoint ep;
    net_grpc_client_opts o;
    char err[256];
    net_grpc_client *c = NULL;
    if (otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)) != GB_OK) {
        printf("{\"config_error\":\"%s\"}\n", err);
        return 1;
    }
    o.max_response_bytes = max_resp;
    /* tests use keepalive times below the 10s floor the exporter applies */
    o.keepalive_time = cfg.keepalive.time;
    if (net_grpc_client_new(&o, &c, err, sizeof(err)) != GB_OK) {
        printf("{\"config_error\":\"%s\"}\n", err);
        return 1;
    }
    printf("{\"ready\":true,\"tls\":%s,\"host\":\"%s\",\"port\":%u}\n",
           o.tls.enabled ? "true" : "false", ep.host, ep.port);
    fflush(stdout);

    char line[1 << 16];
    gb_sbuf out, payload;
    gb_sbuf_init(&out, 0);
    gb_sbuf_init(&payload, 0);
    while (fgets(line, sizeof(line), stdin)) {
        char sig[16] = "", hex[sizeof(line)] = "";
        long long timeout_ms = 5000;
        if (strncmp(line, "callgen ", 8) != 0 &&
            sscanf(line, "call %15s %65535s %lld", sig, hex, &timeout_ms) < 2)
            continue;
        pd_signal s = !strcmp(sig, "metrics") ? PD_METRICS
                      : !strcmp(sig, "logs")  ? PD_LOGS
                                              : PD_TRACES;
        gb_sbuf_reset(&payload);
        if (strncmp(line, "callgen ", 8) == 0) {
            /* callgen <signal> <size> [timeout_ms]: payload byte i is (i * 31) % 251 */
            long long size = 0;
            if (sscanf(line, "callgen %15s %lld %lld", sig, &size, &timeout_ms) < 2) continue;
            for (long long i = 0; i < size; i++)
                gb_sbuf_putc(&payload, (char)((i * 31) % 251));
        } else if (strcmp(hex, "-") != 0) {
            for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
                int h = hexval(hex[i]), l = hexval(hex[i + 1]);
                if (h < 0 || l < 0) break;
                gb_sbuf_putc(&payload, (char)(h * 16 + l));
            }
        }
        net_grpc_result r;
        pl_export_result er;
        memset(&er, 0, sizeof(er));
        int64_t t0 = gb_mono_ns();
        net_grpc_client_call(c, otlpexp_export_path(s), (const uint8_t *)payload.data, payload.len,
                             hdrs, n_hdrs, t0 + timeout_ms * GB_NS_PER_MS, &r);
        int64_t elapsed = gb_mono_ns() - t0;
        gb_status st = otlpexp_map_result(&r, &er);
        gb_sbuf_reset(&out);
        gb_sbuf_printf(&out, "{\"status\":%d,\"code\":\"%s\",\"message\":\"", r.status,
                       otlpexp_code_name(r.status));
        gb_sbuf_json_escape(&out, r.message, strlen(r.message));
        gb_sbuf_printf(&out,
                       "\",\"transport\":%s,\"retry_info\":%s,\"retry_delay_ns\":%lld,"
                       "\"result\":\"%s\",\"retry_after_ns\":%lld,\"export_message\":\"",
                       r.transport_error ? "true" : "false", r.has_retry_info ? "true" : "false",
                       (long long)r.retry_delay_ns,
                       st == GB_OK          ? "OK"
                       : st == GB_ERR_RETRY ? "RETRY"
                                            : "PERMANENT",
                       (long long)er.retry_after_ns);
        gb_sbuf_json_escape(&out, er.message, strlen(er.message));
        gb_sbuf_printf(&out, "\",\"response_hex\":\"");
        for (size_t i = 0; r.response && i < r.response_len; i++)
            gb_sbuf_printf(&out, "%02x", r.response[i]);
        gb_sbuf_printf(&out, "\",\"connects\":%llu,\"elapsed_ms\":%lld}\n",
                       (unsigned long long)net_grpc_client_connects(c),
                       (long long)(elapsed / GB_NS_PER_MS));
        fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
    }
    gb_sbuf_free(&out);
    gb_sbuf_free(&payload);
    net_grpc_client_free(c);
    free(cfg.tls.ca_pem);
    free(cfg.tls.cert_pem);
    free(cfg.tls.key_pem);
    return 0;
}
