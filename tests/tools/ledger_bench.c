/* ledger_bench: how many priced operations per second the ledger exporter commits to SQLite.
 *
 *   build/tests/ledger_bench [ROWS [BATCH [DIR]]]     defaults: 1000000 rows, 1000 spans/batch,
 * /tmp
 *
 * One batch of BATCH priced spans (11 attributes each, as the governance processor leaves them) is
 * consumed over and over with fresh span ids (the exporter copies what it needs during consume,
 * so the batch may be changed once consume returned), through the real component: queue, writer
 * thread, WAL, prepared INSERT OR IGNORE, default commit_interval / max_batch_rows / queue_size.
 * A refused batch (queue full) is retried after 1 ms, like a client would. The clock stops when
 * ledger_flush returns, i.e. when every row is committed. Not a test: prints numbers. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "exporter/ledger/ledger.h"

#include "../unit/exporters/ledger_batches.h"

/* CPU seconds (user + system) used so far by the thread of this process named name. The machine
 * may be shared: wall-clock rows/s depends on the load, rows per writer CPU-second much less. */
static double thread_cpu_s(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    double cpu = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[300], comm[64] = "";
        snprintf(p, sizeof p, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, name) != 0) continue;
        snprintf(p, sizeof p, "/proc/self/task/%s/stat", e->d_name);
        if (!(f = fopen(p, "r"))) continue;
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *r = strrchr(buf, ')'); /* fields after the comm: state is field 3 */
        unsigned long long ut = 0, stt = 0;
        if (r &&
            sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) == 2)
            cpu += (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
    }
    if (d) closedir(d);
    return cpu;
}

static const char *const teams[] = {"platform", "search", "support", "growth"};
static const char *const models[] = {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5",
                                     "gemini-2.5-pro"};

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 1000000;
    long batch = argc > 2 ? atol(argv[2]) : 1000;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    /* random span ids (as SDKs make them): inserts land anywhere in the unique index */
    bool random_ids = argc > 4 && strcmp(argv[4], "random") == 0;
    uint64_t rnd = 0x9e3779b97f4a7c15ULL;
    if (rows <= 0 || batch <= 0) {
        fprintf(stderr, "usage: ledger_bench [ROWS [BATCH [DIR]]]\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/ledger-bench-%d.db", dir, (int)getpid());

    lb_op *ops = calloc((size_t)batch, sizeof *ops);
    if (!ops) return 1;
    uint64_t t0 = (uint64_t)gb_now_ns();
    for (long i = 0; i < batch; i++) {
        ops[i] = (lb_op){teams[i % 4], "acme",          models[(i / 4) % 4],
                         "openai",     "priced",        0.000123 * (double)(i % 100 + 1),
                         0.00002,      0.0001,          1200 + i % 50,
                         300,          (uint64_t)i + 1, t0 + (uint64_t)i};
    }
    pd_batch *b = lb_spans(ops, (size_t)batch, "bench-svc", NULL);

    ledger_cfg cfg;
    ledger_cfg_default(&cfg);
    cfg.path = path;
    pl_component c;
    if (lb_start(&c, &cfg, "", NULL) != GB_OK) return 1;

    pd_span *sp = b->u.traces.v[0].scope_spans[0].spans;
    uint64_t next_id = 1, retries = 0;
    int64_t consume_ns = 0;
    int64_t start = gb_mono_ns();
    for (long done = 0; done < rows; done += batch) {
        for (long i = 0; i < batch; i++) {
            uint64_t id = next_id++, key = id;
            if (random_ids) { /* xorshift64 */
                rnd ^= rnd << 13;
                rnd ^= rnd >> 7;
                rnd ^= rnd << 17;
                key = rnd;
            }
            for (int k = 0; k < 8; k++)
                sp[i].span_id.b[k] = (uint8_t)(key >> (56 - 8 * k));
            sp[i].end_time_unix_nano = t0 + id;
        }
        for (;;) {
            int64_t c0 = gb_mono_ns();
            gb_status rc = c.desc->consume(&c, pd_batch_ref(b));
            consume_ns += gb_mono_ns() - c0;
            if (rc == GB_OK) break;
            if (rc != GB_ERR_RETRY) return 1;
            retries++;
            usleep(1000);
        }
    }
    gb_status frc = ledger_flush(&c);
    int64_t elapsed = gb_mono_ns() - start;
    double writer_cpu = thread_cpu_s("ledger-writer");
    double main_cpu = thread_cpu_s("ledger_bench"); /* consume, plus building the ids */
    c.desc->shutdown(&c, gb_mono_ns() + 30 * GB_NS_PER_S);
    c.desc->destroy(&c);
    pd_batch_unref(b);
    free(ops);

    struct stat sb;
    double mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : 0;
    long total = ((rows + batch - 1) / batch) * batch;
    printf("ledger_bench: %s span ids\n", random_ids ? "random" : "ascending");
    printf("ledger_bench: %ld rows (%ld per batch) committed in %.2f s = %.0f rows/s; "
           "consume %.2f us/row; %llu refused batches retried; db %.1f MB%s\n"
           "ledger_bench: writer thread CPU %.2f s = %.0f rows per writer CPU-second; "
           "consuming thread CPU %.2f s = %.2f us/row\n",
           total, batch, (double)elapsed / 1e9, (double)total / ((double)elapsed / 1e9),
           (double)consume_ns / 1e3 / (double)total, (unsigned long long)retries, mb,
           frc == GB_OK ? "" : " (flush FAILED)", writer_cpu,
           writer_cpu > 0 ? (double)total / writer_cpu : 0.0, main_cpu,
           main_cpu * 1e6 / (double)total);
    unlink(path);
    char aux[600];
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
    return frc == GB_OK ? 0 : 1;
}
