"""Benchmarks: ``python -m mmsearch.bench <name>`` (see ``__main__.py``)."""
