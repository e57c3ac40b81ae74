/* `genops-collector report`: cost and usage per team / model / customer / day ... from the ledger
 * database the ledger exporter writes.
 *
 * What: one SQL aggregation over table `ledger` for a time window (--since, or --from/--to),
 * grouped by the --by keys, ordered by cost (highest first), printed as an aligned table with a
 * TOTAL line, as CSV or as JSON. Per group: operations, unpriced operations, input and output
 * tokens, cost. Cost is the SQLite integer SUM of cost_nusd (exact, int64 nano-USD), printed in
 * USD with 6 decimals by integer arithmetic (rounded half away from zero); CSV and JSON carry the
 * exact cost_nusd as well. An operation counts as unpriced when its cost_status is `unpriced`, it
 * has no cost, or its currency is not USD; its cost is not added (so a $0 next to a non-zero
 * unpriced count is never read as free).
 *
 * How: the database is opened read-only (SQLITE_OPEN_READONLY); in WAL mode readers never block
 * the collector's writer and see the last committed transaction. The window and the top limit are
 * bound parameters; group expressions come from a fixed table of keys (never from user text).
 *
 * Rejected: printing doubles for money (sums of doubles drift), and a TOTAL computed from the
 * printed groups (wrong with --top): the total is its own query over the whole window. */
#include "runtime/report.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/timeutil.h"
#include "config/config.h"
#include "exporter/ledger/ledger.h"
#include "runtime/runtime.h"

#define DEFAULT_DB "./genops-data/ledger.db"

/* ---- keys --------------------------------------------------------------------------------------
 */

static const struct {
    const char *name;
    const char *expr;
} k_keys[] = {
    {"team", "team"},
    {"customer", "customer_id"},
    {"customer_id", "customer_id"},
    {"project", "project"},
    {"environment", "environment"},
    {"feature", "feature"},
    {"cost_center", "cost_center"},
    {"user", "user_id"},
    {"provider", "provider"},
    {"model", "model"},
    {"operation", "operation"},
    {"service", "service_name"},
    {"day", "strftime('%Y-%m-%d', time / 1000000000, 'unixepoch')"},
    {"tier", "cost_tier"},
    {"status", "cost_status"},
};
#define N_KEYS (int)(sizeof k_keys / sizeof k_keys[0])

int rt_report_key(const char *name)
{
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(k_keys[i].name, name) == 0) return i;
    return -1;
}

const char *rt_report_keys_list(void)
{
    return "team, customer (or customer_id), project, environment, feature, cost_center, user, "
           "provider, model, operation, service, day, tier, status";
}

/* ---- parsing -----------------------------------------------------------------------------------
 */

int rt_report_parse_duration(const char *s, int64_t *ns)
{
    const char *p = s;
    double total = 0;
    if (!*p) return -1;
    while (*p) {
        char *e;
        if (!((*p >= '0' && *p <= '9') || *p == '.')) return -1; /* no sign, no blanks */
        errno = 0;
        double v = strtod(p, &e);
        if (e == p || errno || v < 0) return -1;
        p = e;
        double unit;
        if (strncmp(p, "ms", 2) == 0)
            unit = 1e6, p += 2;
        else if (*p == 's')
            unit = 1e9, p++;
        else if (*p == 'm')
            unit = 60e9, p++;
        else if (*p == 'h')
            unit = 3600e9, p++;
        else if (*p == 'd')
            unit = 86400e9, p++;
        else if (*p == 'w')
            unit = 7 * 86400e9, p++;
        else
            return -1;
        total += v * unit;
    }
    if (!(total >= 1 && total < 9.2e18)) return -1;
    *ns = (int64_t)total;
    return 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int rt_report_parse_time(const char *s, int64_t *ns)
{
    const char *p = s;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac = 0, off = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec)) return -1;
            if (*p == '.') {
                p++;
                int n = 0;
                for (; *p >= '0' && *p <= '9'; p++, n++)
                    if (n < 9) frac = frac * 10 + (*p - '0');
                if (n == 0) return -1;
                for (; n < 9; n++)
                    frac *= 10;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
                return -1;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969)) return -1;
    *ns = ((int64_t)t - off) * GB_NS_PER_S + frac;
    return 0;
}

/* ---- query -------------------------------------------------------------------------------------
 */

typedef struct agg {
    char *key[RT_REPORT_MAX_BY]; /* NULL = no value */
    int64_t ops, unpriced, in_tok, out_tok, nusd;
} agg;

