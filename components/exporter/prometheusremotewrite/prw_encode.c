/* Remote Write 1.0 WriteRequest encoding (prometheus/prompb types.proto, remote.proto):
 *
 *   WriteRequest   { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label          { string name = 1; string value = 2; }
 *   Sample         { double value = 1; int64 timestamp = 2; }   (timestamp in ms)
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4;
 *                    string unit = 5; }
 *
 * How: the translated series set (prw.h) is split into requests by their exact encoded sizes
 * (prw_series_wire_size), like otelcol's batchTimeSeries: entries are added while the request stays
 * under max_batch_size_bytes, a lone entry larger than the limit is sent alone. Each request is
 * written with the OTLP codec's backward protobuf writer (src/otlp/wire.h), so nested lengths need
 * no pre-pass; entries are visited last to first so the bytes come out in order. Zero scalars are
 * omitted as proto3 does. The body is then compressed with libsnappy's block format (what the
 * spec requires; the framed format is not accepted by receivers).
 *
 * Rejected: generating code from the .proto (a dependency for four tiny messages); writing a
 * forward encoder with a sizing pass (wire.h already solves nesting). */
#include <snappy-c.h>
#include <stdlib.h>

#include "otlp/wire.h"
#include "prw.h"

static size_t len_field(size_t payload)
{
    return 1 + pw_varint_size(payload) + payload;
}

static size_t label_payload(const prw_label *l)
{
    size_t n = 0;
    if (l->name_len) n += len_field(l->name_len);
    if (l->value_len) n += len_field(l->value_len);
    return n;
}

static size_t sample_payload(const prw_series *ts)
{
    size_t n = 0;
    if (pw_d2u(ts->value) != 0) n += 9;
    if (ts->ts_ms != 0) n += 1 + pw_varint_size((uint64_t)ts->ts_ms);
    return n;
}

static size_t series_payload(const prw_series_set *s, const prw_series *ts)
{
    size_t n = 0;
    for (uint32_t i = 0; i < ts->n_labels; i++)
        n += len_field(label_payload(&s->labels[ts->first_label + i]));
    n += len_field(sample_payload(ts));
    return n;
}

size_t prw_series_wire_size(const prw_series_set *s, uint32_t i)
{
    return len_field(series_payload(s, &s->series[i]));
}

static size_t meta_payload(const prw_metadata *m)
{
    size_t n = 0;
    if (m->type) n += 1 + pw_varint_size((uint64_t)m->type);
    if (m->name_len) n += len_field(m->name_len);
    if (m->help_len) n += len_field(m->help_len);
    if (m->unit_len) n += len_field(m->unit_len);
    return n;
}

size_t prw_metadata_wire_size(const prw_series_set *s, uint32_t i)
{
    return len_field(meta_payload(&s->meta[i]));
}

static gb_status push_chunk(prw_chunk **chunks, uint32_t *n, uint32_t *cap, prw_chunk c)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 8;
        prw_chunk *p = realloc(*chunks, nc * sizeof *p);
        if (!p) return GB_ERR_NOMEM;
        *chunks = p;
        *cap = nc;
    }
    (*chunks)[(*n)++] = c;
    return GB_OK;
}

gb_status prw_split(const prw_series_set *s, size_t max_bytes, prw_chunk **chunks, uint32_t *n,
                    uint32_t *cap)
{
    gb_status st = GB_OK;
    prw_chunk cur = {0, 0, 0, 0};
    size_t size = 0;
    *n = 0;
    uint32_t total = s->n_series + s->n_meta;
    for (uint32_t k = 0; k < total; k++) {
        bool is_meta = k >= s->n_series;
        size_t e =
            is_meta ? prw_metadata_wire_size(s, k - s->n_series) : prw_series_wire_size(s, k);
        if (size > 0 && size + e > max_bytes) {
            if ((st = push_chunk(chunks, n, cap, cur)) != GB_OK) goto out;
            size = 0;
            cur.first_series = cur.end_series;
            cur.first_meta = cur.end_meta;
        }
        size += e;
        if (is_meta)
            cur.end_meta = k - s->n_series + 1;
        else
            cur.end_series = k + 1;
    }
    if (size > 0) st = push_chunk(chunks, n, cap, cur);
out:
    return st;
}

static void put_str_field(pw_writer *w, uint32_t num, const prw_series_set *s, uint32_t off,
                          uint32_t len)
{
    if (len) pw_tag_bytes(w, num, s->strs.data + off, len);
}

gb_status prw_encode(const prw_series_set *s, const prw_chunk *c, gb_sbuf *out)
{
    size_t hint = 0;
    for (uint32_t i = c->first_series; i < c->end_series; i++)
        hint += prw_series_wire_size(s, i);
    for (uint32_t i = c->first_meta; i < c->end_meta; i++)
        hint += prw_metadata_wire_size(s, i);
    pw_writer w;
    gb_status st = pw_writer_init(&w, out, hint + 16);
    if (st != GB_OK) return st;
    for (uint32_t i = c->end_meta; i-- > c->first_meta;) {
        const prw_metadata *m = &s->meta[i];
        size_t mark = pw_written(&w);
        put_str_field(&w, 5, s, m->unit_off, m->unit_len);
        put_str_field(&w, 4, s, m->help_off, m->help_len);
        put_str_field(&w, 2, s, m->name_off, m->name_len);
        if (m->type) pw_tag_varint(&w, 1, (uint64_t)m->type);
        pw_close(&w, 3, mark);
    }
    for (uint32_t i = c->end_series; i-- > c->first_series;) {
        const prw_series *ts = &s->series[i];
        size_t mark = pw_written(&w);
        size_t smark = pw_written(&w);
        if (ts->ts_ms != 0) pw_tag_varint(&w, 2, (uint64_t)ts->ts_ms);
        if (pw_d2u(ts->value) != 0) pw_tag_fixed64(&w, 1, pw_d2u(ts->value));
        pw_close(&w, 2, smark);
        for (uint32_t j = ts->n_labels; j-- > 0;) {
            const prw_label *l = &s->labels[ts->first_label + j];
            size_t lmark = pw_written(&w);
            put_str_field(&w, 2, s, l->value_off, l->value_len);
            put_str_field(&w, 1, s, l->name_off, l->name_len);
            pw_close(&w, 1, lmark);
        }
        pw_close(&w, 1, mark);
    }
    return pw_writer_finish(&w);
}

gb_status prw_snappy(const void *in, size_t n, char **out, size_t *cap, size_t *out_len)
{
    size_t need = snappy_max_compressed_length(n);
    if (*cap < need) {
        char *p = realloc(*out, need);
        if (!p) return GB_ERR_NOMEM;
        *out = p;
        *cap = need;
    }
    size_t len = *cap;
    if (snappy_compress(in, n, *out, &len) != SNAPPY_OK) return GB_ERR_INVALID;
    *out_len = len;
    return GB_OK;
}
