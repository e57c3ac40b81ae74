/* genops-collector command line (otelcol's flags and subcommands):
 *
 *   genops-collector [--config FILE]... [--set KEY=VALUE]...     run
 *   genops-collector validate [--config FILE]... [--set ...]      exit 0 valid, 1 invalid,
 *                                                                 2 unreadable
 *   genops-collector print-config [--config FILE]... [--set ...]  merged effective config
 *                                                                 (secrets hidden)
 *   genops-collector components                                   built-in component types
 *   genops-collector version
 *   genops-collector report [--db PATH] [--by KEYS] ...           cost from the ledger
 *                                     (runtime/report.c; "report" must be the first argument)
 *
 * Flags accept both "--config FILE" and "--config=FILE". With no --config the embedded default
 * runs. Rejected: getopt_long (subcommands may come before or after the flags, and otelcol's
 * "--set=a::b=c" needs the first '=' only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "pipeline/component.h"
#include "pipeline/graph.h"
#include "runtime/report.h"
#include "runtime/runtime.h"
#include "runtime/service.h"

#define MAX_SOURCES 64

/* Hidden by print-config besides the keys that component tables flag CFG_F_SECRET (so configs of
 * types this build does not ship are covered too). Not "key": that is the attribute name in the
 * attributes/resource processors' actions. */
static const char *const k_secret_keys[] = {"api_key",       "token",         "password",
                                            "secret",        "client_secret", "authorization",
                                            "Authorization", "bearer_token",  "key_file_content"};

#define MAX_SECRET_KEYS 256

/* k_secret_keys plus every CFG_F_SECRET key of the registered component types, NULL-terminated. */
static void collect_secret_keys(const char **keys)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof k_secret_keys / sizeof k_secret_keys[0]; i++)
        keys[n++] = k_secret_keys[i];
    keys[n] = NULL;
    for (size_t i = 0; pl_registry[i]; i++)
        cfg_table_secret_keys(pl_registry[i]->config, keys, &n, MAX_SECRET_KEYS);
}

static void usage(FILE *f)
{
    fputs("Usage: genops-collector [command] [--config FILE]... [--set KEY=VALUE]...\n"
          "\n"
          "Commands:\n"
          "  (none)         run the collector (the embedded default config without --config)\n"
          "  validate       check the configuration; exit 0 valid, 1 invalid, 2 unreadable\n"
          "  print-config   print the merged effective configuration (secrets hidden)\n"
          "  components     list the built-in component types and their config keys\n"
          "  report         cost and usage from the ledger database (report --help)\n"
          "  version        print the version\n"
          "\n"
          "Flags:\n"
          "  --config FILE      configuration file (repeatable; later files deep-merge over "
          "earlier)\n"
          "  --set KEY=VALUE    override one key, e.g. --set processors::batch::timeout=2s\n"
          "  --feature-gates X  accepted for otelcol compatibility (no gates exist)\n",
          f);
}

int rt_load_config(cfg_doc *doc, const char *const *files, int n_files, const char *const *sets,
                   int n_sets, cfg_diags *d)
{
    int rc = RT_EXIT_OK;
    if (n_files == 0) {
        if (cfg_doc_parse(doc, "<embedded default>", rt_default_config, strlen(rt_default_config),
                          d) != GB_OK)
            rc = RT_EXIT_INVALID;
    }
    for (int i = 0; i < n_files && rc == RT_EXIT_OK; i++) {
        if (i == 0) {
            gb_status st = cfg_doc_load_file(doc, files[i], d);
            if (st == GB_ERR_IO)
                rc = RT_EXIT_UNREADABLE;
            else if (st != GB_OK)
                rc = RT_EXIT_INVALID;
            continue;
        }
        cfg_doc next;
        cfg_doc_init(&next);
        gb_status st = cfg_doc_load_file(&next, files[i], d);
        if (st == GB_ERR_IO)
            rc = RT_EXIT_UNREADABLE;
        else if (st != GB_OK)
            rc = RT_EXIT_INVALID;
        else if (cfg_doc_merge(doc, &next) != GB_OK)
            rc = RT_EXIT_INVALID;
        cfg_doc_free(&next);
    }
    for (int i = 0; i < n_sets && rc == RT_EXIT_OK; i++)
        if (cfg_doc_set(doc, sets[i], d) != GB_OK) rc = RT_EXIT_INVALID;
    return rc;
}