#define UNPRICED                                                                                   \
    "(cost_status = 'unpriced' OR cost_nusd IS NULL OR COALESCE(currency, 'USD') <> 'USD')"

static const char k_measures[] =
    "COUNT(*), SUM(CASE WHEN " UNPRICED " THEN 1 ELSE 0 END), COALESCE(SUM(tokens_input), 0), "
    "COALESCE(SUM(tokens_output), 0), COALESCE(SUM(CASE WHEN " UNPRICED
    " THEN NULL ELSE cost_nusd END), 0)";

static void usd(int64_t nusd, char *out, size_t cap)
{
    uint64_t a = nusd < 0 ? (uint64_t)0 - (uint64_t)nusd : (uint64_t)nusd;
    uint64_t micro = (a + 500) / 1000;
    snprintf(out, cap, "%s%" PRIu64 ".%06" PRIu64, nusd < 0 && micro ? "-" : "", micro / 1000000,
             micro % 1000000);
}

static void err_db(gb_sbuf *err, const char *path, sqlite3 *db, const char *what)
{
    int e = db ? sqlite3_system_errno(db) : 0;
    gb_sbuf_printf(err, "%s %s: %s%s%s", what, path, db ? sqlite3_errmsg(db) : "out of memory",
                   e ? ": " : "", e ? strerror(e) : "");
}

static void free_rows(agg *rows, size_t n, int n_by)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < n_by; k++)
            free(rows[i].key[k]);
    free(rows);
}

static void csv_field(gb_sbuf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        gb_sbuf_puts(out, s);
        return;
    }
    gb_sbuf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"') gb_sbuf_putc(out, '"');
        gb_sbuf_putc(out, *s);
    }
    gb_sbuf_putc(out, '"');
}

static void json_measures(gb_sbuf *out, const agg *a)
{
    char c[48];
    usd(a->nusd, c, sizeof c);
    gb_sbuf_printf(out,
                   "\"operations\": %" PRId64 ", \"unpriced\": %" PRId64
                   ", \"input_tokens\": %" PRId64 ", \"output_tokens\": %" PRId64
                   ", \"cost_usd\": %s, \"cost_nusd\": %" PRId64,
                   a->ops, a->unpriced, a->in_tok, a->out_tok, c, a->nusd);
}

static const char *const k_measure_names[] = {"operations", "unpriced", "input_tokens",
                                              "output_tokens", "cost_usd"};

static void render_table(const rt_report_opts *o, const agg *rows, size_t n, const agg *total,
                         gb_sbuf *out)
{
    enum { NM = 5 };
    size_t w[RT_REPORT_MAX_BY + NM];
    char cell[NM][48];
    int cols = o->n_by + NM;
    for (int k = 0; k < o->n_by; k++)
        w[k] = strlen(k_keys[o->by[k]].name);
    if (o->n_by > 0 && w[0] < 5) w[0] = 5; /* TOTAL */
    for (int m = 0; m < NM; m++)
        w[o->n_by + m] = strlen(k_measure_names[m]);
    for (size_t i = 0; i <= n; i++) {
        const agg *a = i < n ? &rows[i] : total;
        for (int k = 0; k < o->n_by && i < n; k++) {
            size_t l = a->key[k] ? strlen(a->key[k]) : 6; /* (none) */
            if (l > w[k]) w[k] = l;
        }
        snprintf(cell[0], 48, "%" PRId64, a->ops);
        snprintf(cell[1], 48, "%" PRId64, a->unpriced);
        snprintf(cell[2], 48, "%" PRId64, a->in_tok);
        snprintf(cell[3], 48, "%" PRId64, a->out_tok);
        usd(a->nusd, cell[4], 48);
        for (int m = 0; m < NM; m++)
            if (strlen(cell[m]) > w[o->n_by + m]) w[o->n_by + m] = strlen(cell[m]);
    }
    for (int k = 0; k < cols; k++) {
        const char *h = k < o->n_by ? k_keys[o->by[k]].name : k_measure_names[k - o->n_by];
        gb_sbuf_printf(out, k < o->n_by ? "%s%-*s" : "%s%*s", k ? "  " : "", (int)w[k], h);
    }
    gb_sbuf_putc(out, '\n');
    for (size_t i = 0; i <= n; i++) {
        const agg *a = i < n ? &rows[i] : total;
        snprintf(cell[0], 48, "%" PRId64, a->ops);
        snprintf(cell[1], 48, "%" PRId64, a->unpriced);
        snprintf(cell[2], 48, "%" PRId64, a->in_tok);
        snprintf(cell[3], 48, "%" PRId64, a->out_tok);
        usd(a->nusd, cell[4], 48);
        if (o->n_by == 0 && i == n) gb_sbuf_puts(out, "");
        for (int k = 0; k < cols; k++) {
            if (k < o->n_by) {
                const char *v =
                    i == n ? (k == 0 ? "TOTAL" : "") : (a->key[k] ? a->key[k] : "(none)");
                gb_sbuf_printf(out, "%s%-*s", k ? "  " : "", (int)w[k], v);
            } else {
                gb_sbuf_printf(out, "%s%*s", k ? "  " : "", (int)w[k], cell[k - o->n_by]);
            }
        }
        /* trim the padding of an empty last key column */
        while (out->len && out->data[out->len - 1] == ' ')
            out->len--;
        gb_sbuf_putc(out, '\n');
    }
}

