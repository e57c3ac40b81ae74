/* file exporter: writes every batch to a file, like otelcol's file exporter.
 *
 * Formats: json (default) = one OTLP/JSON Export*ServiceRequest per line; proto = 4-byte
 * big-endian length + the protobuf request; with compression zstd every request (json or proto)
 * is one zstd frame written length-prefixed (otelcol's layout).
 *
 * How: the helper runs in direct mode (no queue; a local write does not need one) and hands each
 * caller an exclusive slot index, so the batch is encoded (and compressed) into that slot's
 * reusable buffer without any lock. Only the append of the finished record to the shared pending
 * buffer happens under the mutex. Pending bytes are written by a flusher thread every
 * flush_interval (or at once when flush_interval is 0, or when 1 MiB is pending), always in whole
 * records, with write(2) on an O_APPEND descriptor; a failed or short write is rolled back with
 * ftruncate to the last complete record. On start with `append: true` a torn tail left by a crash
 * (a line without its newline, a record cut short) is truncated, so readers never see half a
 * record.
 *
 * Rotation (when the `rotation` section is present, lumberjack's behaviour as in otelcol): before
 * a record would push the file past max_megabytes, the file is renamed to
 * `<name>-<UTC time 2006-01-02T15-04-05.000><ext>` and a new one is started; backups beyond
 * max_backups or older than max_days are removed.
 *
 * Rejected: stdio buffering (no control over torn writes on error) and a writer thread fed by a
 * queue (encoding is the expensive part and runs in the callers' threads already). */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "base/log.h"
#include "base/sbuf.h"
#include "base/timeutil.h"
#include "otlp/otlp.h"
#include "pipeline/exporter_helper.h"

#define FLUSH_AT (1u << 20)
#define N_SLOTS  16
#define MIB      (1024 * 1024)

/* ---- config ------------------------------------------------------------------------------------
 */

static const char *const format_names[] = {"json", "proto", NULL};
static const char *const compression_names[] = {"none", "zstd", "", NULL};

static const cfg_field rotation_fields[] = {
    {"max_megabytes", CFG_T_INT, offsetof(file_rotation, max_megabytes), "100",
     "rotate before the file grows past this size", .min = 1, .max = 1e7},
    {"max_days", CFG_T_INT, offsetof(file_rotation, max_days), "0",
     "remove backups older than this many days (0 = keep)", .min = 0, .max = 1e6},
    {"max_backups", CFG_T_INT, offsetof(file_rotation, max_backups), "100",
     "keep at most this many backups (0 = all)", .min = 0, .max = 1e6},
    {"localtime", CFG_T_BOOL, offsetof(file_rotation, localtime), "false",
     "local time in backup names instead of UTC", .flags = 0},
};
static CFG_TABLE(rotation_table, rotation_fields, NULL);

static const cfg_field group_by_fields[] = {
    {"enabled", CFG_T_BOOL, offsetof(file_group_by, enabled), "false",
     "one file per resource attribute value (not available in this build)", .flags = 0},
    {"resource_attribute", CFG_T_STRING, offsetof(file_group_by, resource_attribute),
     "fileexporter.path_segment", "resource attribute naming the file", .flags = 0},
    {"max_open_files", CFG_T_INT, offsetof(file_group_by, max_open_files), "100", "open files kept",
     .min = 1, .max = 1e6},
};
static CFG_TABLE(group_by_table, group_by_fields, NULL);

static cfg_mark key_mark(const cfg_node *node, const char *key)
{
    const cfg_pair *p = node ? cfg_node_get_pair(node, key) : NULL;
    return p ? p->key_mark : (node ? node->mark : (cfg_mark){0});
}

static void file_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    file_cfg *c = obj;
    if (!c->path || !*c->path)
        cfg_diag_add(d, CFG_ERROR, key_mark(node, "path"), path, "path must be non-empty");
    if (c->append && c->compression == FILE_COMP_ZSTD)
        cfg_diag_add(d, CFG_ERROR, key_mark(node, "append"), path,
                     "append and compression enabled at the same time is not supported");
    if (c->flush_interval < 0)
        cfg_diag_add(d, CFG_ERROR, key_mark(node, "flush_interval"), path,
                     "flush_interval must be larger than zero");
    if (c->group_by.enabled)
        cfg_diag_add(d, CFG_ERROR, key_mark(node, "group_by"), path,
                     "group_by: not available in this build");
    if (c->encoding && *c->encoding)
        cfg_diag_add(d, CFG_ERROR, key_mark(node, "encoding"), path,
                     "encoding: encoding extensions are not available in this build (use "
                     "format: json or proto)");
}

