"""Protocols: the model, loading (through the trusted cache), semantic checks and lint."""
