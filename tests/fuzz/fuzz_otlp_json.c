/* libFuzzer target for the OTLP/JSON codec. Every input is decoded as each signal; whatever
 * decodes must encode, the encoding must decode again, and re-encoding that must give the same
 * bytes (the encoder's output is a fixed point). The response decoder is exercised too. Aborts
 * on any violation so the fuzzer reports it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_signal(pd_signal s, const uint8_t *data, size_t size)
{
    pd_batch *b = NULL, *back = NULL;
    gb_sbuf out, again;
    otlp_error err;
    gb_sbuf_init(&out, 0);
    gb_sbuf_init(&again, 0);
    if (pd_batch_new(s, 0, &b) != GB_OK) abort();
    if (otlp_decode_json(b, (const char *)data, size, &err) != GB_OK) {
        if (err.msg[0] == '\0') abort(); /* every failure carries a reason */
        goto out;
    }
    if (otlp_encode_json(b, &out) != GB_OK) abort();
    if (pd_batch_new(s, 0, &back) != GB_OK) abort();
    if (otlp_decode_json(back, out.data, out.len, &err) != GB_OK) {
        fprintf(stderr, "re-decode failed: %s\n%s\n", err.msg, out.data);
        abort();
    }
    if (pd_batch_count(back) != pd_batch_count(b)) abort();
    if (otlp_encode_json(back, &again) != GB_OK) abort();
    if (again.len != out.len || memcmp(again.data, out.data, out.len) != 0) {
        fprintf(stderr, "encoding is not a fixed point:\n%s\n%s\n", out.data, again.data);
        abort();
    }
out:
    gb_sbuf_free(&out);
    gb_sbuf_free(&again);
    pd_batch_unref(back);
    pd_batch_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        check_signal((pd_signal)s, data, size);
        int64_t rejected;
        char msg[32];
        otlp_decode_response_json((pd_signal)s, (const char *)data, size, &rejected, msg,
                                  sizeof msg);
    }
    return 0;
}