static const cfg_field file_fields[] = {
    {"path", CFG_T_STRING, offsetof(file_cfg, path), NULL, "file to write",
     .flags = CFG_F_REQUIRED},
    {"format", CFG_T_ENUM, offsetof(file_cfg, format), "json",
     "json (one request per line) or proto (length-prefixed)", .enum_names = format_names},
    {"append", CFG_T_BOOL, offsetof(file_cfg, append), "false",
     "append to an existing file instead of truncating it", .flags = 0},
    {"rotation", CFG_T_SECTION, offsetof(file_cfg, rotation), NULL, "size-based rotation",
     .flags = CFG_F_NULLABLE | CFG_F_TRACK_SET, .sub = &rotation_table,
     .set_offset = offsetof(file_cfg, rotation_set)},
    {"flush_interval", CFG_T_DURATION, offsetof(file_cfg, flush_interval), "1s",
     "how often buffered records reach the file (0 = at once)", .flags = 0},
    {"compression", CFG_T_ENUM, offsetof(file_cfg, compression), "none",
     "zstd: every request is one length-prefixed zstd frame", .enum_names = compression_names},
    {"group_by", CFG_T_SECTION, offsetof(file_cfg, group_by), NULL,
     "one file per resource attribute (not available in this build)", .flags = CFG_F_NULLABLE,
     .sub = &group_by_table},
    {"encoding", CFG_T_STRING, offsetof(file_cfg, encoding), NULL,
     "encoding extension (not available in this build)", .flags = 0},
};
CFG_TABLE(file_table, file_fields, file_validate);

void file_cfg_default(file_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->format = FILE_FMT_JSON;
    cfg->rotation.max_megabytes = 100;
    cfg->rotation.max_backups = 100;
    cfg->flush_interval = GB_NS_PER_S;
    cfg->compression = FILE_COMP_NONE;
    cfg->group_by.resource_attribute = "fileexporter.path_segment";
    cfg->group_by.max_open_files = 100;
}

/* ---- state -------------------------------------------------------------------------------------
 */

typedef struct file_slot {
    gb_sbuf enc;
    uint8_t *z;
    size_t zcap;
    ZSTD_CCtx *zctx;
} file_slot;

typedef struct file_state {
    const file_cfg *cfg;
    pl_component *c;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    int64_t size;
    gb_sbuf pending;
    file_slot slots[N_SLOTS];
    pthread_t flusher;
    bool flusher_running;
    bool stop;
    bool closed;
    int64_t last_backup_ms; /* backup names stay unique when rotations come within 1 ms */
    pl_exphelper_set helpers;
} file_state;

/* ---- file handling -----------------------------------------------------------------------------
 */

void file_backup_name(const char *path, int64_t unix_ns, bool localtime, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
    const char *ext = dot && dot != base ? dot : "";
    time_t s = (time_t)(unix_ns / GB_NS_PER_S);
    int ms = (int)((unix_ns % GB_NS_PER_S) / GB_NS_PER_MS);
    struct tm tm;
    if (localtime)
        localtime_r(&s, &tm);
    else
        gmtime_r(&s, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H-%M-%S", &tm);
    if (snprintf(out, size, "%.*s-%s.%03d%s", (int)stem, path, ts, ms, ext) < 0) out[0] = '\0';
}

static gb_status write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return GB_ERR_IO;
        }
        if (w == 0) return GB_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return GB_OK;
}

static bool length_prefixed(const file_cfg *cfg)
{
    return cfg->format == FILE_FMT_PROTO || cfg->compression == FILE_COMP_ZSTD;
}