static void render_csv(const rt_report_opts *o, const agg *rows, size_t n, gb_sbuf *out)
{
    for (int k = 0; k < o->n_by; k++)
        gb_sbuf_printf(out, "%s,", k_keys[o->by[k]].name);
    gb_sbuf_puts(out, "operations,unpriced,input_tokens,output_tokens,cost_usd,cost_nusd\n");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < o->n_by; k++) {
            if (rows[i].key[k]) csv_field(out, rows[i].key[k]);
            gb_sbuf_putc(out, ',');
        }
        char c[48];
        usd(rows[i].nusd, c, sizeof c);
        gb_sbuf_printf(out, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%" PRId64 "\n",
                       rows[i].ops, rows[i].unpriced, rows[i].in_tok, rows[i].out_tok, c,
                       rows[i].nusd);
    }
}

static void render_json(const rt_report_opts *o, const agg *rows, size_t n, const agg *total,
                        gb_sbuf *out)
{
    char t[40];
    gb_sbuf_puts(out, "{\"db\": \"");
    gb_sbuf_json_escape(out, o->db, strlen(o->db));
    gb_fmt_rfc3339(o->from_ns, t, sizeof t);
    gb_sbuf_printf(out, "\", \"from\": \"%s\", \"to\": ", t);
    if (o->to_ns == INT64_MAX) {
        gb_sbuf_puts(out, "null");
    } else {
        gb_fmt_rfc3339(o->to_ns, t, sizeof t);
        gb_sbuf_printf(out, "\"%s\"", t);
    }
    gb_sbuf_puts(out, ", \"by\": [");
    for (int k = 0; k < o->n_by; k++)
        gb_sbuf_printf(out, "%s\"%s\"", k ? ", " : "", k_keys[o->by[k]].name);
    gb_sbuf_puts(out, "],\n \"groups\": [");
    for (size_t i = 0; i < n; i++) {
        gb_sbuf_puts(out, i ? ",\n  {" : "\n  {");
        for (int k = 0; k < o->n_by; k++) {
            gb_sbuf_printf(out, "\"%s\": ", k_keys[o->by[k]].name);
            if (rows[i].key[k]) {
                gb_sbuf_putc(out, '"');
                gb_sbuf_json_escape(out, rows[i].key[k], strlen(rows[i].key[k]));
                gb_sbuf_puts(out, "\", ");
            } else {
                gb_sbuf_puts(out, "null, ");
            }
        }
        json_measures(out, &rows[i]);
        gb_sbuf_putc(out, '}');
    }
    gb_sbuf_puts(out, n ? "\n ],\n \"total\": {" : "],\n \"total\": {");
    json_measures(out, total);
    gb_sbuf_puts(out, "}}\n");
}

static void read_measures(sqlite3_stmt *s, int col, agg *a)
{
    a->ops = sqlite3_column_int64(s, col);
    a->unpriced = sqlite3_column_int64(s, col + 1);
    a->in_tok = sqlite3_column_int64(s, col + 2);
    a->out_tok = sqlite3_column_int64(s, col + 3);
    a->nusd = sqlite3_column_int64(s, col + 4);
}

