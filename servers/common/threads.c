/* threads.c: thread attributes shared by the threaded models. */
#include "threads.h"

#include <signal.h>

int srv_thread_attr(pthread_attr_t *attr, size_t stack, int detached)
{
    sigset_t all;
    int err = pthread_attr_init(attr);
    if (err)
        return err;
    sigfillset(&all);
    if ((err = pthread_attr_setstacksize(attr, stack)) != 0 ||
        (err = pthread_attr_setdetachstate(attr, detached ? PTHREAD_CREATE_DETACHED
                                                          : PTHREAD_CREATE_JOINABLE)) != 0 ||
        (err = pthread_attr_setsigmask_np(attr, &all)) != 0)
        pthread_attr_destroy(attr);
    return err;
}
