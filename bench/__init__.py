"""Benchmarks of Exchange Pack against the sandbox tenant: ``make bench`` runs ``bench.run``."""
