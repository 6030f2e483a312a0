"""Pure models and rules: datasets, principals, governance, queries. No I/O."""