void rt_print_diags(const cfg_diags *d)
{
    if (d->n == 0) return;
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    cfg_diags_render(d, &out);
    if (out.len) fwrite(out.data, 1, out.len, stderr);
    gb_sbuf_free(&out);
}

static int cmd_validate(rt_options *o)
{
    cfg_doc doc;
    cfg_diags d;
    cfg_doc_init(&doc);
    cfg_diags_init(&d);
    int rc = rt_load_config(&doc, o->files, o->n_files, o->sets, o->n_sets, &d);
    if (rc == RT_EXIT_OK) {
        pl_host host = {0};
        pl_graph *g = NULL;
        if (pl_graph_build(&doc, &host, &d, &g) != GB_OK) rc = RT_EXIT_INVALID;
        pl_graph_free(g);
    }
    rt_print_diags(&d);
    if (rc == RT_EXIT_OK)
        fprintf(stderr, "configuration is valid%s\n", d.warnings ? " (with warnings)" : "");
    else if (rc == RT_EXIT_INVALID)
        fprintf(stderr, "configuration is invalid: %u error%s\n", d.errors,
                d.errors == 1 ? "" : "s");
    cfg_diags_free(&d);
    cfg_doc_free(&doc);
    return rc;
}

static int cmd_print_config(rt_options *o)
{
    cfg_doc doc;
    cfg_diags d;
    cfg_doc_init(&doc);
    cfg_diags_init(&d);
    int rc = rt_load_config(&doc, o->files, o->n_files, o->sets, o->n_sets, &d);
    rt_print_diags(&d);
    if (rc == RT_EXIT_OK) {
        gb_sbuf out;
        gb_sbuf_init(&out, 0);
        const char *secrets[MAX_SECRET_KEYS];
        collect_secret_keys(secrets);
        cfg_node_emit_yaml(doc.root, &out, secrets);
        if (out.len) fwrite(out.data, 1, out.len, stdout);
        gb_sbuf_free(&out);
    }
    cfg_diags_free(&d);
    cfg_doc_free(&doc);
    return rc;
}

static int cmd_components(void)
{
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    gb_sbuf_printf(&out,
                   "buildinfo:\n  command: genops-collector\n  description: GenOps "
                   "Collector\n  version: %s\n",
                   GENOPS_VERSION);
    for (int k = 0; k < PL_KIND_COUNT; k++) {
        gb_sbuf_printf(&out, "%s:\n", pl_kind_plural((pl_kind)k));
        for (size_t i = 0; pl_registry[i]; i++) {
            const pl_descriptor *desc = pl_registry[i];
            if ((int)desc->kind != k) continue;
            gb_sbuf_printf(&out, "  - name: %s\n", desc->type);
            if (desc->aliases && desc->aliases[0]) {
                gb_sbuf_puts(&out, "    aliases: [");
                for (size_t j = 0; desc->aliases[j]; j++)
                    gb_sbuf_printf(&out, "%s%s", j ? ", " : "", desc->aliases[j]);
                gb_sbuf_puts(&out, "]\n");
            }
            if (desc->doc) { /* quoted: descriptions contain ": " */
                gb_sbuf_puts(&out, "    description: \"");
                for (const char *c = desc->doc; *c; c++) {
                    if (*c == '"' || *c == '\\') gb_sbuf_putc(&out, '\\');
                    gb_sbuf_putc(&out, *c);
                }
                gb_sbuf_puts(&out, "\"\n");
            }
            gb_sbuf_puts(&out, "    stability:\n");
            if (k == PL_EXTENSION) {
                gb_sbuf_printf(&out, "      extension: %s\n",
                               pl_stability_name(desc->stability[0]));
            } else if (k == PL_CONNECTOR) {
                for (int a = 0; a < PD_SIGNAL_COUNT; a++)
                    for (int b = 0; b < PD_SIGNAL_COUNT; b++)
                        if (desc->connector[a][b] != PL_UNSUPPORTED)
                            gb_sbuf_printf(&out, "      %s-to-%s: %s\n",
                                           pd_signal_name((pd_signal)a),
                                           pd_signal_name((pd_signal)b),
                                           pl_stability_name(desc->connector[a][b]));
            } else {
                for (int s = 0; s < PD_SIGNAL_COUNT; s++)
                    if (desc->stability[s] != PL_UNSUPPORTED)
                        gb_sbuf_printf(&out, "      %s: %s\n", pd_signal_name((pd_signal)s),
                                       pl_stability_name(desc->stability[s]));
            }
            if (desc->config) {
                gb_sbuf_puts(&out, "    config: |\n"); /* literal block: keeps it YAML */
                cfg_table_describe(desc->config, 6, &out);
            }
        }
    }
    fwrite(out.data, 1, out.len, stdout);
    gb_sbuf_free(&out);
    return 0;
}

