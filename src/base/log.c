/* Runtime logging (see log.h). One line per call, written with a single fwrite under a mutex so
 * lines from worker threads never interleave. Rate limiting is per format string (the call
 * site): at most LOG_BURST lines per second each; the rest are counted and reported. Rejected:
 * an async log thread (adds a queue to bound and lose; stderr writes are rare off the error
 * path). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

#define LOG_SITES 64
#define LOG_BURST 5

static gb_log_level g_level = GB_LOG_INFO;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    const char *fmt;
    int64_t second;
    unsigned count;
    unsigned suppressed;
} g_sites[LOG_SITES];

void gb_log_set_level(gb_log_level lvl)
{
    g_level = lvl;
}

gb_log_level gb_log_get_level(void)
{
    return g_level;
}

int gb_log_parse_level(const char *s, gb_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (gb_log_level)i;
            return 0;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *out = GB_LOG_WARN;
        return 0;
    }
    return -1;
}

void gb_log(gb_log_level lvl, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < g_level) return;
    int64_t now = gb_now_ns();
    unsigned suppressed = 0;
    pthread_mutex_lock(&g_lock);
    unsigned slot = (unsigned)(((uintptr_t)fmt >> 3) % LOG_SITES);
    int64_t sec = now / GB_NS_PER_S;
    if (g_sites[slot].fmt != fmt || g_sites[slot].second != sec) {
        suppressed = g_sites[slot].fmt == fmt ? g_sites[slot].suppressed : 0;
        g_sites[slot].fmt = fmt;
        g_sites[slot].second = sec;
        g_sites[slot].count = 0;
        g_sites[slot].suppressed = 0;
    }
    if (++g_sites[slot].count > LOG_BURST) {
        g_sites[slot].suppressed++;
        pthread_mutex_unlock(&g_lock);
        return;
    }
    char line[2048];
    char ts[40];
    gb_fmt_rfc3339(now, ts, sizeof ts);
    int n = snprintf(line, sizeof line, "%s\t%s\t%s%s", ts, names[lvl],
                     component && *component ? component : "", component && *component ? "\t" : "");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line) n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof line - 48) n = (int)sizeof line - 48;
    if (suppressed) n += snprintf(line + n, sizeof line - (size_t)n, "\t(%u similar lines suppressed)", suppressed);
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
    pthread_mutex_unlock(&g_lock);
}
