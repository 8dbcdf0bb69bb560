"""Test support: where the real services are, and small helpers shared by test packages."""
