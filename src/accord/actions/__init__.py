"""Collective action: disruption actions' effects on indicators, OFAC sanctions import, impact totals
and per-actor timelines. Everything is written through ``accord.ingest`` and read through the one
visibility rule."""
