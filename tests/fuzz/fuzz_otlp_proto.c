/* Fuzz target for the OTLP protobuf codec: the input is decoded as a traces, metrics and logs
 * request; whatever decodes is re-encoded, decoded again and re-encoded, and the two encodings
 * must be identical (the codec is a fixed point after one round). Also feeds the input to the
 * response decoder and clones decoded batches. Any crash, sanitizer report or abort is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/otlp.h"

static void one_signal(pd_signal s, const uint8_t *data, size_t size)
{
    pd_batch *b = NULL, *b2 = NULL, *cl = NULL;
    gb_sbuf e1, e2;
    otlp_error err;
    gb_sbuf_init(&e1, 0);
    gb_sbuf_init(&e2, 0);
    if (pd_batch_new(s, 0, &b) != GB_OK) abort();
    if (otlp_decode_proto(b, NULL, data, size, &err) != GB_OK) {
        if (!err.msg[0]) abort(); /* every rejection carries a reason */
        goto out;
    }
    (void)pd_batch_count(b);
    if (otlp_encode_proto(b, &e1) != GB_OK) abort();
    if (pd_batch_new(s, 0, &b2) != GB_OK) abort();
    if (otlp_decode_proto(b2, NULL, (const uint8_t *)e1.data, e1.len, &err) != GB_OK) abort();
    if (otlp_encode_proto(b2, &e2) != GB_OK) abort();
    if (e1.len != e2.len || (e1.len && memcmp(e1.data, e2.data, e1.len) != 0)) abort();
    if (pd_batch_clone(b, &cl) != GB_OK) abort();
    gb_sbuf_reset(&e2);
    if (otlp_encode_proto(cl, &e2) != GB_OK) abort();
    if (e1.len != e2.len || (e1.len && memcmp(e1.data, e2.data, e1.len) != 0)) abort();
out:
    gb_sbuf_free(&e1);
    gb_sbuf_free(&e2);
    pd_batch_unref(cl);
    pd_batch_unref(b2);
    pd_batch_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int s = 0; s < PD_SIGNAL_COUNT; s++)
        one_signal((pd_signal)s, data, size);
    int64_t rejected;
    char msg[32];
    (void)otlp_decode_response_proto(PD_TRACES, data, size, &rejected, msg, sizeof msg);
    return 0;
}
