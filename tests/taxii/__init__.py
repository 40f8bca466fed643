"""TAXII 2.1 server tests (a package, so its conftest does not shadow tests/conftest.py)."""
