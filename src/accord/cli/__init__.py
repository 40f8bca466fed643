"""The ``accord`` command: the hub operator's tool, a thin layer over ``accord.hub.Hub``."""
