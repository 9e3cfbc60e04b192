/* proto_int.h: private interface between the protocol engine (proto.c) and its static-file half
 * (static.c). Not for models. */
#ifndef CMB_PROTO_INT_H
#define CMB_PROTO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reason phrase of an HTTP status. */
const char *proto_reason(int status);

/* Resolve the request path target[0..n) (starts with '/', query removed) under the docroot directory
 * fd. Returns 200 with *fd open on a regular file, *size and *ctype set; else 400 (a path we refuse to
 * interpret) or 404 (no such regular file beneath the root). Never opens anything outside the root. */
int proto_file_open(int root_fd, const char *target, size_t n, int *fd, uint64_t *size,
                    const char **ctype);

/* pread() with EINTR retried. */
ssize_t proto_file_read(int fd, char *buf, size_t n, uint64_t off);

/* Close *fd if open and set it to -1. */
void proto_file_close(int *fd);

#endif
