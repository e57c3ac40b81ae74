/* Binding of the otlp receiver's config table: otelcol keys and defaults, the user guide's
 * configs, and the compatibility errors (oauth2client as a receiver authenticator). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../cfg_bind_util.h"
#include "config/config.h"
#include "receiver/otlp/otlp_receiver.h"

static void bind_yaml(cfg_bound *b, otlprecv_cfg *c, const char *yaml)
{
    cfg_bind_yaml(b, &otlprecv_cfg_table, c, sizeof *c, "receivers.otlp", yaml);
}

static void test_defaults_and_presence(void **state)
{
    (void)state;
    otlprecv_cfg c;
    cfg_bound b;
    bind_yaml(&b, &c, "protocols:\n  grpc:\n  http:\n");
    assert_int_equal(b.st, GB_OK);
    assert_true(c.protocols.grpc_set);
    assert_true(c.protocols.http_set);
    assert_string_equal(c.protocols.grpc.endpoint, "localhost:4317");
    assert_string_equal(c.protocols.http.endpoint, "localhost:4318");
    assert_int_equal(c.protocols.grpc.max_recv_msg_size_mib, 4);
    assert_int_equal(c.protocols.http.max_request_body_size, 20 * 1024 * 1024);
    assert_string_equal(c.protocols.http.traces_url_path, "/v1/traces");
    assert_string_equal(c.protocols.http.metrics_url_path, "/v1/metrics");
    assert_string_equal(c.protocols.http.logs_url_path, "/v1/logs");
    assert_false(c.protocols.http.cors_set);
    assert_false(c.protocols.grpc.tls_set);

    /* the hand-written defaults used by harnesses match the table */
    otlprecv_grpc_cfg g;
    otlprecv_http_cfg h;
    otlprecv_grpc_defaults(&g);
    otlprecv_http_defaults(&h);
    assert_string_equal(g.endpoint, c.protocols.grpc.endpoint);
    assert_int_equal(g.max_recv_msg_size_mib, c.protocols.grpc.max_recv_msg_size_mib);
    assert_int_equal(g.read_buffer_size, c.protocols.grpc.read_buffer_size);
    assert_string_equal(g.tls.min_version, c.protocols.grpc.tls.min_version);
    assert_int_equal(g.keepalive.server_parameters.time,
                     c.protocols.grpc.keepalive.server_parameters.time);
    assert_int_equal(g.keepalive.enforcement_policy.min_time,
                     c.protocols.grpc.keepalive.enforcement_policy.min_time);
    assert_string_equal(h.endpoint, c.protocols.http.endpoint);
    assert_int_equal(h.max_request_body_size, c.protocols.http.max_request_body_size);
    assert_string_equal(h.logs_url_path, c.protocols.http.logs_url_path);
    cfg_bound_free(&b);

    /* only http: grpc stays off */
    bind_yaml(&b, &c, "protocols:\n  http:\n    endpoint: 0.0.0.0:4318\n");
    assert_int_equal(b.st, GB_OK);
    assert_false(c.protocols.grpc_set);
    assert_true(c.protocols.http_set);
    cfg_bound_free(&b);

    /* no protocol at all */
    bind_yaml(&b, &c, "protocols:\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "at least one protocol"));
    cfg_bound_free(&b);
}

