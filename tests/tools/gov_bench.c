/* gov_bench: deterministic CPU cost of the governance processor and connector on a real OTLP
 * payload, against the pass-through work of the core benchmark (bench/run.sh fwd-http).
 *
 *   gov_bench PAYLOAD.pb [ITERATIONS] [MODE]
 *
 * PAYLOAD.pb is a binary ExportTraceServiceRequest (the harness's otlp_payload.py output). Each
 * iteration decodes it into a fresh batch (the receiver's work; the processor needs a writable
 * batch) and then, per mode:
 *   base  encode (otlp_encode_proto_inplace, the otlp exporter's encoder), unref;
 *   proc  governance processor, encode, unref;
 *   full  governance processor, encode, governance connector (which releases the batch);
 *   all   (default) the three in turn, printing ns/span for each, the processor's and the
 *         connector's share, and (full - base) / base.
 * The processor and connector are created through their descriptors with the configuration of
 * bench/configs/forward-governance.yaml. Under `valgrind --tool=callgrind` run one mode at a time
 * and divide the instruction count by spans x iterations (the setup is a small constant: compare
 * two iteration counts to cancel it; bench/gov_bench.sh does this).
 *
 * Rejected: timing inside the collector (bench/run.sh): wall time on a shared machine varies by
 * more than the effect measured; instruction counts of this loop are repeatable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "connector/governance/governance.h"
#include "otlp/otlp.h"
#include "pipeline/component.h"
#include "processor/governance/governance.h"

static const char k_proc_yaml[] = "p:\n"
                                  "  pricing:\n"
                                  "    recompute: true\n"
                                  "  budgets:\n"
                                  "    - name: team-daily\n"
                                  "      group_by: genops.team\n"
                                  "      limit: 1000000\n"
                                  "      window: day\n"
                                  "  budget_store:\n"
                                  "    path: \":memory:\"\n"
                                  "  policies:\n"
                                  "    - name: max-cost\n"
                                  "      kind: cost_limit\n"
                                  "      max_cost: 5.0\n"
                                  "    - name: models\n"
                                  "      kind: model_allowlist\n"
                                  "      allowed_models: [\"gpt-*\", \"claude-*\", \"gemini-*\"]\n";

static void die(const char *what, gb_status st)
{
    fprintf(stderr, "gov_bench: %s: %s\n", what, gb_status_str(st));
    exit(1);
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- downstream consumers --------------------------------------------------------------- */

static gb_sbuf g_enc;
static pl_component g_conn;
static int g_with_conn;

static void encode(const pd_batch *b)
{
    uint8_t *wire;
    size_t len;
    gb_status st = otlp_encode_proto_inplace(b, &g_enc, 0, &wire, &len);
    if (st) die("encode", st);
}

/* After the processor: the exporter's encoding, then the connector (or the release). */
static gb_status after_proc(pl_consumer *self, pd_batch *b)
{
    (void)self;
    encode(b);
    if (g_with_conn) return g_conn.desc->consume(&g_conn, b);
    pd_batch_unref(b);
    return GB_OK;
}

static gb_status drop_metrics(pl_consumer *self, pd_batch *b)
{
    (void)self;
    pd_batch_unref(b);
    return GB_OK;
}

static pl_consumer g_after_proc = {.consume = after_proc};
static pl_consumer g_metrics_nop = {.consume = drop_metrics};

/* ---- setup ------------------------------------------------------------------------------ */

static cfg_doc g_pdoc, g_cdoc;
static cfg_diags g_diags;
static pl_component g_proc;
static pl_host g_host;

static void *bind(const pl_descriptor *d, cfg_doc *doc, const char *yaml, const char *key,
                  const char *path)
{
    cfg_doc_init(doc);
    gb_status st = cfg_doc_parse(doc, "gov_bench.yaml", yaml, strlen(yaml), &g_diags);
    if (st) die("config parse", st);
    void *obj = NULL;
    const cfg_node *n = key ? cfg_node_get(doc->root, key) : doc->root;
    st = cfg_bind_new(d->config, d->config_size, n, path, doc, &g_diags, &obj);
    if (st || g_diags.errors) {
        gb_sbuf out;
        gb_sbuf_init(&out, 0);
        cfg_diags_render(&g_diags, &out);
        fprintf(stderr, "%.*s", (int)out.len, out.data ? out.data : "");
        die("config bind", st ? st : GB_ERR_INVALID);
    }
    return obj;
}

static void comp_setup(pl_component *c, const pl_descriptor *d, const char *full_id, void *cfg,
                       pd_signal out_sig, pl_consumer *next)
{
    memset(c, 0, sizeof *c);
    c->desc = d;
    snprintf(c->id, sizeof c->id, "governance");
    snprintf(c->full_id, sizeof c->full_id, "%s", full_id);
    c->name = "";
    c->cfg = cfg;
    c->signal = PD_TRACES;
    c->next[out_sig] = next;
    gb_status st = d->create(c);
    if (st) die("create", st);
    if (d->start && (st = d->start(c, &g_host))) die("start", st);
}

static void setup(void)
{
    cfg_diags_init(&g_diags);
    g_host.data_dir = "/tmp";
    void *pc =
        bind(&processor_governance_descriptor, &g_pdoc, k_proc_yaml, "p", "processors.governance");
    void *cc = bind(&connector_governance_descriptor, &g_cdoc, "", NULL, "connectors.governance");
    comp_setup(&g_proc, &processor_governance_descriptor, "processor/governance", pc, PD_TRACES,
               &g_after_proc);
    comp_setup(&g_conn, &connector_governance_descriptor, "connector/governance", cc, PD_METRICS,
               &g_metrics_nop);
}

