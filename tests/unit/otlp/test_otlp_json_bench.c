/* OTLP/JSON codec speed on a realistic 1000-span request (10 attributes per span, one event on
 * every tenth span), printed as ns per span for decode and encode. Each phase runs for a fixed
 * CPU-time budget so the test stays short under sanitizers; the assertions check that the measured
 * work is real (the decoded batch re-encodes to the same bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "base/timeutil.h"
#include "otlp/otlp.h"

#define N_SPANS 1000

/* CPU time of this thread: the machine may be shared, wall time would measure the neighbours. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * GB_NS_PER_S + ts.tv_nsec;
}

static char *make_request(size_t *len)
{
    gb_sbuf sb;
    gb_sbuf_init(&sb, 0);
    gb_sbuf_puts(&sb, "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
                      "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
                      "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"node-17\"}}]},"
                      "\"scopeSpans\":[{\"scope\":{\"name\":\"io.opentelemetry.http\","
                      "\"version\":\"1.2.3\"},\"spans\":[");
    for (int i = 0; i < N_SPANS; i++) {
        if (i) gb_sbuf_putc(&sb, ',');
        gb_sbuf_printf(
            &sb,
            "{\"traceId\":\"5b8efff798038103d269b633813f%04x\",\"spanId\":"
            "\"eee19b7ec3c1%04x\",\"parentSpanId\":\"eee19b7ec3c1b173\",\"name\":"
            "\"GET /api/v1/items/{id}\",\"kind\":2,\"startTimeUnixNano\":"
            "\"17000000000%08d\",\"endTimeUnixNano\":\"17000000001%08d\","
            "\"attributes\":["
            "{\"key\":\"http.request.method\",\"value\":{\"stringValue\":\"GET\"}},"
            "{\"key\":\"http.route\",\"value\":{\"stringValue\":\"/api/v1/items/{id}\"}},"
            "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"200\"}},"
            "{\"key\":\"url.scheme\",\"value\":{\"stringValue\":\"https\"}},"
            "{\"key\":\"server.address\",\"value\":{\"stringValue\":\"api.example.com\"}},"
            "{\"key\":\"server.port\",\"value\":{\"intValue\":\"443\"}},"
            "{\"key\":\"client.address\",\"value\":{\"stringValue\":\"10.1.2.3\"}},"
            "{\"key\":\"user_agent.original\",\"value\":{\"stringValue\":"
            "\"Mozilla/5.0 (X11; Linux x86_64)\"}},"
            "{\"key\":\"retry\",\"value\":{\"boolValue\":false}},"
            "{\"key\":\"duration.ratio\",\"value\":{\"doubleValue\":0.125}}]",
            i, i, i, i);
        if (i % 10 == 0)
            gb_sbuf_puts(&sb, ",\"events\":[{\"timeUnixNano\":\"1700000000500000000\",\"name\":"
                              "\"exception\",\"attributes\":[{\"key\":\"exception.type\","
                              "\"value\":{\"stringValue\":\"IOError\"}}]}],\"status\":{"
                              "\"message\":\"upstream failed\",\"code\":2}");
        gb_sbuf_putc(&sb, '}');
    }
    gb_sbuf_puts(&sb, "]}]}]}");
    assert_int_equal(sb.err, GB_OK);
    return gb_sbuf_take(&sb, len);
}

static void test_speed(void **state)
{
    (void)state;
    size_t len;
    char *req = make_request(&len);
    const int64_t budget = 300 * GB_NS_PER_MS;

    /* decode */
    long iters = 0;
    int64_t t0 = cpu_ns(), t1;
    do {
        pd_batch *b;
        otlp_error err;
        assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
        assert_int_equal(otlp_decode_json(b, req, len, &err), GB_OK);
        assert_int_equal(pd_batch_count(b), N_SPANS);
        pd_batch_unref(b);
        iters++;
        t1 = cpu_ns();
    } while (t1 - t0 < budget);
    double dec_ns = (double)(t1 - t0) / (double)iters / N_SPANS;

    /* encode (into a reused buffer, as an exporter does) */
    pd_batch *b;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_json(b, req, len, &err), GB_OK);
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    iters = 0;
    t0 = cpu_ns();
    do {
        gb_sbuf_reset(&out);
        assert_int_equal(otlp_encode_json(b, &out), GB_OK);
        iters++;
        t1 = cpu_ns();
    } while (t1 - t0 < budget);
    double enc_ns = (double)(t1 - t0) / (double)iters / N_SPANS;

    /* The request is canonical, so the encoder gives it back byte for byte. */
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, req, len);
    printf("otlp/json, %d spans, %zu bytes: decode %.0f ns/span, encode %.0f ns/span\n", N_SPANS,
           len, dec_ns, enc_ns);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
