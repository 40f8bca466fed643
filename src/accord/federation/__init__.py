"""Federation: pulling intelligence from partner hubs (TAXII 2.1) and MISP feeds into this hub.

- ``feeds``: what a feed is (validation of its definition), intervals and back-off.
- ``taxii``: the TAXII 2.1 source (collection resolution, ``added_after`` / ``next`` paging).
- ``misp``: the MISP feed source (``manifest.json`` plus ``<uuid>.json`` events).
- ``pull``: one pull of one feed — lease, pages, loop prevention, ingest, checkpoint, health.
- ``scheduler``: the background thread ``accord serve`` runs to pull feeds when they are due.

Everything a feed brings in is written through ``Hub.ingest`` (the one ingest path) with
``via="feed:NAME"`` provenance and the feed's acting organisation and audience.
"""
