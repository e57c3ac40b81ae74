/* Exporter helper shared by every exporter (otelcol's exporterhelper): timeout, retry_on_failure,
 * sending_queue. An exporter supplies one synchronous export function; the helper calls it from
 * its own consumer threads (num_consumers), retries RETRY results with exponential backoff and
 * jitter until max_elapsed_time, drops PERMANENT results, and counts everything in otelcol's
 * self-metrics:
 *   otelcol_exporter_sent_<items>{exporter="<id>"}
 *   otelcol_exporter_send_failed_<items>{exporter="<id>"}
 *   otelcol_exporter_enqueue_failed_<items>{exporter="<id>"}
 *   otelcol_exporter_queue_size{exporter="<id>",data_type="<signal>"}
 *   otelcol_exporter_queue_capacity{exporter="<id>",data_type="<signal>"}
 * (<items> = spans | metric_points | log_records). Every dropped batch is logged with its reason.
 *
 * With the queue disabled, pl_exphelper_consume exports on the caller's thread (with retries)
 * and returns the final result. With the queue enabled, it enqueues and returns at once; a full
 * queue returns GB_ERR_RETRY (the receiver answers 503 / UNAVAILABLE) unless drop_on_overflow is
 * set, in which case the batch is dropped, counted as enqueue_failed, and GB_OK is returned. */
#ifndef PL_EXPORTER_HELPER_H
#define PL_EXPORTER_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../config/config.h"
#include "../pdata/pdata.h"

typedef struct pl_retry_cfg {
    bool enabled;                /* default true */
    int64_t initial_interval;    /* ns, default 5s */
    int64_t max_interval;        /* ns, default 30s */
    int64_t max_elapsed_time;    /* ns, default 300s; 0 = retry forever */
    double multiplier;           /* default 1.5 */
    double randomization_factor; /* default 0.5 ("jitter") */
} pl_retry_cfg;

typedef struct pl_queue_cfg {
    bool enabled;          /* default true */
    int64_t num_consumers; /* default 10 */
    int64_t queue_size;    /* batches, default 1000 */
    bool
        block_on_overflow; /* otelcol key: wait for room (bounded by timeout) instead of refusing */
    bool drop_on_overflow; /* ours: drop and count instead of pushing back */
    int sizer;             /* otelcol `sizer`: 0 = requests (the only one supported) */
    char *storage;         /* otelcol `storage` (persistent queue): refused in this build */
} pl_queue_cfg;

/* Defaults as documented above (what the cfg tables produce for an empty section). */
void pl_retry_cfg_default(pl_retry_cfg *r);
void pl_queue_cfg_default(pl_queue_cfg *q);

/* Config tables, to embed in exporter config tables as sections:
 *   {"retry_on_failure", CFG_T_SECTION, offsetof(my_cfg, retry), .sub = &pl_retry_table}
 *   {"sending_queue", CFG_T_SECTION, offsetof(my_cfg, queue), .sub = &pl_queue_table}
 *   {"timeout", CFG_T_DURATION, offsetof(my_cfg, timeout), "5s", ...} */
extern const cfg_table pl_retry_table;
extern const cfg_table pl_queue_table;

/* The retry_on_failure fields with other defaults for initial_interval, max_interval and
 * max_elapsed_time, for exporters whose otelcol defaults differ (prometheusremotewrite: 50ms,
 * 200ms, 1m). Use with pl_retry_validate:
 *   static const cfg_field f[] = PL_RETRY_FIELDS("50ms", "200ms", "1m");
 *   static CFG_TABLE(my_retry_table, f, pl_retry_validate); */
