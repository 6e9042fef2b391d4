"""Offline evaluation: shipped dataset generators, eval harness, statistics calibration."""
