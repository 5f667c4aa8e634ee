"""Stegvis benchmarks: a synthetic data generator and the benchmark runner (`bench/run`).

Not part of the product and not run in CI (only tests/bench/test_bench_smoke.py is)."""
