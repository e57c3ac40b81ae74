#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/telemetry.h"
#include "base/timeutil.h"
#include "exporter/ledger/ledger.h"
#include "exporter/ledger/ledger_row.h"
#include "governance/gov.h"

#include "ledger_batches.h"

#define T0 1767225600000000000ULL /* 2026-01-01T00:00:00Z */

typedef struct fx {
    char dir[64];
    char path[128];
    ledger_cfg cfg;
    pl_component c;
    bool running;
} fx;

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/genops-ledger-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/sub/ledger.db", f->dir); /* sub/ is created */
    ledger_cfg_default(&f->cfg);
    f->cfg.path = f->path;
    f->cfg.commit_interval = 20 * GB_NS_PER_MS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->running) {
        f->c.desc->shutdown(&f->c, gb_mono_ns() + GB_NS_PER_S);
        f->c.desc->destroy(&f->c);
    }
    rm_tree(f->dir);
    free(f);
    return 0;
}

static gb_status start_c(fx *f, pl_component *c, const char *id, pl_host *host)
{
    return lb_start(c, &f->cfg, id, host);
}

static void start(fx *f, const char *id)
{
    assert_int_equal(start_c(f, &f->c, id, NULL), GB_OK);
    f->running = true;
}

static void stop(fx *f)
{
    assert_int_equal(f->c.desc->shutdown(&f->c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    f->c.desc->destroy(&f->c);
    f->running = false;
}

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static int64_t q_int(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* The row as "col=value|col=value|..." (NULL printed as ~), every column in table order. */
static void q_row(const char *path, const char *where, char *out, size_t cap)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *s = NULL;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM ledger WHERE %s", where);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < sqlite3_column_count(s); i++) {
        char hex[80];
        const char *v;
        if (sqlite3_column_type(s, i) == SQLITE_BLOB) { /* ids: lower-case hex */
            const uint8_t *b = sqlite3_column_blob(s, i);
            int len = sqlite3_column_bytes(s, i);
            assert_true(len < 40);
            for (int k = 0; k < len; k++)
                snprintf(hex + 2 * k, 3, "%02x", b[k]);
            hex[2 * len] = '\0';
            v = hex;
        } else {
            v = (const char *)sqlite3_column_text(s, i);
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", i ? "|" : "", sqlite3_column_name(s, i),
                              v ? v : "~");
        assert_true(n < cap);
    }
    assert_int_equal(sqlite3_step(s), SQLITE_DONE); /* exactly one */
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static const lb_op k_ops[] = {
    {"platform", "acme", "gpt-4o", "openai", "priced", 0.0125, 0.0025, 0.01, 1000, 1000, 1, T0},
    {NULL, NULL, "claude-sonnet-4-5", "anthropic", "estimated", 0.3, -1, -1, 50000, 10000, 2,
     T0 + 60 * GB_NS_PER_S},
    {"search", NULL, "mystery-1", "acme-ai", "unpriced", -1, -1, -1, 10, 5, 3, T0 + 120000000000},
    {"search", NULL, "gpt-4o", "openai", NULL, -1, -1, -1, 10, 5, 4, T0}, /* not priced: no row */
};

/* ---- tests -------------------------------------------------------------------------------------
 */

static void test_rows_exact(void **state)
{
    fx *f = *state;
    start(f, "rows");
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(k_ops, 4, "chat-api", "research")), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 3);
    char row[2048];
    q_row(f->path, "span_id = X'0000000000000001'", row, sizeof row);
    assert_string_equal(
        row, "time=1767225600000000000|trace_id=101112131415161718191a1b1c1d1e1f|"
             "span_id=0000000000000001|signal=span|team=platform|customer_id=acme|project=~|"
             "environment=~|feature=~|cost_center=~|user_id=~|provider=openai|model=gpt-4o|"
             "operation=chat|currency=~|cost_source=~|cost_status=priced|pricing_version=~|"
             "cost_tier=~|policy_name=~|policy_result=~|budget_name=~|budget_window=~|"
             "service_name=chat-api|tokens_input=1000|tokens_output=1000|tokens_cache_read=~|"
             "tokens_cache_write=~|tokens_reasoning=~|tokens_total=2000|cost_nusd=12500000|"
             "cost_input_nusd=2500000|cost_output_nusd=10000000|cost_cache_read_nusd=~|"
             "cost_cache_write_nusd=~");
    /* team from the resource when the span has none */
    q_row(f->path, "span_id = X'0000000000000002'", row, sizeof row);
    assert_non_null(strstr(row, "|team=research|"));
    assert_non_null(strstr(row, "|cost_nusd=300000000|"));
    assert_int_equal(strncmp(row, "time=1767225660000000000|", 25), 0);
    /* unpriced: a row with no cost */
    q_row(f->path, "span_id = X'0000000000000003'", row, sizeof row);
    assert_non_null(strstr(row, "|cost_status=unpriced|"));
    assert_non_null(strstr(row, "|cost_nusd=~|"));
    assert_int_equal(q_int(f->path, "SELECT SUM(cost_nusd) FROM ledger"), 312500000);
    assert_int_equal(q_int(f->path, "PRAGMA user_version"), LEDGER_SCHEMA_VERSION);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    stop(f);
    /* the indexes the report uses: team, model, and time (first column of the unique key) */
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                                    "name IN ('ledger_team', 'ledger_model')"),
                     2);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM pragma_index_list('ledger') l, "
                                    "pragma_index_info(l.name) i WHERE l.\"unique\" = 1 AND "
                                    "i.seqno = 0 AND i.name = 'time'"),
                     1);
}

