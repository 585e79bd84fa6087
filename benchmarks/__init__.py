"""Benchmark readers and runners (opt-in: make bench)."""
