//! Workloads shared by the benchmarks (filled in with the benchmark issue).