/* Truncates a torn last record left by a crash (append mode). */
static gb_status repair_tail(file_state *st)
{
    int64_t size = st->size, good = 0;
    if (size == 0) return GB_OK;
    if (length_prefixed(st->cfg)) {
        int64_t pos = 0;
        uint8_t h[4];
        while (pos + 4 <= size) {
            if (pread(st->fd, h, 4, pos) != 4) return GB_ERR_IO;
            int64_t len =
                ((int64_t)h[0] << 24) | ((int64_t)h[1] << 16) | ((int64_t)h[2] << 8) | h[3];
            if (pos + 4 + len > size) break;
            pos += 4 + len;
        }
        good = pos;
    } else {
        char buf[4096];
        int64_t end = size;
        while (end > 0) {
            int64_t start = end > (int64_t)sizeof buf ? end - (int64_t)sizeof buf : 0;
            ssize_t n = pread(st->fd, buf, (size_t)(end - start), start);
            if (n != end - start) return GB_ERR_IO;
            char *nl = memrchr(buf, '\n', (size_t)n);
            if (nl) {
                good = start + (nl - buf) + 1;
                break;
            }
            end = start;
        }
    }
    if (good < size) {
        gb_log(GB_LOG_WARN, st->c->full_id,
               "truncating an incomplete last record in %s  bytes=%lld", st->cfg->path,
               (long long)(size - good));
        if (ftruncate(st->fd, good) != 0) return GB_ERR_IO;
        st->size = good;
    }
    return GB_OK;
}

static gb_status open_file(file_state *st, bool truncate)
{
    /* O_RDWR: the torn-tail repair reads the end of the file */
    int flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    st->fd = open(st->cfg->path, flags, 0600);
    if (st->fd < 0) {
        gb_log(GB_LOG_ERROR, st->c->full_id, "cannot open %s: %s", st->cfg->path, strerror(errno));
        return GB_ERR_IO;
    }
    struct stat sb;
    if (fstat(st->fd, &sb) != 0) return GB_ERR_IO;
    st->size = sb.st_size;
    return GB_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes backups beyond max_backups (oldest first) and older than max_days. */
static void cleanup_backups(file_state *st)
{
    const file_rotation *r = &st->cfg->rotation;
    if (r->max_backups <= 0 && r->max_days <= 0) return;
    char *pathc = strdup(st->cfg->path);
    char *pathb = strdup(st->cfg->path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *dir = NULL;
    if (!pathc || !pathb) goto out;
    const char *dname = dirname(pathc);
    const char *bname = basename(pathb);
    const char *dot = strrchr(bname, '.');
    size_t stem = dot && dot != bname ? (size_t)(dot - bname) : strlen(bname);
    const char *ext = dot && dot != bname ? dot : "";
    size_t ext_len = strlen(ext);
    dir = opendir(dname);
    if (!dir) goto out;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t l = strlen(e->d_name);
        /* <stem>-YYYY-MM-DDTHH-MM-SS.mmm<ext> */
        if (l != stem + 1 + 23 + ext_len || strncmp(e->d_name, bname, stem) != 0 ||
            e->d_name[stem] != '-' || strcmp(e->d_name + l - ext_len, ext) != 0 ||
            e->d_name[stem + 11] != 'T')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) goto out;
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name))) goto out;
        n++;
    }
    qsort(names, n, sizeof *names, cmp_str); /* the timestamp format sorts by time */
    time_t now = time(NULL);
    for (size_t i = 0; i < n; i++) {
        bool drop = r->max_backups > 0 && (int64_t)(n - i) > r->max_backups;
        if (!drop && r->max_days > 0) {
            struct tm tm;
            memset(&tm, 0, sizeof tm);
            if (strptime(names[i] + stem + 1, "%Y-%m-%dT%H-%M-%S", &tm)) {
                time_t t = r->localtime ? mktime(&tm) : timegm(&tm);
                if (now - t > (time_t)r->max_days * 86400) drop = true;
            }
        }
        if (drop) {
            char full[4096];
            if (snprintf(full, sizeof full, "%s/%s", dname, names[i]) < (int)sizeof full &&
                unlink(full) != 0)
                gb_log(GB_LOG_WARN, st->c->full_id, "cannot remove old backup %s: %s", full,
                       strerror(errno));
        }
    }
out:
    if (dir) closedir(dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(pathc);
    free(pathb);
}

static gb_status flush_locked(file_state *st)
{
    if (st->pending.len == 0 || st->fd < 0) return GB_OK;
    gb_status rc = write_all(st->fd, st->pending.data, st->pending.len);
    if (rc != GB_OK) {
        int err = errno;
        /* roll back to the last complete record */
        if (ftruncate(st->fd, st->size) != 0) { /* nothing more we can do */
        }
        gb_log(GB_LOG_ERROR, st->c->full_id, "dropping data: cannot write %s: %s  bytes=%zu",
               st->cfg->path, strerror(err), st->pending.len);
    } else {
        st->size += (int64_t)st->pending.len;
    }
    gb_sbuf_reset(&st->pending);
    return rc;
}

