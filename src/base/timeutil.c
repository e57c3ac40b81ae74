#include "timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t gb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * GB_NS_PER_S + ts.tv_nsec;
}

int64_t gb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * GB_NS_PER_S + ts.tv_nsec;
}

void gb_fmt_rfc3339(int64_t unix_ns, char *buf, unsigned size)
{
    time_t secs = (time_t)(unix_ns / GB_NS_PER_S);
    int ms = (int)((unix_ns % GB_NS_PER_S) / GB_NS_PER_MS);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void gb_fmt_duration(int64_t ns, char *buf, unsigned size)
{
    if (ns < GB_NS_PER_S) {
        if (ns % GB_NS_PER_MS == 0)
            snprintf(buf, size, "%lldms", (long long)(ns / GB_NS_PER_MS));
        else
            snprintf(buf, size, "%.6gms", (double)ns / GB_NS_PER_MS);
        return;
    }
    long long h = ns / (3600 * GB_NS_PER_S);
    long long m = (ns / (60 * GB_NS_PER_S)) % 60;
    double s = (double)(ns % (60 * GB_NS_PER_S)) / GB_NS_PER_S;
    if (h)
        snprintf(buf, size, "%lldh%lldm%.9gs", h, m, s);
    else if (m)
        snprintf(buf, size, "%lldm%.9gs", m, s);
    else
        snprintf(buf, size, "%.9gs", s);
}
