"""Benchmarks, run by `make bench` (never by `make test`): ratios measured in one run."""
