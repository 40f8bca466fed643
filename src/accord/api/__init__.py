"""The REST API under ``/api/v1/``: JSON over HTTP, a thin layer over ``accord.hub.Hub``."""
