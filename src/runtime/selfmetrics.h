/* The collector's own metrics endpoint (service.telemetry.metrics): Prometheus text at
 * http://host:port/metrics with every series of the self-telemetry registry plus process RSS,
 * CPU seconds and uptime, named as otelcol names them. */
#ifndef RT_SELFMETRICS_H
#define RT_SELFMETRICS_H

#include "base/status.h"
#include "net/net.h"

typedef struct rt_selfmetrics rt_selfmetrics;

/* port 0 picks a free port (tests); the bound port is logged. */
gb_status rt_selfmetrics_start(net_pool *pool, const char *host, int port, int64_t start_ns,
                               rt_selfmetrics **out);
void rt_selfmetrics_stop(rt_selfmetrics *m);

#endif
