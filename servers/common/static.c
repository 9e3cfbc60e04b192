/* static.c: safe static files under --docroot, for the protocol engine.
 *
 * The path is percent-decoded exactly once; "." and ".." segments, empty segments, NUL and bad escapes
 * are refused before any system call. The open itself is confined by the kernel: openat2() with
 * RESOLVE_BENEATH (symlinks that stay inside the root still work, ones that leave it fail), and where
 * openat2 is missing, a walk that opens one component at a time with O_NOFOLLOW (no symlinks at all).
 * Only regular files are served: O_NONBLOCK keeps the open of a FIFO from blocking, fstat refuses it. */
#include "proto.h"
#include "proto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

static atomic_int no_openat2; /* set once openat2 turned out to be unavailable (ENOSYS) */

/* Decode src[0..n) once into dst (size >= n + 1). Returns the length, or -1 for a bad escape or NUL. */
static long pct_decode(const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1; /* a truncated escape */
            int h = proto_hexval((unsigned char)src[i + 1]);
            int l = proto_hexval((unsigned char)src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            ch = (char)(h * 16 + l);
            i += 2;
        }
        if (ch == '\0')
            return -1;
        dst[o++] = ch;
    }
    dst[o] = '\0';
    return (long)o;
}

/* 0 when every segment of the relative path p is a plain name; 400 for ".", "..", or an empty segment
 * before the end (which would also make the path absolute); 404 for a trailing slash (a directory). */
static int check_segments(const char *p)
{
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return 400;
        if (len == 0)
            return slash ? 400 : 404;
        if (!slash)
            return 0;
        p = slash + 1;
    }
}

/* Fallback confinement without openat2: one component at a time, refusing every symlink. */
static int open_walk(int root_fd, char *rel)
{
    int dir = root_fd;
    for (;;) {
        char *slash = strchr(rel, '/');
        if (!slash) {
            int fd = openat(dir, rel, OPEN_FLAGS | O_NOFOLLOW);
            int saved = errno;
            if (dir != root_fd)
                close(dir);
            errno = saved;
            return fd;
        }
        *slash = '\0';
        int next = openat(dir, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        if (dir != root_fd)
            close(dir);
        if (next < 0) {
            errno = saved;
            return -1;
        }
        dir = next;
        rel = slash + 1;
    }
}

static int open_beneath(int root_fd, char *rel)
{
    if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
        struct open_how how = {
            .flags = OPEN_FLAGS,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd;
        do
            fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        while (fd < 0 && errno == EINTR);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        atomic_store_explicit(&no_openat2, 1, memory_order_relaxed);
    }
    return open_walk(root_fd, rel);
}

static const char *content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { "html", "text/html" },        { "htm", "text/html" },
        { "txt", "text/plain" },        { "css", "text/css" },
        { "js", "text/javascript" },    { "json", "application/json" },
        { "png", "image/png" },         { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },       { "gif", "image/gif" },
        { "svg", "image/svg+xml" },     { "ico", "image/x-icon" },
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

int proto_file_open(int root_fd, const char *target, size_t n, int *fd, uint64_t *size,
                    const char **ctype)
{
    char rel[PROTO_TARGET_MAX + 1];
    struct stat st;

    /* target starts with '/'; what follows is relative to the root */
    if (pct_decode(target + 1, n - 1, rel) < 0)
        return 400;
    int verdict = check_segments(rel);
    if (verdict != 0)
        return verdict;
    int f = open_beneath(root_fd, rel);
    if (f < 0)
        return 404; /* ENOENT, ENOTDIR, EXDEV (escape), ELOOP, EACCES: all the same to the client */
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return 404;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    *ctype = content_type(rel);
    return 200;
}

ssize_t proto_file_read(int fd, char *buf, size_t n, uint64_t off)
{
    ssize_t r;
    do
        r = pread(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

void proto_file_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}
