"""Experiment YAML → frozen pydantic specs."""
