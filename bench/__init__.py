"""The benchmark: a generated dataset, a query mix, a load driver and the SQL floor (docs/benchmarks.md)."""
