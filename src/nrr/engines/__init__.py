"""Engines run the core's SQL stages: DuckDB (embedded default) and Spark (for clusters)."""
