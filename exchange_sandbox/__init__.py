"""A local Microsoft 365 tenant look-alike (identity, Graph mail, EWS) for tests and demos."""
