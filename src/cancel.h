/*
 * cancel.h - the interrupt of the request a thread is serving.
 *
 * The kernel sends FUSE_INTERRUPT for a request whose caller got a signal
 * (Ctrl-C, a timer, SIGTERM): the FUSE layer marks the thread that
 * serves an interruptible request (bfs_cancel_begin), libfuse's interrupt
 * callback fires it (bfs_cancel_fire) from another thread, and the
 * network layer below asks (bfs_cancel_requested) before each attempt,
 * during a transfer (libcurl's progress callback, at least once a second)
 * and while it waits for a connection or a backoff, and gives up with
 * EINTR. No layer in between has to pass a token along.
 *
 * Invariants:
 * - A thread serves at most one interruptible request at a time; begin
 *   and end pair up on that thread.
 * - The state lives in a static table of slots that is never freed, and
 *   a request is named by a 64-bit id that is never reused: libfuse may
 *   call the interrupt callback after the request has been answered, and
 *   such a late call finds its id gone and does nothing.
 * - Threads serving no request (prefetch, uploads at release, the
 *   flusher) are never cancelled; neither is a request begun when every
 *   slot was taken (it simply runs to its end).
 */
#ifndef BFS_CANCEL_H
#define BFS_CANCEL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Mark the calling thread as serving an interruptible request.
 * @return the request's id for bfs_cancel_fire(), never 0.
 * @note pairs with bfs_cancel_end() on the same thread.
 */
uint64_t bfs_cancel_begin(void);

/* The calling thread's request is over: nothing can cancel it now. */
void bfs_cancel_end(void);

/*
 * Cancel the request id, if it is still being served; any thread, any
 * time (a stale id is ignored).
 */
void bfs_cancel_fire(uint64_t id);

/* Whether the request the calling thread serves has been cancelled. */
bool bfs_cancel_requested(void);

#endif
