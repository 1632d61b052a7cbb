"""Benchmarks that print ratios measured in one run: `python -m mmsearch.bench NAME`."""
