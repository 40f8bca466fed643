"""Accord: a threat-intelligence sharing and collective-defence hub built on STIX 2.1."""

__version__ = "0.1.0"