static void test_idempotent(void **state)
{
    fx *f = *state;
    start(f, "idem");
    pd_batch *b = lb_spans(k_ops, 4, "chat-api", NULL);
    /* the same batch twice in one commit, then again in a later commit */
    assert_int_equal(f->c.desc->consume(&f->c, pd_batch_ref(b)), GB_OK);
    assert_int_equal(f->c.desc->consume(&f->c, pd_batch_ref(b)), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 3);
    assert_int_equal(q_int(f->path, "SELECT SUM(cost_nusd) FROM ledger"), 312500000);
    gb_series *w = gb_tm_find("genops_ledger_rows_written", "exporter=\"ledger/idem\"");
    gb_series *d = gb_tm_find("genops_ledger_rows_duplicate", "exporter=\"ledger/idem\"");
    assert_non_null(w);
    assert_non_null(d);
    assert_int_equal(gb_series_value(w), 3);
    assert_int_equal(gb_series_value(d), 6);
    /* the key is (time, trace_id, span_id): the same ids at another time are another row */
    lb_op later = k_ops[0];
    later.end_ns += 1;
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(&later, 1, "chat-api", NULL)), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger WHERE span_id = "
                                    "X'0000000000000001'"),
                     2);
    stop(f);
    /* and after a restart */
    start(f, "idem2");
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(k_ops, 4, "chat-api", NULL)), GB_OK);
    stop(f);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 4);
}

static void test_logs(void **state)
{
    fx *f = *state;
    start(f, "logs");
    lb_op ops[3] = {k_ops[0], k_ops[1], k_ops[0]};
    ops[0].id = 0; /* no ids: keyed by content */
    ops[1].id = 0;
    ops[2].id = 7; /* ids: keyed by them */
    pd_batch *b = lb_logs(ops, 3, "batch-jobs");
    assert_int_equal(f->c.desc->consume(&f->c, pd_batch_ref(b)), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK); /* retried: nothing new */
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger WHERE signal = 'log'"), 3);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger WHERE trace_id = X'' AND "
                                    "length(span_id) = 16"),
                     2);
    char row[2048];
    q_row(f->path, "span_id = X'0000000000000007'", row, sizeof row);
    assert_non_null(strstr(row, "|operation=gen_ai.call|"));
    assert_non_null(strstr(row, "|service_name=batch-jobs|"));
    assert_non_null(strstr(row, "|cost_nusd=12500000|"));
    /* a different record (other time) without ids is a new row */
    ops[0].end_ns += 1;
    assert_int_equal(f->c.desc->consume(&f->c, lb_logs(ops, 1, "batch-jobs")), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 4);
    /* metrics are not for the ledger (the graph never routes them here) */
    stop(f);
}

