#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "exporter/otlp/otlpexp.h"
#include "otlp/otlp.h"

static void test_endpoint_and_tls_rules(void **state)
{
    (void)state;
    otlpexp_cfg cfg;
    net_grpc_endpoint ep;
    net_grpc_client_opts o;
    char err[256];
    memset(&cfg, 0, sizeof(cfg));

    cfg.endpoint = "tempo:4317"; /* no scheme: TLS unless tls.insecure */
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_true(o.tls.enabled);
    assert_string_equal(o.host, "tempo");
    assert_int_equal(o.port, 4317);
    cfg.tls.insecure = true;
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_false(o.tls.enabled);

    cfg.endpoint = "https://tempo:4317"; /* https wins over insecure */
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_true(o.tls.enabled);

    cfg.tls.insecure = false;
    cfg.endpoint = "http://tempo:4317"; /* http implies plain text */
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_false(o.tls.enabled);

    cfg.endpoint = "dns:///tempo:4317";
    cfg.tls.ca_file = "ca.pem";
    cfg.tls.server_name_override = "tempo.internal";
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_true(o.tls.enabled);
    assert_string_equal(o.tls.ca_file, "ca.pem");
    assert_string_equal(o.tls.server_name_override, "tempo.internal");

    /* :authority follows grpc-go: authority key, else the TLS server name override */
    assert_string_equal(o.authority, "tempo.internal");
    cfg.authority = "tempo.example:443";
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_string_equal(o.authority, "tempo.example:443");
    cfg.authority = NULL;
    cfg.tls.insecure = true; /* no TLS: the override does not apply */
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_null(o.authority);
    cfg.tls.insecure = false;

    cfg.endpoint = "tempo:notaport";
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "port"));
}

static void test_compression_and_keepalive(void **state)
{
    (void)state;
    otlpexp_cfg cfg;
    net_grpc_endpoint ep;
    net_grpc_client_opts o;
    char err[256];
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = "h:1";
    const struct {
        int cfg;
        net_grpc_compression want;
    } cases[] = {{OTLPEXP_COMPRESSION_GZIP, NET_GRPC_COMP_GZIP},
                 {OTLPEXP_COMPRESSION_ZSTD, NET_GRPC_COMP_ZSTD},
                 {OTLPEXP_COMPRESSION_SNAPPY, NET_GRPC_COMP_SNAPPY},
                 {OTLPEXP_COMPRESSION_NONE, NET_GRPC_COMP_NONE},
                 {OTLPEXP_COMPRESSION_EMPTY, NET_GRPC_COMP_NONE}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cfg.compression = cases[i].cfg;
        assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
        assert_int_equal(o.compression, cases[i].want);
    }
    cfg.compression = OTLPEXP_COMPRESSION_GZIP;
    cfg.compression_params.level = 9;
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_int_equal(o.compression_level, 9);
    cfg.compression_params.level = -1; /* Go's "default compression" */
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_int_equal(o.compression_level, 0);
    cfg.keepalive.time = 1000000; /* 1ms is raised to grpc-go's 10s floor */
    cfg.keepalive.timeout = 3000000000LL;
    cfg.keepalive.permit_without_stream = true;
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_int_equal(o.keepalive_time, OTLPEXP_MIN_KEEPALIVE);
    assert_int_equal(o.keepalive_timeout, 3000000000LL);
    assert_true(o.keepalive_permit_without_stream);
    cfg.keepalive.time = 0; /* disabled stays disabled */
    assert_int_equal(otlpexp_client_opts(&cfg, &ep, &o, err, sizeof(err)), GB_OK);
    assert_int_equal(o.keepalive_time, 0);
}

static gb_status map(int32_t code, bool retry_info, int64_t delay, pl_export_result *res)
{
    net_grpc_result r;
    memset(&r, 0, sizeof(r));
    memset(res, 0, sizeof(*res));
    r.status = code;
    r.has_retry_info = retry_info;
    r.retry_delay_ns = delay;
    strcpy(r.message, "why");
    return otlpexp_map_result(&r, res);
}

static void test_result_mapping(void **state)
{
    (void)state;
    pl_export_result res;
    assert_int_equal(map(OTLP_GRPC_OK, false, 0, &res), GB_OK);
    const int32_t retryable[] = {OTLP_GRPC_CANCELLED,   OTLP_GRPC_DEADLINE_EXCEEDED,
                                 OTLP_GRPC_ABORTED,     OTLP_GRPC_OUT_OF_RANGE,
                                 OTLP_GRPC_UNAVAILABLE, OTLP_GRPC_DATA_LOSS};
    for (size_t i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++) {
        assert_int_equal(map(retryable[i], false, 0, &res), GB_ERR_RETRY);
        assert_int_equal(res.retry_after_ns, 0);
        assert_non_null(strstr(res.message, "why"));
    }
    const int32_t permanent[] = {OTLP_GRPC_UNKNOWN,
                                 OTLP_GRPC_INVALID_ARGUMENT,
                                 OTLP_GRPC_NOT_FOUND,
                                 OTLP_GRPC_PERMISSION_DENIED,
                                 OTLP_GRPC_FAILED_PRECONDITION,
                                 OTLP_GRPC_UNIMPLEMENTED,
                                 OTLP_GRPC_INTERNAL,
                                 OTLP_GRPC_UNAUTHENTICATED,
                                 6 /* ALREADY_EXISTS */,
                                 99};
    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
        assert_int_equal(map(permanent[i], false, 0, &res), GB_ERR_PERMANENT);
    /* RESOURCE_EXHAUSTED: retried only with RetryInfo, whose delay is used */
    assert_int_equal(map(OTLP_GRPC_RESOURCE_EXHAUSTED, false, 0, &res), GB_ERR_PERMANENT);
    assert_int_equal(map(OTLP_GRPC_RESOURCE_EXHAUSTED, true, 1500000000LL, &res), GB_ERR_RETRY);
    assert_int_equal(res.retry_after_ns, 1500000000LL);
    assert_non_null(strstr(res.message, "RESOURCE_EXHAUSTED"));
    /* other retryable codes honour a RetryInfo too */
    assert_int_equal(map(OTLP_GRPC_UNAVAILABLE, true, 7, &res), GB_ERR_RETRY);
    assert_int_equal(res.retry_after_ns, 7);
    /* a RetryInfo never makes a permanent code retryable */
    assert_int_equal(map(OTLP_GRPC_INVALID_ARGUMENT, true, 7, &res), GB_ERR_PERMANENT);
}

static void test_paths(void **state)
{
    (void)state;
    assert_string_equal(otlpexp_export_path(PD_TRACES),
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export");
    assert_string_equal(otlpexp_export_path(PD_METRICS),
                        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
    assert_string_equal(otlpexp_export_path(PD_LOGS),
                        "/opentelemetry.proto.collector.logs.v1.LogsService/Export");
    assert_string_equal(otlpexp_code_name(14), "UNAVAILABLE");
    assert_string_equal(otlpexp_code_name(-1), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_and_tls_rules),
        cmocka_unit_test(test_compression_and_keepalive),
        cmocka_unit_test(test_result_mapping),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
