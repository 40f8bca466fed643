"""Persistence: STIX object versions, audiences, organisations and the audit log (SQLAlchemy 2).

Knows rows and versions, not HTTP. Reads of STIX objects take a ``Visibility`` made by
``accord.access``; there is no way to select objects without one.
"""
