/* Stand-in for the OTLP codec, linked into the component harness only while src/otlp has no
 * implementation. It validates the protobuf wire format and counts items (spans, metric data
 * points, log records) the way the real decoder would, and builds a batch with that many empty
 * items, so the receiver's behaviour (status codes, counters) can be tested on its own. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "otlp/otlp.h"

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int s = 0; s < 64; s += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* Walks a message; for LEN fields whose number matches path[0], recurses with path+1; at the end
 * of the path counts matches. Returns -1 on malformed input. */
static int64_t walk(const uint8_t *p, size_t len, const int *path, int depth, int max_depth)
{
    const uint8_t *end = p + len;
    int64_t n = 0;
    while (p < end) {
        uint64_t key, v;
        if (rd_varint(&p, end, &key) != 0) return -1;
        unsigned wt = key & 7, fn = (unsigned)(key >> 3);
        if (fn == 0) return -1;
        switch (wt) {
        case 0:
            if (rd_varint(&p, end, &v) != 0) return -1;
            break;
        case 1:
            if (end - p < 8) return -1;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return -1;
            p += 4;
            break;
        case 2: {
            if (rd_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
            if (depth < max_depth) {
                bool match = false;
                for (const int *q = path + depth * 6; *q; q++)
                    if ((int)fn == *q) match = true;
                if (match) {
                    if (depth == max_depth - 1) {
                        n++;
                    } else {
                        int64_t k = walk(p, v, path, depth + 1, max_depth);
                        if (k < 0) return -1;
                        n += k;
                    }
                }
            }
            p += v;
            break;
        }
        default:
            return -1;
        }
    }
    return n;
}

static gb_status fill(pd_batch *b, uint64_t n)
{
    gb_arena *a = &b->arena;
    switch (b->signal) {
    case PD_TRACES: {
        pd_resource_spans *rs = gb_arena_calloc(a, 1, sizeof(*rs));
        pd_scope_spans *ss = gb_arena_calloc(a, 1, sizeof(*ss));
        pd_span *sp = n ? gb_arena_calloc(a, n, sizeof(*sp)) : NULL;
        if (!rs || !ss || (n && !sp)) return GB_ERR_NOMEM;
        ss->spans = sp;
        ss->n_spans = (uint32_t)n;
        rs->scope_spans = ss;
        rs->n_scope_spans = 1;
        b->u.traces.v = rs;
        b->u.traces.n = 1;
        break;
    }
    case PD_METRICS: {
        pd_resource_metrics *rm = gb_arena_calloc(a, 1, sizeof(*rm));
        pd_scope_metrics *sm = gb_arena_calloc(a, 1, sizeof(*sm));
        pd_metric *m = gb_arena_calloc(a, 1, sizeof(*m));
        if (!rm || !sm || !m) return GB_ERR_NOMEM;
        m->n_dp = (uint32_t)n;
        sm->metrics = m;
        sm->n_metrics = 1;
        rm->scope_metrics = sm;
        rm->n_scope_metrics = 1;
        b->u.metrics.v = rm;
        b->u.metrics.n = 1;
        break;
    }
    case PD_LOGS: {
        pd_resource_logs *rl = gb_arena_calloc(a, 1, sizeof(*rl));
        pd_scope_logs *sl = gb_arena_calloc(a, 1, sizeof(*sl));
        pd_log *lr = n ? gb_arena_calloc(a, n, sizeof(*lr)) : NULL;
        if (!rl || !sl || (n && !lr)) return GB_ERR_NOMEM;
        sl->logs = lr;
        sl->n_logs = (uint32_t)n;
        rl->scope_logs = sl;
        rl->n_scope_logs = 1;
        b->u.logs.v = rl;
        b->u.logs.n = 1;
        break;
    }
    }
    return GB_OK;
}

gb_status otlp_decode_proto(pd_batch *b, gb_buf *buf, const uint8_t *data, size_t len,
                            otlp_error *err)
{
    /* paths: per level up to 5 field numbers, 0-terminated (6 slots) */
    static const int traces[] = {1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0};
    static const int logs[] = {1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0};
    static const int metrics[] = {1, 0, 0, 0, 0, 0, 2,  0,  0, 0, 0, 0, 2, 0, 0,
                                  0, 0, 0, 5, 7, 9, 10, 11, 0, 1, 0, 0, 0, 0, 0};
    int64_t n = b->signal == PD_METRICS
                    ? walk(data, len, metrics, 0, 5)
                    : walk(data, len, b->signal == PD_TRACES ? traces : logs, 0, 3);
    if (n < 0) {
        snprintf(err->msg, sizeof(err->msg), "proto: malformed message");
        return GB_ERR_INVALID;
    }
    if (buf) pd_batch_hold_buf(b, buf);
    return fill(b, (uint64_t)n);
}

static size_t arr_len(json_t *o, const char *k1, const char *k2)
{
    json_t *a = json_object_get(o, k1);
    if (!a && k2) a = json_object_get(o, k2);
    return json_is_array(a) ? json_array_size(a) : 0;
}

static json_t *arr(json_t *o, const char *k1, const char *k2)
{
    json_t *a = json_object_get(o, k1);
    if (!a && k2) a = json_object_get(o, k2);
    return json_is_array(a) ? a : NULL;
}

gb_status otlp_decode_json(pd_batch *b, const char *data, size_t len, otlp_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    if (!root || !json_is_object(root)) {
        snprintf(err->msg, sizeof(err->msg), "json: %s", root ? "not an object" : je.text);
        json_decref(root);
        return GB_ERR_INVALID;
    }
    uint64_t n = 0;
    static const char *top[3][2] = {{"resourceSpans", "resource_spans"},
                                    {"resourceMetrics", "resource_metrics"},
                                    {"resourceLogs", "resource_logs"}};
    static const char *scope[3][2] = {{"scopeSpans", "scope_spans"},
                                      {"scopeMetrics", "scope_metrics"},
                                      {"scopeLogs", "scope_logs"}};
    static const char *item[3][2] = {
        {"spans", NULL}, {"metrics", NULL}, {"logRecords", "log_records"}};
    int s = (int)b->signal;
    json_t *rs = arr(root, top[s][0], top[s][1]);
    size_t i, j, k;
    json_t *r, *sc, *it;
    if (rs) json_array_foreach(rs, i, r)
        {
            json_t *scs = arr(r, scope[s][0], scope[s][1]);
            if (scs) json_array_foreach(scs, j, sc)
                {
                    if (s != PD_METRICS) {
                        n += arr_len(sc, item[s][0], item[s][1]);
                        continue;
                    }
                    json_t *ms = arr(sc, "metrics", NULL);
                    if (ms) json_array_foreach(ms, k, it)
                        {
                            static const char *kinds[] = {"gauge",
                                                          "sum",
                                                          "histogram",
                                                          "exponentialHistogram",
                                                          "exponential_histogram",
                                                          "summary"};
                            for (size_t q = 0; q < 6; q++) {
                                json_t *d = json_object_get(it, kinds[q]);
                                if (d) n += arr_len(d, "dataPoints", "data_points");
                            }
                        }
                }
        }
    json_decref(root);
    return fill(b, n);
}

gb_status otlp_encode_response_proto(pd_signal s, int64_t rejected, const char *msg, gb_sbuf *out)
{
    (void)s;
    (void)rejected;
    (void)msg;
    (void)out;
    return GB_OK;
}

gb_status otlp_encode_response_json(pd_signal s, int64_t rejected, const char *msg, gb_sbuf *out)
{
    (void)s;
    (void)rejected;
    (void)msg;
    return gb_sbuf_puts(out, "{}");
}

gb_status otlp_encode_status_proto(int32_t code, const char *msg, gb_sbuf *out)
{
    size_t ml = strlen(msg);
    if (code) {
        gb_sbuf_putc(out, 0x08);
        uint32_t c = (uint32_t)code;
        while (c >= 0x80) {
            gb_sbuf_putc(out, (char)(c | 0x80));
            c >>= 7;
        }
        gb_sbuf_putc(out, (char)c);
    }
    if (ml) {
        gb_sbuf_putc(out, 0x12);
        size_t l = ml;
        while (l >= 0x80) {
            gb_sbuf_putc(out, (char)(l | 0x80));
            l >>= 7;
        }
        gb_sbuf_putc(out, (char)l);
        gb_sbuf_append(out, msg, ml);
    }
    return out->err;
}

gb_status otlp_encode_status_json(int32_t code, const char *msg, gb_sbuf *out)
{
    gb_sbuf_printf(out, "{\"code\":%d,\"message\":\"", code);
    gb_sbuf_json_escape(out, msg, strlen(msg));
    return gb_sbuf_puts(out, "\"}");
}
