"""Scenario configs shipped with the package (each validated on its own)."""
