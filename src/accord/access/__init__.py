"""Organisations, users, tokens, sharing groups, and the one visibility rule every read uses.

``visible(viewer)`` is the only way to obtain the ``Visibility`` that every object read in
``accord.store`` requires.
"""

from accord.access.audience import Audience, cap_for_tlp, default_audience, parse_audience
from accord.access.viewer import ROLES, Viewer
from accord.access.visibility import Visibility, visible

__all__ = [
    "ROLES",
    "Audience",
    "Viewer",
    "Visibility",
    "cap_for_tlp",
    "default_audience",
    "parse_audience",
    "visible",
]
