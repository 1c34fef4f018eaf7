// The C++ side of shim.h: thin forwarding to Google Benchmark.
#include "shim.h"

#include <benchmark/benchmark.h>

namespace {
benchmark::State &unwrap(rg_bench_state *state) {
  return *reinterpret_cast<benchmark::State *>(state);
}
rg_bench_state *wrap(benchmark::State &state) {
  return reinterpret_cast<rg_bench_state *>(&state);
}
double total(benchmark::State &state, double per_iteration) {
  return per_iteration * static_cast<double>(state.iterations());
}
}  // namespace

extern "C" {

void rg_bench_register(const char *name, rg_bench_fn fn, void *user) {
  benchmark::RegisterBenchmark(name, [fn, user](benchmark::State &state) { fn(wrap(state), user); });
}

bool rg_bench_keep_running(rg_bench_state *state) { return unwrap(state).KeepRunning(); }

void rg_bench_pause(rg_bench_state *state) { unwrap(state).PauseTiming(); }

void rg_bench_resume(rg_bench_state *state) { unwrap(state).ResumeTiming(); }

void rg_bench_set_items(rg_bench_state *state, double per_iteration) {
  benchmark::State &s = unwrap(state);
  s.SetItemsProcessed(static_cast<int64_t>(total(s, per_iteration)));
}

void rg_bench_set_bytes(rg_bench_state *state, double per_iteration) {
  benchmark::State &s = unwrap(state);
  s.SetBytesProcessed(static_cast<int64_t>(total(s, per_iteration)));
}

void rg_bench_set_rate(rg_bench_state *state, const char *name, double per_iteration) {
  unwrap(state).counters[name] =
      benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

void rg_bench_set_label(rg_bench_state *state, const char *label) { unwrap(state).SetLabel(label); }

void rg_bench_add_context(const char *key, const char *value) {
  benchmark::AddCustomContext(key, value);
}

int rg_bench_main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // extern "C"