static void test_backpressure(void **state)
{
    fx *f = *state;
    f->cfg.queue_size = 5;
    f->cfg.max_batch_rows = 2;
    start(f, "bp");
    lb_op ops[8];
    for (int i = 0; i < 8; i++) {
        ops[i] = k_ops[0];
        ops[i].id = 100 + (uint64_t)i;
    }
    ledger_pause_writer(&f->c, true);
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(ops, 3, "s", NULL)), GB_OK);
    assert_int_equal(ledger_queued_rows(&f->c), 3);
    /* 3 more would make 6 > 5: refused, nothing of it queued */
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(ops + 3, 3, "s", NULL)), GB_ERR_RETRY);
    assert_int_equal(ledger_queued_rows(&f->c), 3);
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(ops + 3, 2, "s", NULL)), GB_OK);
    assert_int_equal(ledger_queued_rows(&f->c), 5);
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(ops + 5, 1, "s", NULL)), GB_ERR_RETRY);
    gb_series *r = gb_tm_find("genops_ledger_rows_refused", "exporter=\"ledger/bp\"");
    assert_non_null(r);
    assert_true(gb_series_value(r) >= 2);
    ledger_pause_writer(&f->c, false);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(ledger_queued_rows(&f->c), 0);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 5);
    /* room again; a batch larger than the whole queue is taken when the queue is empty */
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(ops, 8, "s", NULL)), GB_OK);
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 8);
    stop(f);
}

static void test_commit_interval(void **state)
{
    fx *f = *state;
    f->cfg.commit_interval = 50 * GB_NS_PER_MS;
    start(f, "interval");
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(k_ops, 2, "s", NULL)), GB_OK);
    /* committed by the timer alone */
    int64_t until = gb_mono_ns() + 5 * GB_NS_PER_S;
    while (ledger_queued_rows(&f->c) > 0 && gb_mono_ns() < until)
        usleep(5000);
    assert_int_equal(ledger_queued_rows(&f->c), 0);
    usleep(20000);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 2);
    stop(f);
}

static void test_shutdown_drains(void **state)
{
    fx *f = *state;
    f->cfg.commit_interval = 3600 * GB_NS_PER_S; /* never by the timer */
    start(f, "drain");
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(k_ops, 4, "s", NULL)), GB_OK);
    stop(f);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 3);
    /* consume after shutdown: pushed back, not lost silently */
}

static void test_shared_file(void **state)
{
    fx *f = *state;
    pl_component c2;
    start(f, "shared");                                       /* traces instance */
    assert_int_equal(start_c(f, &c2, "shared", NULL), GB_OK); /* logs instance, same file */
    lb_op op = k_ops[0];
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(&op, 1, "s", NULL)), GB_OK);
    op.id = 99;
    assert_int_equal(c2.desc->consume(&c2, lb_logs(&op, 1, "s")), GB_OK);
    assert_int_equal(c2.desc->shutdown(&c2, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    c2.desc->destroy(&c2);
    /* the other instance keeps writing */
    op.id = 98;
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(&op, 1, "s", NULL)), GB_OK);
    stop(f);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 3);
}