int rt_report_run(const rt_report_opts *o, gb_sbuf *out, gb_sbuf *err)
{
    int rc = 1;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    agg *rows = NULL, total;
    size_t n = 0, cap = 0;
    gb_sbuf sql;
    gb_sbuf_init(&sql, 0);
    memset(&total, 0, sizeof total);
    struct stat sb;
    if (stat(o->db, &sb) != 0) {
        gb_sbuf_printf(err,
                       "no ledger database at %s: %s (the ledger exporter creates it; choose "
                       "another file with --db or --config)",
                       o->db, strerror(errno));
        goto out;
    }
    if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        err_db(err, o->db, db, "cannot open ledger database");
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        err_db(err, o->db, db, "cannot read ledger database");
        goto out;
    }
    int64_t version = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (version > LEDGER_SCHEMA_VERSION) {
        gb_sbuf_printf(err,
                       "%s has ledger schema version %" PRId64 ", newer than this build's (%d)",
                       o->db, version, LEDGER_SCHEMA_VERSION);
        goto out;
    }
    /* the total over the whole window */
    gb_sbuf_printf(&sql, "SELECT %s FROM ledger WHERE time >= ?1 AND time < ?2", k_measures);
    if (sql.err != GB_OK || sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) != SQLITE_OK) {
        if (db && strstr(sqlite3_errmsg(db), "no such"))
            gb_sbuf_printf(err, "%s is not a GenOps ledger database (%s)", o->db,
                           sqlite3_errmsg(db));
        else
            err_db(err, o->db, db, "cannot query ledger database");
        goto out;
    }
    sqlite3_bind_int64(q, 1, o->from_ns);
    sqlite3_bind_int64(q, 2, o->to_ns);
    if (sqlite3_step(q) != SQLITE_ROW) {
        err_db(err, o->db, db, "cannot query ledger database");
        goto out;
    }
    read_measures(q, 0, &total);
    sqlite3_finalize(q);
    q = NULL;

    /* the groups */
    gb_sbuf_reset(&sql);
    gb_sbuf_puts(&sql, "SELECT ");
    for (int k = 0; k < o->n_by; k++)
        gb_sbuf_printf(&sql, "%s, ", k_keys[o->by[k]].expr);
    gb_sbuf_printf(&sql, "%s FROM ledger WHERE time >= ?1 AND time < ?2", k_measures);
    if (o->n_by) {
        gb_sbuf_puts(&sql, " GROUP BY ");
        for (int k = 0; k < o->n_by; k++)
            gb_sbuf_printf(&sql, "%s%d", k ? ", " : "", k + 1);
        gb_sbuf_printf(&sql, " ORDER BY %d DESC, %d DESC", o->n_by + 5, o->n_by + 1);
        for (int k = 0; k < o->n_by; k++)
            gb_sbuf_printf(&sql, ", %d", k + 1);
        gb_sbuf_puts(&sql, " LIMIT ?3");
    }
    if (o->n_by) {
        if (sql.err != GB_OK || sqlite3_prepare_v2(db, sql.data, -1, &q, NULL) != SQLITE_OK) {
            err_db(err, o->db, db, "cannot query ledger database");
            goto out;
        }
        sqlite3_bind_int64(q, 1, o->from_ns);
        sqlite3_bind_int64(q, 2, o->to_ns);
        sqlite3_bind_int64(q, 3, o->top > 0 ? o->top : -1);
        int src;
        while ((src = sqlite3_step(q)) == SQLITE_ROW) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                agg *r = realloc(rows, nc * sizeof *r);
                if (!r) {
                    gb_sbuf_puts(err, "out of memory");
                    goto out;
                }
                rows = r;
                cap = nc;
            }
            agg *a = &rows[n++];
            memset(a, 0, sizeof *a);
            for (int k = 0; k < o->n_by; k++) {
                const unsigned char *v = sqlite3_column_text(q, k);
                if (v && !(a->key[k] = strdup((const char *)v))) {
                    gb_sbuf_puts(err, "out of memory");
                    goto out;
                }
            }
            read_measures(q, o->n_by, a);
        }
        if (src != SQLITE_DONE) {
            err_db(err, o->db, db, "cannot query ledger database");
            goto out;
        }
    }
    if (o->format == RT_REPORT_CSV)
        render_csv(o, rows, n, out);
    else if (o->format == RT_REPORT_JSON)
        render_json(o, rows, n, &total, out);
    else
        render_table(o, rows, n, &total, out);
    rc = out->err == GB_OK ? 0 : 1;
out:
    sqlite3_finalize(q);
    if (db) sqlite3_close(db);
    free_rows(rows, n, o->n_by);
    gb_sbuf_free(&sql);
    return rc;
}