/* clang-format off */
#define PL_RETRY_FIELDS(initial_, max_, elapsed_)                                                  \
    {                                                                                              \
        {"enabled", CFG_T_BOOL, offsetof(pl_retry_cfg, enabled), "true",                           \
         "retry failed exports", .flags = 0},                                                      \
        {"initial_interval", CFG_T_DURATION, offsetof(pl_retry_cfg, initial_interval), initial_,   \
         "wait after the first failure", .flags = 0},                                              \
        {"randomization_factor", CFG_T_DOUBLE, offsetof(pl_retry_cfg, randomization_factor), "0.5",\
         "jitter: each wait is interval * (1 +/- factor)", .min = 0, .max = 1},                    \
        {"multiplier", CFG_T_DOUBLE, offsetof(pl_retry_cfg, multiplier), "1.5",                    \
         "growth of the interval after each failure", .min = 1, .max = 1000},                      \
        {"max_interval", CFG_T_DURATION, offsetof(pl_retry_cfg, max_interval), max_,               \
         "upper bound of the interval", .flags = 0},                                               \
        {"max_elapsed_time", CFG_T_DURATION, offsetof(pl_retry_cfg, max_elapsed_time), elapsed_,   \
         "give up after this long (0 = retry forever)", .flags = 0},                               \
    }
/* clang-format on */
void pl_retry_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d);

typedef struct pl_export_result {
    int64_t
        retry_after_ns; /* server-requested delay for RETRY (Retry-After, RetryInfo), 0 = none */
    int64_t rejected;   /* items the peer reported as rejected (partial success) */
    char message[256];  /* reason for logs: "HTTP 503: ...", "grpc-status 14: ..." */
} pl_export_result;

/* Synchronous export of one batch with a deadline (gb_mono_ns() time). Returns GB_OK,
 * GB_ERR_RETRY (transient) or GB_ERR_PERMANENT. Must not keep a reference to b after returning.
 * Called concurrently from up to num_consumers threads; the thread index (0..num_consumers-1)
 * lets the exporter keep one connection per thread without locking. */
typedef gb_status (*pl_export_fn)(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                                  pl_export_result *res);

typedef struct pl_exphelper pl_exphelper;

typedef struct pl_exphelper_opts {
    const char *id;   /* component id for labels and logs, e.g. "otlphttp/primary" */
    pd_signal signal; /* one helper per signal */
    int64_t timeout;  /* per attempt, ns (0 = none) */
    const pl_retry_cfg *retry;
    const pl_queue_cfg *queue;
    pl_export_fn export_fn;
    void *ctx;
} pl_exphelper_opts;

gb_status pl_exphelper_new(const pl_exphelper_opts *opts, pl_exphelper **out);
/* Starts the consumer threads. */
gb_status pl_exphelper_start(pl_exphelper *h);
/* Consumer contract: takes the reference to b. */
gb_status pl_exphelper_consume(pl_exphelper *h, pd_batch *b);
/* Stops accepting, exports what is queued until deadline_ns (retries are cut short at the
 * deadline), drops and counts the rest, joins the threads. Idempotent. */
gb_status pl_exphelper_shutdown(pl_exphelper *h, int64_t deadline_ns);
void pl_exphelper_free(pl_exphelper *h);
/* One helper per signal, for exporters that serve every signal from one state (debug, file):
 * pl_exphelper_set_start creates and starts them from a template whose `signal` is ignored;
 * consume routes by the batch's signal (RETRY when that helper does not exist); shutdown and
 * free act on all of them. */
typedef struct pl_exphelper_set {
    pl_exphelper *h[PD_SIGNAL_COUNT];
} pl_exphelper_set;

gb_status pl_exphelper_set_start(pl_exphelper_set *set, const pl_exphelper_opts *tmpl);
gb_status pl_exphelper_set_consume(pl_exphelper_set *set, pd_batch *b);
void pl_exphelper_set_shutdown(pl_exphelper_set *set, int64_t deadline_ns);
void pl_exphelper_set_free(pl_exphelper_set *set);

/* Current queue length (batches) and capacity. */
uint64_t pl_exphelper_queue_size(const pl_exphelper *h);

#endif
