"""Benchmarks of wslearn against the websockets library and wsproto (issue 5).

Run ``python -m bench`` (or ``python -m bench --quick`` for a tiny run); see bench/README.md.
"""