/* ---- command line ------------------------------------------------------------------------------
 */

static void report_usage(FILE *f)
{
    fprintf(f,
            "Usage: genops-collector report [--db PATH | --config FILE] [--since DURATION | --from "
            "TIME [--to TIME]]\n"
            "                               [--by KEY[,KEY]...] [--format table|csv|json] [--top "
            "N]\n"
            "\n"
            "Cost and usage of the AI operations recorded by the ledger exporter, grouped by\n"
            "attribution keys, highest cost first. The database is opened read-only and can be\n"
            "read while the collector writes it.\n"
            "\n"
            "Options:\n"
            "  --db PATH           ledger database (default %s)\n"
            "  --config FILE       take the path from the config's ledger exporter\n"
            "  --since DURATION    window ending now: 30m, 24h, 7d, 2w, 1h30m (default 24h)\n"
            "  --from TIME         window start, RFC 3339 (2026-11-25T10:00:00Z) or a date\n"
            "                      (2026-11-25 = midnight UTC)\n"
            "  --to TIME           window end, exclusive (default: open)\n"
            "  --by KEYS           group keys, comma separated (default team):\n"
            "                      %s\n"
            "  --format FORMAT     table (default, with a TOTAL line), csv, json\n"
            "  --top N             only the N groups with the highest cost (TOTAL still covers\n"
            "                      the whole window)\n"
            "\n"
            "Columns: operations, unpriced (no known price, no cost or not in USD: not included\n"
            "in cost), input_tokens, output_tokens, cost_usd (exact sum of the integer nano-USD\n"
            "costs, 6 decimals); csv and json add cost_nusd.\n"
            "\n"
            "Exit codes: 0 ok, 1 database missing or unreadable, 2 bad options.\n",
            DEFAULT_DB, rt_report_keys_list());
}

/* The path of the (first) ledger exporter in a config file; *out points into doc. */
static int path_from_config(const char *file, cfg_doc *doc, const char **out)
{
    cfg_diags d;
    cfg_diags_init(&d);
    const char *files[1] = {file};
    int rc = rt_load_config(doc, files, 1, NULL, 0, &d);
    rt_print_diags(&d);
    cfg_diags_free(&d);
    if (rc != RT_EXIT_OK) return rc == RT_EXIT_UNREADABLE ? 1 : 2;
    uint32_t np = 0;
    const cfg_pair *p = cfg_node_pairs(cfg_node_get(doc->root, "exporters"), &np);
    const cfg_pair *found = NULL;
    for (uint32_t i = 0; i < np; i++) {
        if (strcmp(p[i].key, "ledger") != 0 && strncmp(p[i].key, "ledger/", 7) != 0) continue;
        if (found) {
            fprintf(stderr,
                    "genops-collector report: %s defines several ledger exporters (%s, %s): "
                    "choose one with --db\n",
                    file, found->key, p[i].key);
            return 2;
        }
        found = &p[i];
    }
    if (!found) {
        fprintf(stderr, "genops-collector report: %s defines no ledger exporter; use --db\n", file);
        return 2;
    }
    const char *path = cfg_node_scalar(cfg_node_get(found->value, "path"));
    *out = path && *path ? path : DEFAULT_DB;
    return 0;
}

