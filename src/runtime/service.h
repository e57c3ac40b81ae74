/* The running collector: load config, build and start the graph, wait for signals.
 * SIGTERM/SIGINT drain (receivers stop first, batches flush, exporter queues drain within
 * --shutdown-timeout); SIGHUP reloads the config and keeps the running pipelines when the new
 * config is invalid. */
#ifndef RT_SERVICE_H
#define RT_SERVICE_H

#include <stdint.h>

typedef struct rt_options {
    const char **files;
    int n_files;
    const char **sets;
    int n_sets;
    int64_t shutdown_timeout; /* ns */
} rt_options;

int rt_service_run(const rt_options *o);

#endif
