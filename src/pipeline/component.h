/* Component model (otelcol contract, see docs/internals/pipeline.md).
 *
 * A component type is one const pl_descriptor: kind, type name and aliases, per-signal stability,
 * a config table (data, bound by src/config), and a vtable in which every slot may be NULL (the
 * core default is then used). The list of all types is components/registry.c.
 *
 * Lifecycle: create (no I/O) -> start (binds, spawns) -> shutdown (idempotent, legal without
 * start, drains, returns only when no callback can fire) -> destroy (frees).
 *
 * Consumer contract: consume(self, batch) hands ONE reference of batch to the callee, which must
 * release it (pd_batch_unref) whatever it returns. It returns GB_OK, GB_ERR_RETRY (transient or
 * backpressure: the receiver answers 503/UNAVAILABLE) or GB_ERR_PERMANENT (400/INVALID_ARGUMENT;
 * the callee already counted and logged the drop). A consumer may be called from several threads
 * at once and must be thread-safe. A batch marked read_only must not be modified; a consumer whose
 * descriptor sets `mutates` receives a batch it may modify. */
#ifndef PL_COMPONENT_H
#define PL_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/status.h"
#include "../config/config.h"
#include "../pdata/pdata.h"

typedef enum pl_kind {
    PL_RECEIVER = 0,
    PL_PROCESSOR,
    PL_EXPORTER,
    PL_CONNECTOR,
    PL_EXTENSION,
} pl_kind;
#define PL_KIND_COUNT 5

const char *pl_kind_name(pl_kind k);        /* "receiver" */
const char *pl_kind_plural(pl_kind k);      /* "receivers" (config section) */

typedef enum pl_stability {
    PL_UNSUPPORTED = 0, /* the signal is not supported */
    PL_DEVELOPMENT,
    PL_ALPHA,
    PL_BETA,
    PL_STABLE,
    PL_DEPRECATED,
} pl_stability;

const char *pl_stability_name(pl_stability s);

typedef struct pl_consumer pl_consumer;
struct pl_consumer {
    gb_status (*consume)(pl_consumer *self, pd_batch *b);
    bool mutates;
};

static inline gb_status pl_consume(pl_consumer *c, pd_batch *b)
{
    return c->consume(c, b);
}

typedef struct pl_host pl_host;
typedef struct pl_component pl_component;

typedef struct pl_descriptor {
    pl_kind kind;
    const char *type;           /* "otlp", "batch", ... */
    const char *const *aliases; /* NULL-terminated or NULL: other accepted type names */
    /* Per-signal stability for receivers, processors, exporters (index pd_signal). Extensions
     * use stability[0]. Connectors use connector[in][out]. */
    pl_stability stability[PD_SIGNAL_COUNT];
    pl_stability connector[PD_SIGNAL_COUNT][PD_SIGNAL_COUNT];
    const cfg_table *config; /* may be NULL: no keys accepted */
    size_t config_size;      /* size of the bound config struct */
    bool mutates;            /* processors/exporters that modify batches they consume */
    const char *doc;         /* one line */

    /* create: allocate c->state from c->cfg; no I/O, no threads. */
    gb_status (*create)(pl_component *c);
    /* start: bind sockets, start threads, register telemetry. */
    gb_status (*start)(pl_component *c, pl_host *host);
    /* consume: processors, exporters and connectors (input side). Follows the consumer contract. */
    gb_status (*consume)(pl_component *c, pd_batch *b);
    /* shutdown: idempotent; deadline_ns is a gb_mono_ns() time by which draining must end. */
    gb_status (*shutdown)(pl_component *c, int64_t deadline_ns);
    /* destroy: free c->state. */
    void (*destroy)(pl_component *c);
} pl_descriptor;

struct pl_component {
    const pl_descriptor *desc;
    char id[128];      /* "otlp/primary" as written in the config (alias resolved: type is desc's) */
    char full_id[160]; /* "exporter/otlp/primary", used in logs and telemetry labels */
    const char *name;  /* part after '/', "" when none */
    void *cfg;         /* bound config (desc->config_size bytes, in the config doc arena) */
    void *state;       /* owned by the component */
    pd_signal signal;  /* processors: the pipeline's signal; connectors: the input signal */
    /* Downstream, per signal (receivers and connectors: one per output signal; processors: the
     * next stage of their pipeline). NULL when no pipeline of that signal uses the component. */
    pl_consumer *next[PD_SIGNAL_COUNT];
    /* This component as a consumer, set by the pipeline engine (calls desc->consume). */
    pl_consumer as_consumer;
    pl_host *host;
};

/* ---- host services --------------------------------------------------------------------------- */

typedef enum pl_health {
    PL_HEALTH_STARTING = 0,
    PL_HEALTH_READY,
    PL_HEALTH_DRAINING,
    PL_HEALTH_STOPPED,
} pl_health;

struct net_pool;

struct pl_host {
    unsigned workers;       /* number of network worker threads to use */
    struct net_pool *pool;  /* shared network worker loops (src/net), started before receivers */
    const char *data_dir; /* directory for persistent state ("./genops-data") */
    int64_t start_time_ns;
    /* Health as seen by health_check (atomic int underneath). */
    pl_health (*health)(const pl_host *h);
    /* Describes the running graph for zpages: writes HTML-safe text lines. */
    void (*describe)(const pl_host *h, pl_kind what, gb_sbuf *out);
    void *impl; /* engine private */
};

/* ---- registry --------------------------------------------------------------------------------- */

/* All component types built in, NULL-terminated (components/registry.c). */
extern const pl_descriptor *const pl_registry[];
/* Finds a type by kind and name or alias; *is_alias tells which (for deprecation warnings). */
const pl_descriptor *pl_registry_find(pl_kind kind, const char *type, bool *is_alias);
/* Replaces the list pl_registry_find searches (tests); NULL restores pl_registry. */
void pl_registry_use(const pl_descriptor *const *list);
/* The list in use (pl_registry unless replaced). */
const pl_descriptor *const *pl_registry_list(void);

#endif
