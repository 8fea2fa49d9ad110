"""Benchmarks: a seeded company generator, a month-grid baseline and the runner.

    .venv/bin/python -m benchmarks.run --scales 10k,100k,1m,10m --engines duckdb,spark
"""
