#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "exporter/file/file.h"
#include "otlp/otlp.h"

#include "batches.h"

#define MS GB_NS_PER_MS

typedef struct fx {
    char dir[64];
    char path[128];
    file_cfg cfg;
    pl_component c;
    bool running;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/genops-file-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/out.json", f->dir);
    file_cfg_default(&f->cfg);
    f->cfg.path = f->path;
    f->cfg.flush_interval = 0;
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
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void start(fx *f, const char *id)
{
    f->c.desc = &exporter_file_descriptor;
    snprintf(f->c.id, sizeof f->c.id, "file/%s", id);
    snprintf(f->c.full_id, sizeof f->c.full_id, "exporter/file/%s", id);
    f->c.cfg = &f->cfg;
    assert_int_equal(f->c.desc->create(&f->c), GB_OK);
    assert_int_equal(f->c.desc->start(&f->c, NULL), GB_OK);
    f->running = true;
}

static void stop(fx *f)
{
    assert_int_equal(f->c.desc->shutdown(&f->c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    f->c.desc->destroy(&f->c);
    f->running = false;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return s;
}

static void spit(const char *path, const char *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

static void encode(pd_batch *b, bool json, gb_sbuf *out)
{
    gb_sbuf_init(out, 0);
    assert_int_equal(json ? otlp_encode_json(b, out) : otlp_encode_proto(b, out), GB_OK);
}

static uint32_t be32(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) | ((uint32_t)u[2] << 8) | u[3];
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_json_lines(void **state)
{
    fx *f = *state;
    spit(f->path, "old content\n", 12); /* append: false truncates at start */
    start(f, "json");
    pd_batch *b[3] = {tb_traces(2), tb_metrics(3), tb_logs(1)};
    gb_sbuf e[3];
    for (int i = 0; i < 3; i++) {
        encode(b[i], true, &e[i]);
        assert_int_equal(f->c.desc->consume(&f->c, b[i]), GB_OK);
    }
    size_t n;
    char *s = slurp(f->path, &n);
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(off + e[i].len + 1 <= n);
        assert_memory_equal(s + off, e[i].data, e[i].len);
        assert_int_equal(s[off + e[i].len], '\n');
        assert_null(memchr(e[i].data, '\n', e[i].len)); /* one request per line */
        off += e[i].len + 1;
        gb_sbuf_free(&e[i]);
    }
    assert_int_equal(off, n);
    free(s);
    gb_series *sent = gb_tm_find("otelcol_exporter_sent_metric_points", "exporter=\"file/json\"");
    assert_non_null(sent);
    assert_int_equal(gb_series_value(sent), 3);
}

static void test_proto_length_prefixed(void **state)
{
    fx *f = *state;
    f->cfg.format = FILE_FMT_PROTO;
    start(f, "proto");
    pd_batch *b[2] = {tb_traces(3), tb_logs(2)};
    gb_sbuf e[2];
    for (int i = 0; i < 2; i++) {
        encode(b[i], false, &e[i]);
        assert_int_equal(f->c.desc->consume(&f->c, b[i]), GB_OK);
    }
    stop(f);
    size_t n;
    char *s = slurp(f->path, &n);
    size_t off = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(be32(s + off), e[i].len);
        assert_memory_equal(s + off + 4, e[i].data, e[i].len);
        off += 4 + e[i].len;
        gb_sbuf_free(&e[i]);
    }
    assert_int_equal(off, n);
    free(s);
    struct stat sb; /* a new file is private to the collector */
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_zstd_frames(void **state)
{
    fx *f = *state;
    f->cfg.compression = FILE_COMP_ZSTD;
    start(f, "zstd");
    pd_batch *b = tb_traces(20);
    gb_sbuf e;
    encode(b, true, &e);
    assert_int_equal(f->c.desc->consume(&f->c, pd_batch_ref(b)), GB_OK);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK);
    stop(f);
    size_t n;
    char *s = slurp(f->path, &n);
    size_t off = 0;
    for (int i = 0; i < 2; i++) {
        uint32_t len = be32(s + off);
        assert_true(off + 4 + len <= n);
        char *out = malloc(e.len + 16);
        size_t r = ZSTD_decompress(out, e.len + 16, s + off + 4, len);
        assert_false(ZSTD_isError(r));
        assert_int_equal(r, e.len);
        assert_memory_equal(out, e.data, e.len);
        free(out);
        off += 4 + len;
    }
    assert_int_equal(off, n);
    free(s);
    gb_sbuf_free(&e);
}

static void test_append_repairs_torn_tail(void **state)
{
    fx *f = *state;
    const char *prev = "{\"resourceSpans\":[]}\n{\"resourceSp";
    spit(f->path, prev, strlen(prev));
    f->cfg.append = true;
    start(f, "append");
    pd_batch *b = tb_logs(1);
    gb_sbuf e;
    encode(b, true, &e);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK);
    stop(f);
    size_t n;
    char *s = slurp(f->path, &n);
    const char *first = "{\"resourceSpans\":[]}\n";
    assert_int_equal(n, strlen(first) + e.len + 1);
    assert_memory_equal(s, first, strlen(first));
    assert_memory_equal(s + strlen(first), e.data, e.len);
    free(s);
    gb_sbuf_free(&e);

    /* length-prefixed: a record cut short is dropped */
    f->cfg.format = FILE_FMT_PROTO;
    char torn[4 + 3 + 4 + 2] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 9, 'x', 'y'};
    spit(f->path, torn, sizeof torn);
    start(f, "append2");
    stop(f);
    s = slurp(f->path, &n);
    assert_int_equal(n, 7);
    assert_memory_equal(s, torn, 7);
    free(s);
}

