/* The embedded default: what `genops-collector` runs with no --config (`print-config` shows it).
 *
 * ARCHITECTURE.md section 7: OTLP gRPC :4317 and HTTP :4318 -> memory_limiter -> governance ->
 * batch -> { debug (basic), governance connector -> prometheus :8889, ledger in ./genops-data/ },
 * health_check :13133, zpages :55679, self-metrics :8888, budget API on localhost:8890 (no budget
 * is defined, so it lists none until the user adds some). Traces and logs both go through
 * governance (an AI call may be reported as a span or as a log record; the processor, the ledger
 * and the connector take both). Metrics received over OTLP go through memory_limiter and batch to
 * debug only: the prometheus exporter serves the governance metrics, not the applications'.
 *
 * Every port and path is overridable with --set, e.g.
 *   --set receivers::otlp::protocols::http::endpoint=127.0.0.1:14318
 *   --set exporters::ledger::path=/var/lib/genops/ledger.db
 * The ledger (and budget state, once budgets are defined) live under ./genops-data relative to
 * the working directory; when it cannot be created or written the ledger exporter fails to start
 * with the path and the reason, and the collector exits with the start error. */
#include "runtime/runtime.h"

/* One YAML line per source line. */
/* clang-format off */
const char rt_default_config[] =
    "receivers:\n"
    "  otlp:\n"
    "    protocols:\n"
    "      grpc:\n"
    "        endpoint: 0.0.0.0:4317\n"
    "      http:\n"
    "        endpoint: 0.0.0.0:4318\n"
    "processors:\n"
    "  memory_limiter:\n"
    "    check_interval: 1s\n"
    "    limit_percentage: 80\n"
    "    spike_limit_percentage: 20\n"
    "  governance:\n"
    "    budget_api:\n"
    "      endpoint: localhost:8890\n"
    "  batch: {}\n"
    "exporters:\n"
    "  debug:\n"
    "    verbosity: basic\n"
    "  ledger: {}\n"
    "  prometheus:\n"
    "    endpoint: 0.0.0.0:8889\n"
    "connectors:\n"
    "  governance: {}\n"
    "extensions:\n"
    "  health_check:\n"
    "    endpoint: 0.0.0.0:13133\n"
    "  zpages:\n"
    "    endpoint: 0.0.0.0:55679\n"
    "service:\n"
    "  extensions: [health_check, zpages]\n"
    "  pipelines:\n"
    "    traces:\n"
    "      receivers: [otlp]\n"
    "      processors: [memory_limiter, governance, batch]\n"
    "      exporters: [debug, ledger, governance]\n"
    "    metrics:\n"
    "      receivers: [otlp]\n"
    "      processors: [memory_limiter, batch]\n"
    "      exporters: [debug]\n"
    "    metrics/governance:\n"
    "      receivers: [governance]\n"
    "      exporters: [prometheus]\n"
    "    logs:\n"
    "      receivers: [otlp]\n"
    "      processors: [memory_limiter, governance, batch]\n"
    "      exporters: [debug, ledger, governance]\n"
    "  telemetry:\n"
    "    metrics:\n"
    "      readers:\n"
    "        - pull:\n"
    "            exporter:\n"
    "              prometheus:\n"
    "                host: 0.0.0.0\n"
    "                port: 8888\n";
/* clang-format on */
