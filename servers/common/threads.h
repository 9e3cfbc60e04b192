/* threads.h: thread helpers for the threaded models (pthread, threadpool, and others). */
#ifndef CMB_THREADS_H
#define CMB_THREADS_H

#include <pthread.h>

/* Stack size for connection threads: small, since thousands may exist; sanitizers need more. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SRV_THREAD_STACK (1024u * 1024u)
#else
#define SRV_THREAD_STACK (64u * 1024u)
#endif

/* Attributes for a server thread: the given stack size, detached or not, and every signal blocked so
 * SIGTERM and SIGINT are always taken by the main thread (which is the one that must wake up). */
int srv_thread_attr(pthread_attr_t *attr, size_t stack, int detached);

#endif
