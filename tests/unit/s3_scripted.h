/*
 * s3_scripted.h - request-level tests of the S3 store against a scripted
 * HTTP server on a loopback port (canned answers, recorded requests), for
 * the cases a real server cannot stage. Part of tests/unit/test_s3_store.
 */
#ifndef BFS_TESTS_S3_SCRIPTED_H
#define BFS_TESTS_S3_SCRIPTED_H

/* Run every scripted case (TAP through bfs_conformance_ok). */
void s3_scripted_suite(void);

#endif