static void test_flush_interval(void **state)
{
    fx *f = *state;
    f->cfg.flush_interval = 80 * MS;
    start(f, "interval");
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_OK);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_size, 0); /* buffered */
    int64_t until = gb_mono_ns() + 1000 * MS;
    while (gb_mono_ns() < until && stat(f->path, &sb) == 0 && sb.st_size == 0)
        usleep(5000);
    assert_true(sb.st_size > 0);
    size_t n;
    char *s = slurp(f->path, &n);
    assert_int_equal(s[n - 1], '\n');
    free(s);
    /* explicit flush and shutdown flush */
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_OK);
    assert_int_equal(file_flush(&f->c), GB_OK);
    assert_int_equal(stat(f->path, &sb), 0);
    int64_t two = sb.st_size;
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_OK);
    stop(f);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true(sb.st_size > two);
}

static pd_batch *big_batch(size_t value_len)
{
    pd_batch *b = tb_traces(1);
    char *v = gb_arena_alloc(&b->arena, value_len);
    memset(v, 'x', value_len);
    pd_span *sp = &b->u.traces.v[0].scope_spans[0].spans[0];
    sp->attrs.v[0].value = pd_any_str(gb_str_n(v, value_len));
    return b;
}

static int count_backups(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "out-", 4) == 0 && strstr(e->d_name, ".json")) n++;
    if (d) closedir(d);
    return n;
}

static void test_rotation(void **state)
{
    fx *f = *state;
    f->cfg.rotation_set = true;
    f->cfg.rotation.max_megabytes = 1;
    f->cfg.rotation.max_backups = 100;
    start(f, "rotate");
    pd_batch *probe = big_batch(200000);
    gb_sbuf e;
    encode(probe, true, &e);
    size_t line = e.len + 1;
    gb_sbuf_free(&e);
    pd_batch_unref(probe);
    size_t total = 0;
    int batches = 0;
    while (total < (size_t)(2.5 * 1024 * 1024)) {
        assert_int_equal(f->c.desc->consume(&f->c, big_batch(200000)), GB_OK);
        total += line;
        batches++;
    }
    stop(f);
    assert_int_equal(count_backups(f->dir), 2);
    /* every file is within the limit and made of complete lines */
    int lines = 0;
    DIR *d = opendir(f->dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
        size_t n;
        char *s = slurp(p, &n);
        assert_true(n <= 1024 * 1024);
        assert_true(n > 0);
        assert_int_equal(s[n - 1], '\n');
        for (size_t i = 0; i < n; i++)
            if (s[i] == '\n') lines++;
        free(s);
    }
    closedir(d);
    assert_int_equal(lines, batches);

    /* max_backups prunes the oldest */
    f->cfg.rotation.max_backups = 1;
    f->cfg.append = true;
    start(f, "rotate2");
    for (int i = 0; i < 8; i++)
        assert_int_equal(f->c.desc->consume(&f->c, big_batch(200000)), GB_OK);
    stop(f);
    assert_int_equal(count_backups(f->dir), 1);
}

