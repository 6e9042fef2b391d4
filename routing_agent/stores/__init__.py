"""Stores: every persisted thing, in one design — ``assignments``, ``observations`` and ``reviews``."""