static void teardown(void)
{
    processor_governance_descriptor.shutdown(&g_proc, 0);
    processor_governance_descriptor.destroy(&g_proc);
    connector_governance_descriptor.shutdown(&g_conn, 0);
    connector_governance_descriptor.destroy(&g_conn);
    cfg_doc_free(&g_pdoc);
    cfg_doc_free(&g_cdoc);
    cfg_diags_free(&g_diags);
}

/* ---- the loop --------------------------------------------------------------------------- */

/* Every decoded copy gets new trace ids (a running counter mixed into the first 8 bytes), as
 * distinct requests would have: a repeated payload would otherwise be de-duplicated by the budget
 * store and the connector after the first iteration, and measure only their duplicate path. */
static uint64_t g_seq;

static void fresh_ids(pd_batch *b)
{
    uint64_t n = ++g_seq;
    for (uint32_t r = 0; r < b->u.traces.n; r++)
        for (uint32_t k = 0; k < b->u.traces.v[r].n_scope_spans; k++) {
            pd_scope_spans *ss = &b->u.traces.v[r].scope_spans[k];
            for (uint32_t i = 0; i < ss->n_spans; i++)
                for (int j = 0; j < 8; j++)
                    ss->spans[i].trace_id.b[j] ^= (uint8_t)(n >> (8 * j));
        }
}

static pd_batch *decode(gb_buf *buf)
{
    pd_batch *b;
    otlp_error err;
    gb_status st = pd_batch_new(PD_TRACES, 0, &b);
    if (st) die("batch", st);
    if ((st = otlp_decode_proto(b, buf, buf->data, buf->len, &err))) {
        fprintf(stderr, "gov_bench: decode: %s\n", err.msg);
        exit(1);
    }
    fresh_ids(b);
    return b;
}

enum mode { M_BASE, M_PROC, M_FULL };

/* Runs iters iterations of mode m; returns CPU ns per span. */
static double run(gb_buf *buf, uint64_t spans, int iters, enum mode m)
{
    double t0 = cpu_ns();
    for (int i = 0; i < iters; i++) {
        pd_batch *b = decode(buf);
        if (m == M_BASE) {
            encode(b);
            pd_batch_unref(b);
            continue;
        }
        g_with_conn = m == M_FULL;
        gb_status st = g_proc.desc->consume(&g_proc, b);
        if (st) die("consume", st);
    }
    return (cpu_ns() - t0) / ((double)iters * (double)spans);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gov_bench PAYLOAD.pb [ITERATIONS] [base|proc|full|all]\n");
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 200;
    const char *mode = argc > 3 ? argv[3] : "all";
    if (iters < 1) iters = 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    gb_buf *buf;
    gb_status st = gb_buf_new((size_t)(sz > 0 ? sz : 1), &buf);
    if (st) die("buf", st);
    char *tmp = malloc((size_t)(sz > 0 ? sz : 1));
    if (!tmp || fread(tmp, 1, (size_t)sz, f) != (size_t)sz) {
        fprintf(stderr, "gov_bench: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    if ((st = gb_buf_append(&buf, tmp, (size_t)sz))) die("buf", st);
    free(tmp);
    gb_sbuf_init(&g_enc, 0);
    setup();

    pd_batch *probe = decode(buf);
    uint64_t spans = pd_batch_count(probe);
    pd_batch_unref(probe);
    if (!spans) {
        fprintf(stderr, "gov_bench: no spans in %s\n", argv[1]);
        return 1;
    }

    if (!strcmp(mode, "all")) {
        run(buf, spans, iters / 10 + 1, M_FULL); /* warm-up: tables, series, budget groups */
        double best[3] = {1e18, 1e18, 1e18};
        for (int round = 0; round < 5; round++)
            for (int m = 0; m < 3; m++) {
                double v = run(buf, spans, iters, (enum mode)m);
                if (v < best[m]) best[m] = v;
            }
        printf("spans/request %llu, iterations %d (best of 5, CPU time)\n",
               (unsigned long long)spans, iters);
        printf("base (decode+encode)            %8.1f ns/span\n", best[M_BASE]);
        printf("proc (base+processor)           %8.1f ns/span\n", best[M_PROC]);
        printf("full (base+processor+connector) %8.1f ns/span\n", best[M_FULL]);
        printf("processor                       %8.1f ns/span\n", best[M_PROC] - best[M_BASE]);
        printf("connector                       %8.1f ns/span\n", best[M_FULL] - best[M_PROC]);
        printf("(full-base)/base                %8.1f %%\n",
               100.0 * (best[M_FULL] - best[M_BASE]) / best[M_BASE]);
    } else {
        enum mode m = !strcmp(mode, "base")   ? M_BASE
                      : !strcmp(mode, "proc") ? M_PROC
                      : !strcmp(mode, "full") ? M_FULL
                                              : (enum mode) - 1;
        if ((int)m < 0) {
            fprintf(stderr, "gov_bench: unknown mode %s\n", mode);
            return 2;
        }
        printf("%s %.1f ns/span\n", mode, run(buf, spans, iters, m));
    }
    teardown();
    gb_sbuf_free(&g_enc);
    gb_buf_unref(buf);
    return 0;
}