static void test_backup_name(void **state)
{
    (void)state;
    char out[128];
    file_backup_name("/d/out.json", 1700000000123000000LL, false, out, sizeof out);
    assert_string_equal(out, "/d/out-2023-11-14T22-13-20.123.json");
    file_backup_name("/d/out", 1700000000000000000LL, false, out, sizeof out);
    assert_string_equal(out, "/d/out-2023-11-14T22-13-20.000");
    file_backup_name("rel.log", 1700000000999000000LL, false, out, sizeof out);
    assert_string_equal(out, "rel-2023-11-14T22-13-20.999.log");
}

static void test_validation(void **state)
{
    (void)state;
    cfg_diags d;
    file_cfg c;
    file_cfg_default(&c);
    c.path = "/tmp/x.json";
    cfg_diags_init(&d);
    file_table.validate(&c, NULL, "exporters.file", &d);
    assert_int_equal(d.errors, 0);
    cfg_diags_free(&d);

    c.group_by.enabled = true;
    cfg_diags_init(&d);
    file_table.validate(&c, NULL, "exporters.file", &d);
    assert_int_equal(d.errors, 1);
    cfg_diags_free(&d);

    c.group_by.enabled = false;
    c.append = true;
    c.compression = FILE_COMP_ZSTD;
    cfg_diags_init(&d);
    file_table.validate(&c, NULL, "exporters.file", &d);
    assert_int_equal(d.errors, 1);
    cfg_diags_free(&d);

    file_cfg_default(&c);
    cfg_diags_init(&d);
    file_table.validate(&c, NULL, "exporters.file", &d); /* no path */
    assert_int_equal(d.errors, 1);
    cfg_diags_free(&d);
}

static void test_start_fails_on_bad_path(void **state)
{
    fx *f = *state;
    char bad[160];
    snprintf(bad, sizeof bad, "%s/missing/dir/out.json", f->dir);
    f->cfg.path = bad;
    f->c.desc = &exporter_file_descriptor;
    snprintf(f->c.id, sizeof f->c.id, "file/bad");
    snprintf(f->c.full_id, sizeof f->c.full_id, "exporter/file/bad");
    f->c.cfg = &f->cfg;
    assert_int_equal(f->c.desc->create(&f->c), GB_OK);
    assert_int_equal(f->c.desc->start(&f->c, NULL), GB_ERR_IO);
    f->c.desc->shutdown(&f->c, gb_mono_ns());
    f->c.desc->destroy(&f->c);
}

typedef struct warg {
    fx *f;
} warg;

static void *writer(void *arg)
{
    warg *a = arg;
    for (int i = 0; i < 50; i++)
        a->f->c.desc->consume(&a->f->c, tb_traces(2));
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    fx *f = *state;
    f->cfg.flush_interval = 5 * MS;
    start(f, "conc");
    pthread_t t[4];
    warg a = {f};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, writer, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    stop(f);
    pd_batch *b = tb_traces(2);
    gb_sbuf e;
    encode(b, true, &e);
    pd_batch_unref(b);
    size_t n;
    char *s = slurp(f->path, &n);
    assert_int_equal(n, 200 * (e.len + 1));
    for (int i = 0; i < 200; i++) {
        assert_memory_equal(s + (size_t)i * (e.len + 1), e.data, e.len);
        assert_int_equal(s[(size_t)i * (e.len + 1) + e.len], '\n');
    }
    free(s);
    gb_sbuf_free(&e);
}

int main(void)
{
    gb_log_set_level(GB_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proto_length_prefixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_repairs_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test(test_backup_name),
        cmocka_unit_test(test_validation),
        cmocka_unit_test_setup_teardown(test_start_fails_on_bad_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gb_tm_reset();
    return rc;
}
