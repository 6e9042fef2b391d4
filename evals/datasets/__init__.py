"""Seeded generators of the datasets the reference workflows ship (``python -m evals.datasets.<name>``)."""
