"""atelier's benchmarks (not tests): `python -m bench` or `make bench`.

Each section module exposes ``run(quick: bool) -> list[dict]`` rows (section, name, metric,
value, unit, spread, note); ``python -m bench`` runs them all and writes
outputs/bench/<timestamp>/results.parquet and summary.md.
"""