static void test_default_path(void **state)
{
    fx *f = *state;
    char data[128];
    snprintf(data, sizeof data, "%s/data/dir", f->dir);
    pl_host host = {.data_dir = data};
    f->cfg.path = "";
    assert_int_equal(start_c(f, &f->c, "def", &host), GB_OK);
    f->running = true;
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(k_ops, 1, "s", NULL)), GB_OK);
    stop(f);
    char p[160];
    snprintf(p, sizeof p, "%s/ledger.db", data);
    assert_int_equal(q_int(p, "SELECT COUNT(*) FROM ledger"), 1);
}

static void test_unwritable_path(void **state)
{
    fx *f = *state;
    char file[128], bad[160];
    snprintf(file, sizeof file, "%s/plainfile", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(bad, sizeof bad, "%s/sub/ledger.db", file); /* a file where a directory must be */
    f->cfg.path = bad;
    pl_component c;
    assert_int_equal(start_c(f, &c, "bad", NULL), GB_ERR_IO);
    /* a database with a newer schema is refused */
    sqlite3 *db = NULL;
    snprintf(bad, sizeof bad, "%s/sub", f->dir);
    assert_int_equal(mkdir(bad, 0700), 0);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    f->cfg.path = f->path;
    assert_int_equal(start_c(f, &c, "newer", NULL), GB_ERR_UNSUPPORTED);
}

static void test_retention(void **state)
{
    fx *f = *state;
    start(f, "ret1");
    uint64_t now = (uint64_t)gb_now_ns();
    lb_op ops[2] = {k_ops[0], k_ops[0]};
    ops[0].end_ns = now - 3 * 3600 * GB_NS_PER_S; /* 3 hours old */
    ops[1].id = 2;
    ops[1].end_ns = now;
    assert_int_equal(f->c.desc->consume(&f->c, lb_spans(ops, 2, "s", NULL)), GB_OK);
    stop(f);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 2);
    f->cfg.retention = 3600 * GB_NS_PER_S; /* 1h: the old row goes at start */
    start(f, "ret2");
    assert_int_equal(ledger_flush(&f->c), GB_OK);
    stop(f);
    assert_int_equal(q_int(f->path, "SELECT COUNT(*) FROM ledger"), 1);
    assert_int_equal(q_int(f->path, "SELECT span_id = X'0000000000000002' FROM ledger"), 1);
}

static void test_nusd(void **state)
{
    (void)state;
    static const struct {
        pd_any v;
        int64_t want;
        gb_status rc;
    } cases[] = {
        {{.type = PD_ANY_DOUBLE, .u.d = 0.0125}, 12500000, GB_OK},
        {{.type = PD_ANY_DOUBLE, .u.d = 0.1 + 0.2}, 300000000, GB_OK},
        {{.type = PD_ANY_DOUBLE, .u.d = 1e-9}, 1, GB_OK},
        {{.type = PD_ANY_DOUBLE, .u.d = 1234567.123456789}, 1234567123456789, GB_OK},
        {{.type = PD_ANY_DOUBLE, .u.d = -0.5}, -500000000, GB_OK},
        {{.type = PD_ANY_DOUBLE, .u.d = 1e10}, 0, GB_ERR_INVALID},
        {{.type = PD_ANY_INT, .u.i = 3}, 3000000000, GB_OK},
        {{.type = PD_ANY_STR, .u.str = {"0.0000000015", 12}}, 2, GB_OK},
        {{.type = PD_ANY_STR, .u.str = {"0.0000000014", 12}}, 1, GB_OK},
        {{.type = PD_ANY_STR, .u.str = {"12.5", 4}}, 12500000000, GB_OK},
        {{.type = PD_ANY_STR, .u.str = {"1.5e-3", 6}}, 1500000, GB_OK},
        {{.type = PD_ANY_STR, .u.str = {"abc", 3}}, 0, GB_ERR_INVALID},
        {{.type = PD_ANY_BOOL, .u.b = true}, 0, GB_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 0;
        assert_int_equal(gov_usd_to_nusd(&cases[i].v, &v), cases[i].rc);
        if (cases[i].rc == GB_OK) assert_int_equal(v, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test(test_nusd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