static void test_guide_config(void **state)
{
    (void)state;
    otlprecv_cfg c;
    cfg_bound b;
    /* the guide's receiver block without its auth part */
    bind_yaml(&b, &c,
              "protocols:\n"
              "  grpc:\n"
              "    endpoint: 0.0.0.0:4317\n"
              "    max_recv_msg_size_mib: 16\n"
              "  http:\n"
              "    endpoint: 0.0.0.0:4318\n"
              "    cors:\n"
              "      allowed_origins:\n"
              "        - \"http://*\"\n"
              "        - \"https://*\"\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(c.protocols.grpc.max_recv_msg_size_mib, 16);
    assert_true(c.protocols.http.cors_set);
    assert_int_equal(c.protocols.http.cors.allowed_origins.n, 2);
    assert_string_equal(c.protocols.http.cors.allowed_origins.v[0], "http://*");
    cfg_bound_free(&b);

    /* ... with auth: oauth2client -> clear error naming server authenticators */
    bind_yaml(&b, &c,
              "protocols:\n"
              "  http:\n"
              "    endpoint: 0.0.0.0:4318\n"
              "    auth:\n"
              "      authenticator: oauth2client\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "oauth2client"));
    assert_non_null(strstr(b.text.data, "bearertokenauth"));
    assert_non_null(strstr(b.text.data, "basicauth"));
    assert_non_null(strstr(b.text.data, "oidc"));
    assert_non_null(strstr(b.text.data, "t.yaml:5"));
    cfg_bound_free(&b);

    /* other authenticators: not available */
    bind_yaml(&b, &c, "protocols:\n  grpc:\n    auth:\n      authenticator: bearertokenauth\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "not available in this build"));
    cfg_bound_free(&b);

    /* the guide's mTLS block: client_auth_type accepted with a warning */
    bind_yaml(&b, &c,
              "protocols:\n"
              "  grpc:\n"
              "    endpoint: 0.0.0.0:4317\n"
              "    tls:\n"
              "      cert_file: /certs/server.crt\n"
              "      key_file: /certs/server.key\n"
              "      client_ca_file: /certs/ca.crt\n"
              "      client_auth_type: RequireAndVerifyClientCert\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.d.errors, 0);
    assert_true(b.d.warnings >= 1);
    assert_true(c.protocols.grpc.tls_set);
    assert_true(net_tls_server_enabled(&c.protocols.grpc.tls));
    assert_string_equal(c.protocols.grpc.tls.client_ca_file, "/certs/ca.crt");
    assert_string_equal(c.protocols.grpc.tls.min_version, "1.2");
    cfg_bound_free(&b);
}

static void test_errors(void **state)
{
    (void)state;
    otlprecv_cfg c;
    cfg_bound b;
    bind_yaml(&b, &c, "protocols:\n  http:\n    endpoint: \"localhost:43l8\"\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "invalid port \"43l8\""));
    assert_non_null(strstr(b.text.data, "receivers.otlp.protocols.http.endpoint"));
    assert_non_null(strstr(b.text.data, "t.yaml:3"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "protocols:\n  grpc:\n    endpont: x\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "endpoint")); /* did you mean */
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "protocols:\n  grpc:\n    tls:\n      cert_file: a.crt\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "key_file"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "protocols:\n  grpc:\n    tls:\n      min_version: \"1.5\"\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "min_version"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "protocols:\n  grpc:\n    transport: unix\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "protocols:\n  http:\n    compression_algorithms: [gzip, brotli]\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "brotli"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c,
              "protocols:\n  grpc:\n    keepalive:\n      server_parameters:\n"
              "        max_connection_idle: 11s\n        max_connection_age: 30s\n"
              "        max_connection_age_grace: 5s\n        time: 30s\n        timeout: 5s\n"
              "      enforcement_policy:\n        min_time: 10s\n"
              "        permit_without_stream: true\n");
    assert_int_equal(b.st, GB_OK);
    assert_true(c.protocols.grpc.keepalive_set);
    assert_true(c.protocols.grpc.keepalive.server_parameters_set);
    assert_int_equal(c.protocols.grpc.keepalive.server_parameters.max_connection_idle,
                     11000000000LL);
    assert_int_equal(c.protocols.grpc.keepalive.server_parameters.timeout, 5000000000LL);
    assert_true(c.protocols.grpc.keepalive.enforcement_policy.permit_without_stream);
    assert_int_equal(c.protocols.grpc.keepalive.enforcement_policy.min_time, 10000000000LL);
    cfg_bound_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_presence),
        cmocka_unit_test(test_guide_config),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
