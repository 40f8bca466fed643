"""The TAXII 2.1 edge (OASIS Standard, 10 June 2021): discovery, one API root, collections, objects,
manifests, versions and statuses under ``/taxii2/``.

Everything here is protocol — media types, query parameters, paging tokens, error messages; the rules
(who may read or write a collection, what it shows, what a write is shared with) live in
``accord.access.collections`` and every call goes through ``accord.hub.Hub``.
"""