static int parse_args(int argc, char **argv, rt_options *o, const char **cmd)
{
    static const char *files[MAX_SOURCES], *sets[MAX_SOURCES];
    o->files = files;
    o->sets = sets;
    *cmd = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *flag = NULL;
        if (strncmp(a, "--", 2) == 0 && strlen(a) > 2) {
            const char *eq = strchr(a, '=');
            static char name[64];
            size_t n = eq ? (size_t)(eq - a) : strlen(a);
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, a, n);
            name[n] = '\0';
            flag = name;
            if (strcmp(flag, "--help") == 0) {
                usage(stdout);
                exit(0);
            }
            if (strcmp(flag, "--version") == 0) {
                *cmd = "version";
                continue;
            }
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                fprintf(stderr, "genops-collector: %s needs a value\n", flag);
                return 2;
            }
            if (strcmp(flag, "--config") == 0) {
                if (o->n_files == MAX_SOURCES) return 2;
                files[o->n_files++] = val;
            } else if (strcmp(flag, "--set") == 0) {
                if (o->n_sets == MAX_SOURCES) return 2;
                sets[o->n_sets++] = val;
            } else if (strcmp(flag, "--feature-gates") == 0) {
                /* accepted, nothing to toggle */
            } else if (strcmp(flag, "--shutdown-timeout") == 0) {
                if (cfg_parse_duration(val, &o->shutdown_timeout) != GB_OK) {
                    fprintf(stderr, "genops-collector: invalid --shutdown-timeout \"%s\"\n", val);
                    return 2;
                }
            } else {
                fprintf(stderr, "genops-collector: unknown flag %s\n", flag);
                usage(stderr);
                return 2;
            }
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (*cmd) {
            fprintf(stderr, "genops-collector: unexpected argument \"%s\"\n", a);
            return 2;
        }
        *cmd = a;
    }
    return 0;
}

int rt_main(int argc, char **argv)
{
    rt_options o = {0};
    o.shutdown_timeout = 30 * 1000000000LL;
    const char *cmd = NULL;
    /* report has its own flags (--db, --by, ...): it must come first */
    if (argc >= 2 && strcmp(argv[1], "report") == 0) return rt_report_main(argc - 1, argv + 1);
    int rc = parse_args(argc, argv, &o, &cmd);
    if (rc) return rc;
    if (!cmd) return rt_service_run(&o);
    if (strcmp(cmd, "version") == 0) {
        printf("genops-collector version %s\n", GENOPS_VERSION);
        return 0;
    }
    if (strcmp(cmd, "validate") == 0) return cmd_validate(&o);
    if (strcmp(cmd, "print-config") == 0 || strcmp(cmd, "print-initial-config") == 0)
        return cmd_print_config(&o);
    if (strcmp(cmd, "components") == 0) return cmd_components();
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "genops-collector: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
