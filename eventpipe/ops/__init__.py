"""Operator tools behind ``eventpipe lag`` and ``eventpipe dlq``."""