int rt_report_main(int argc, char **argv)
{
    rt_report_opts o;
    memset(&o, 0, sizeof o);
    o.db = DEFAULT_DB;
    o.to_ns = INT64_MAX;
    const char *db = NULL, *config = NULL, *since = NULL, *from = NULL, *to = NULL, *by = "team";
    const char *format = "table", *top = NULL;
    cfg_doc doc;
    cfg_doc_init(&doc);
    gb_sbuf out, err;
    gb_sbuf_init(&out, 0);
    gb_sbuf_init(&err, 0);
    int rc = 2;
    char byc[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
            report_usage(stdout);
            rc = 0;
            goto out;
        }
        static const char *const names[] = {"--db", "--config", "--since",  "--from",
                                            "--to", "--by",     "--format", "--top"};
        const char **dst[] = {&db, &config, &since, &from, &to, &by, &format, &top};
        int which = -1;
        const char *val = NULL;
        for (int k = 0; k < 8 && which < 0; k++) {
            size_t l = strlen(names[k]);
            if (strncmp(a, names[k], l) == 0 && (a[l] == '\0' || a[l] == '=')) {
                which = k;
                if (a[l] == '=')
                    val = a + l + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
            }
        }
        if (which < 0) {
            fprintf(stderr, "genops-collector report: unknown argument \"%s\"\n", a);
            report_usage(stderr);
            goto out;
        }
        if (!val) {
            fprintf(stderr, "genops-collector report: %s needs a value\n", names[which]);
            goto out;
        }
        *dst[which] = val;
    }
    if (db && config) {
        fprintf(stderr, "genops-collector report: --db and --config are exclusive\n");
        goto out;
    }
    if (db) o.db = db;
    if (config && (rc = path_from_config(config, &doc, &o.db)) != 0) goto out;
    rc = 2;
    if (since && (from || to)) {
        fprintf(stderr, "genops-collector report: --since and --from/--to are exclusive\n");
        goto out;
    }
    if (from || to) {
        if (from && rt_report_parse_time(from, &o.from_ns) != 0) {
            fprintf(stderr,
                    "genops-collector report: invalid --from \"%s\" (RFC 3339, e.g. "
                    "2026-11-25T10:00:00Z, or a date 2026-11-25)\n",
                    from);
            goto out;
        }
        if (to && rt_report_parse_time(to, &o.to_ns) != 0) {
            fprintf(stderr,
                    "genops-collector report: invalid --to \"%s\" (RFC 3339, e.g. "
                    "2026-11-25T10:00:00Z, or a date 2026-11-25)\n",
                    to);
            goto out;
        }
        if (o.to_ns <= o.from_ns) {
            fprintf(stderr, "genops-collector report: --to must be later than --from\n");
            goto out;
        }
    } else {
        int64_t d;
        if (rt_report_parse_duration(since ? since : "24h", &d) != 0) {
            fprintf(stderr,
                    "genops-collector report: invalid --since \"%s\" (e.g. 30m, 24h, 7d, 2w, "
                    "1h30m)\n",
                    since);
            goto out;
        }
        int64_t now = gb_now_ns();
        o.from_ns = now - d;
    }
    if (strlen(by) >= sizeof byc) {
        fprintf(stderr, "genops-collector report: --by is too long\n");
        goto out;
    }
    strcpy(byc, by);
    for (char *save = NULL, *tok = strtok_r(byc, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l && tok[l - 1] == ' ')
            tok[--l] = '\0';
        int k = rt_report_key(tok);
        if (k < 0) {
            fprintf(stderr, "genops-collector report: unknown --by key \"%s\"; valid keys: %s\n",
                    tok, rt_report_keys_list());
            goto out;
        }
        for (int j = 0; j < o.n_by; j++)
            if (strcmp(k_keys[o.by[j]].expr, k_keys[k].expr) == 0) {
                fprintf(stderr, "genops-collector report: --by key \"%s\" given twice\n", tok);
                goto out;
            }
        if (o.n_by == RT_REPORT_MAX_BY) {
            fprintf(stderr, "genops-collector report: at most %d --by keys\n", RT_REPORT_MAX_BY);
            goto out;
        }
        o.by[o.n_by++] = k;
    }
    if (o.n_by == 0) {
        fprintf(stderr, "genops-collector report: --by needs at least one key: %s\n",
                rt_report_keys_list());
        goto out;
    }
    if (strcmp(format, "table") == 0)
        o.format = RT_REPORT_TABLE;
    else if (strcmp(format, "csv") == 0)
        o.format = RT_REPORT_CSV;
    else if (strcmp(format, "json") == 0)
        o.format = RT_REPORT_JSON;
    else {
        fprintf(stderr, "genops-collector report: unknown --format \"%s\" (table, csv or json)\n",
                format);
        goto out;
    }
    if (top) {
        char *e;
        errno = 0;
        long long v = strtoll(top, &e, 10);
        if (*top == '\0' || *e || errno || v < 1) {
            fprintf(stderr, "genops-collector report: --top needs a positive integer, not \"%s\"\n",
                    top);
            goto out;
        }
        o.top = v;
    }
    rc = rt_report_run(&o, &out, &err);
    if (rc != 0)
        fprintf(stderr, "genops-collector report: %s\n", err.len ? err.data : "failed");
    else if (out.len)
        fwrite(out.data, 1, out.len, stdout);
out:
    gb_sbuf_free(&out);
    gb_sbuf_free(&err);
    cfg_doc_free(&doc);
    return rc;
}
