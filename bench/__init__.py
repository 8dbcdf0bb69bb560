"""Benchmarks: every module here that registers with :mod:`bench.harness` is one.

``make bench`` (``eventpipe bench``) runs them all against the local services and writes
``bench/results.json``; ``make bench NAME=x`` runs one. Benchmarks are never part of the test
command; ``tests/integration/test_bench_smoke.py`` runs each at a tiny scale so none rots.
"""
