"""The etcdmap benchmark suite (not collected by pytest): ``python -m tests.benchmarks``."""
