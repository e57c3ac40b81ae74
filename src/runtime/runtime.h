/* The collector process: CLI, config loading, lifecycle, signals (TERM/INT drain, HUP reload),
 * self-telemetry endpoint. `rt_main` is the whole program; main.c only calls it. */
#ifndef RT_RUNTIME_H
#define RT_RUNTIME_H

#include "config/config.h"

/* Exit codes of `validate` (and of the collector when the config is bad). */
enum {
    RT_EXIT_OK = 0,
    RT_EXIT_INVALID = 1,
    RT_EXIT_UNREADABLE = 2,
};

int rt_main(int argc, char **argv);

/* The embedded default configuration (YAML), used when no --config is given. */
extern const char rt_default_config[];

/* Loads and merges config sources into doc: files in order (none: the embedded default), then
 * --set assignments. Returns RT_EXIT_* (diagnostics in d). */
int rt_load_config(cfg_doc *doc, const char *const *files, int n_files, const char *const *sets,
                   int n_sets, cfg_diags *d);

/* Writes the rendered diagnostics (if any) to stderr. */
void rt_print_diags(const cfg_diags *d);

#endif
