"""Measurement infrastructure for `scripts/benchmark.py`: FLOPs, latency, memory, training time, report."""
