/* A C interface to Google Benchmark (>= 1.7): benchmarks are plain C
 * functions registered by name with a user pointer; shim.cc forwards to the
 * C++ library. A benchmark body looks like
 *
 *   static void bench_thing(rg_bench_state *st, void *user) {
 *     ...set up, untimed...
 *     while (rg_bench_keep_running(st)) do_thing(user);
 *     rg_bench_set_items(st, n);   // after the loop: per-iteration amounts
 *   }
 *
 * and main() registers the bodies, then returns rg_bench_main(argc, argv),
 * which accepts every --benchmark_* flag (format, filter, min_time, ...). */
#ifndef RG_BENCH_SHIM_H
#define RG_BENCH_SHIM_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque: a benchmark::State. */
typedef struct rg_bench_state rg_bench_state;
typedef void (*rg_bench_fn)(rg_bench_state *state, void *user);

/* Register fn under name (copied); user is passed through untouched and
 * must outlive rg_bench_main. */
void rg_bench_register(const char *name, rg_bench_fn fn, void *user);

/* The timed loop condition: true while more iterations are wanted. */
bool rg_bench_keep_running(rg_bench_state *state);

/* Exclude setup work inside the loop from the timing (costly: ~0.5 us). */
void rg_bench_pause(rg_bench_state *state);
void rg_bench_resume(rg_bench_state *state);

/* Amounts processed by ONE iteration, reported as rates over the whole
 * run: items_per_second, bytes_per_second, and a named user counter
 * (e.g. "GFLOP/s" with per_iteration = 2mnk * 1e-9). Call after the loop. */
void rg_bench_set_items(rg_bench_state *state, double per_iteration);
void rg_bench_set_bytes(rg_bench_state *state, double per_iteration);
void rg_bench_set_rate(rg_bench_state *state, const char *name, double per_iteration);

/* A free-form note shown next to the result ("label" in JSON). */
void rg_bench_set_label(rg_bench_state *state, const char *label);

/* A key/value pair for the "context" block of the report. */
void rg_bench_add_context(const char *key, const char *value);

/* Parse the --benchmark_* flags, run the registered benchmarks that pass
 * the filter, and return the process exit status (1 on unknown flags). */
int rg_bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