static gb_status rotate_locked(file_state *st)
{
    char backup[4096];
    int64_t ms = gb_now_ns() / GB_NS_PER_MS;
    if (ms <= st->last_backup_ms) ms = st->last_backup_ms + 1;
    st->last_backup_ms = ms;
    file_backup_name(st->cfg->path, ms * GB_NS_PER_MS, st->cfg->rotation.localtime, backup,
                     sizeof backup);
    close(st->fd);
    st->fd = -1;
    if (rename(st->cfg->path, backup) != 0)
        gb_log(GB_LOG_ERROR, st->c->full_id, "cannot rotate %s to %s: %s", st->cfg->path, backup,
               strerror(errno));
    gb_status rc = open_file(st, true);
    cleanup_backups(st);
    return rc;
}

/* Appends one record (optional 4-byte length prefix) to the pending buffer. */
static gb_status append_record(file_state *st, bool prefix, const void *data, size_t len)
{
    gb_status rc = GB_OK;
    size_t rec = len + (prefix ? 4 : 0);
    if (prefix && len > UINT32_MAX) return GB_ERR_LIMIT;
    pthread_mutex_lock(&st->mu);
    if (st->closed) {
        rc = GB_ERR_STATE;
        goto out;
    }
    if (st->cfg->rotation_set) {
        int64_t max = st->cfg->rotation.max_megabytes * MIB;
        if (max > 0 && st->size + (int64_t)(st->pending.len + rec) > max &&
            st->size + (int64_t)st->pending.len > 0) {
            flush_locked(st);
            rc = rotate_locked(st);
            if (rc != GB_OK) goto out;
        }
    }
    if (prefix) {
        uint8_t h[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                        (uint8_t)len};
        gb_sbuf_append(&st->pending, h, 4);
    }
    gb_sbuf_append(&st->pending, data, len);
    rc = st->pending.err;
    if (rc != GB_OK) {
        gb_sbuf_reset(&st->pending);
        goto out;
    }
    if (st->cfg->flush_interval == 0 || st->pending.len >= FLUSH_AT) rc = flush_locked(st);
out:
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static gb_status file_export(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                             pl_export_result *res)
{
    (void)deadline_ns;
    file_state *st = ctx;
    file_slot *s = &st->slots[thread % N_SLOTS];
    const file_cfg *cfg = st->cfg;
    gb_sbuf_reset(&s->enc);
    gb_status rc = cfg->format == FILE_FMT_PROTO ? otlp_encode_proto(b, &s->enc)
                                                 : otlp_encode_json(b, &s->enc);
    if (rc == GB_OK) rc = s->enc.err;
    if (rc != GB_OK) {
        snprintf(res->message, sizeof res->message, "failed to encode: %s", gb_status_str(rc));
        return GB_ERR_PERMANENT;
    }
    if (cfg->compression == FILE_COMP_ZSTD) {
        size_t bound = ZSTD_compressBound(s->enc.len);
        if (!s->zctx && !(s->zctx = ZSTD_createCCtx())) return GB_ERR_RETRY;
        if (s->zcap < bound) {
            uint8_t *z = realloc(s->z, bound);
            if (!z) return GB_ERR_RETRY;
            s->z = z;
            s->zcap = bound;
        }
        size_t zn = ZSTD_compressCCtx(s->zctx, s->z, s->zcap, s->enc.data, s->enc.len, 3);
        if (ZSTD_isError(zn)) {
            snprintf(res->message, sizeof res->message, "zstd: %s", ZSTD_getErrorName(zn));
            return GB_ERR_PERMANENT;
        }
        rc = append_record(st, true, s->z, zn);
    } else if (cfg->format == FILE_FMT_PROTO) {
        rc = append_record(st, true, s->enc.data, s->enc.len);
    } else {
        gb_sbuf_putc(&s->enc, '\n');
        rc = s->enc.err == GB_OK ? append_record(st, false, s->enc.data, s->enc.len) : s->enc.err;
    }
    if (rc != GB_OK) {
        snprintf(res->message, sizeof res->message, "cannot write %s: %s", cfg->path,
                 gb_status_str(rc));
        return GB_ERR_PERMANENT;
    }
    /* do not keep a huge scratch buffer after an unusually large batch */
    if (s->enc.cap > (16u << 20)) gb_sbuf_free(&s->enc);
    return GB_OK;
}

static void wait_ns(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until)
{
    struct timespec ts = {.tv_sec = (time_t)(until / GB_NS_PER_S),
                          .tv_nsec = (long)(until % GB_NS_PER_S)};
    pthread_cond_timedwait(cv, mu, &ts);
}

static void *flusher_main(void *arg)
{
    file_state *st = arg;
    pthread_mutex_lock(&st->mu);
    int64_t next = gb_mono_ns() + st->cfg->flush_interval;
    while (!st->stop) {
        wait_ns(&st->cv, &st->mu, next);
        if (gb_mono_ns() >= next) {
            flush_locked(st);
            next = gb_mono_ns() + st->cfg->flush_interval;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

gb_status file_flush(pl_component *c)
{
    file_state *st = c->state;
    pthread_mutex_lock(&st->mu);
    gb_status rc = flush_locked(st);
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* ---- component ---------------------------------------------------------------------------------
 */

static gb_status file_create(pl_component *c)
{
    file_state *st = calloc(1, sizeof *st);
    if (!st) return GB_ERR_NOMEM;
    st->cfg = c->cfg;
    st->c = c;
    st->fd = -1;
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cv, &ca);
    pthread_condattr_destroy(&ca);
    gb_sbuf_init(&st->pending, 0);
    for (int i = 0; i < N_SLOTS; i++)
        gb_sbuf_init(&st->slots[i].enc, 0);
    c->state = st;
    return GB_OK;
}

static gb_status file_start(pl_component *c, pl_host *host)
{
    (void)host;
    file_state *st = c->state;
    const file_cfg *cfg = st->cfg;
    gb_status rc;
    if (!cfg->path || !*cfg->path) return GB_ERR_INVALID;
    if (cfg->group_by.enabled) {
        gb_log(GB_LOG_ERROR, c->full_id, "group_by: not available in this build");
        return GB_ERR_UNSUPPORTED;
    }
    rc = open_file(st, !cfg->append);
    if (rc != GB_OK) return rc;
    if (cfg->append) {
        rc = repair_tail(st);
        if (rc != GB_OK) return rc;
    }
    pl_retry_cfg r;
    pl_queue_cfg q;
    pl_retry_cfg_default(&r);
    r.enabled = false;
    pl_queue_cfg_default(&q);
    q.enabled = false;
    q.num_consumers = N_SLOTS;
    pl_exphelper_opts o = {.id = c->id, .retry = &r, .queue = &q, .export_fn = file_export, .ctx = st};
    rc = pl_exphelper_set_start(&st->helpers, &o);
    if (rc != GB_OK) return rc;
    if (cfg->flush_interval > 0) {
        if (pthread_create(&st->flusher, NULL, flusher_main, st) != 0) return GB_ERR_NOMEM;
        st->flusher_running = true;
    }
    return GB_OK;
}

static gb_status file_consume(pl_component *c, pd_batch *b)
{
    file_state *st = c->state;
    return pl_exphelper_set_consume(&st->helpers, b);
}

static gb_status file_shutdown(pl_component *c, int64_t deadline_ns)
{
    file_state *st = c->state;
    if (!st) return GB_OK;
    pl_exphelper_set_shutdown(&st->helpers, deadline_ns);
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (st->flusher_running) {
        pthread_join(st->flusher, NULL);
        st->flusher_running = false;
    }
    pthread_mutex_lock(&st->mu);
    gb_status rc = GB_OK;
    if (!st->closed) {
        rc = flush_locked(st);
        if (st->fd >= 0) {
            if (fdatasync(st->fd) != 0 && rc == GB_OK) rc = GB_ERR_IO;
            close(st->fd);
            st->fd = -1;
        }
        st->closed = true;
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static void file_destroy(pl_component *c)
{
    file_state *st = c->state;
    if (!st) return;
    file_shutdown(c, gb_mono_ns());
    pl_exphelper_set_free(&st->helpers);
    for (int i = 0; i < N_SLOTS; i++) {
        gb_sbuf_free(&st->slots[i].enc);
        free(st->slots[i].z);
        ZSTD_freeCCtx(st->slots[i].zctx);
    }
    gb_sbuf_free(&st->pending);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
    c->state = NULL;
}

const pl_descriptor exporter_file_descriptor = {
    .kind = PL_EXPORTER,
    .type = "file",
    .stability = {PL_ALPHA, PL_ALPHA, PL_ALPHA},
    .config = &file_table,
    .config_size = sizeof(file_cfg),
    .doc = "writes OTLP JSON lines or length-prefixed protobuf to a file, with rotation",
    .create = file_create,
    .start = file_start,
    .consume = file_consume,
    .shutdown = file_shutdown,
    .destroy = file_destroy,
};
