"""Standalone SVG charts of impact totals and actor timelines (what ``accord impact --svg`` writes).

Pure functions from the JSON that ``accord.actions.impact`` returns to an SVG document: a horizontal
bar per group and period for one metric (actions, a count such as ``arrests``, or an amount such as
``assets_seized:USD`` — one currency per chart, never a sum of currencies), and a timeline with one row
per action. Text is escaped; nothing is fetched.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from accord.errors import InvalidInput
from accord.stix.extensions import AMOUNT_FIELDS, COUNT_FIELDS
from accord.stix.timestamps import parse

_FONT = 'font-family="sans-serif" font-size="12"'
_TITLE = 'font-family="sans-serif" font-size="15" font-weight="bold"'
_PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")


def metric_value(row: dict[str, Any], metric: str) -> float:
    """One group's value for a metric: ``actions``, a count name, or ``AMOUNT:CURRENCY``."""
    if metric == "actions":
        return float(row["actions"])
    if metric in COUNT_FIELDS:
        return float(row["counts"].get(metric, 0))
    kind, _, currency = metric.partition(":")
    if kind in AMOUNT_FIELDS and currency:
        return float(row["amounts"].get(kind, {}).get(currency.upper(), 0))
    raise InvalidInput(f"unknown metric {metric!r}: use actions, one of {', '.join(COUNT_FIELDS)}, or an amount "
                       f"with its currency such as assets_seized:USD")  # fmt: skip


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def impact_svg(impact: dict[str, Any], metric: str = "actions") -> str:
    """Horizontal bars: one per group and period, coloured by group."""
    by = impact["by"]
    rows = [(f"{g[by]} · {g['period']}", metric_value(g, metric), g[by]) for g in impact["groups"]]
    rows = [r for r in rows if r[1] > 0]
    title = f"Impact by {by} and {impact['period']}: {metric.replace('_', ' ')}"
    label_w, plot_w, row_h, top = 260, 420, 22, 40
    height = top + row_h * max(len(rows), 1) + 20
    top_value = max((r[1] for r in rows), default=0) or 1
    colours: dict[str, str] = {}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 110}" height="{height}" '
             f'role="img" aria-label="{_attr(title)}">',
             f'<text x="10" y="22" {_TITLE}>{escape(title)}</text>']  # fmt: skip
    if not rows:
        parts.append(f'<text x="10" y="{top + 14}" {_FONT}>nothing visible to show</text>')
    for i, (label, value, group) in enumerate(rows):
        y = top + i * row_h
        colour = colours.setdefault(group, _PALETTE[len(colours) % len(_PALETTE)])
        width = max(1.0, plot_w * value / top_value)
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" {_FONT}>{escape(label[:40])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + width + 6:.1f}" y="{y + 14}" {_FONT}>{_number(value)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def timeline_svg(timeline: dict[str, Any]) -> str:
    """One row per action on a shared time axis, labelled with its date, name and types."""
    names = ", ".join(a.get("name") or a["id"] for a in timeline["actor"])
    title = f"Disruption actions: {names}"
    actions = timeline["actions"]
    left, plot_w, row_h, top = 20, 360, 24, 56
    height = top + row_h * max(len(actions), 1) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot_w + 700}" height="{height}" '
             f'role="img" aria-label="{_attr(title)}">',
             f'<text x="10" y="22" {_TITLE}>{escape(title[:120])}</text>']  # fmt: skip
    if not actions:
        parts.append(f'<text x="10" y="{top}" {_FONT}>no visible actions</text>')
        return "\n".join([*parts, "</svg>"]) + "\n"
    times = [parse(a["date"]).timestamp() for a in actions]
    first, last = min(times), max(times)
    span = (last - first) or 1.0
    axis_y = top - 14
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#718096"/>')
    parts.append(f'<text x="{left}" y="{axis_y - 6}" {_FONT}>{escape(actions[0]["date"][:10])}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{axis_y - 6}" text-anchor="end" {_FONT}>'
                 f'{escape(actions[-1]["date"][:10])}</text>')  # fmt: skip
    for i, (a, t) in enumerate(zip(actions, times, strict=True)):
        y = top + i * row_h
        x = left + plot_w * (t - first) / span
        colour = _PALETTE[i % len(_PALETTE)]
        when = f"by {a['date'][:10]}" if a.get("undated") else a["date"][:10]
        label = f"{when}  {a.get('name') or a['id']}  ({', '.join(a.get('action_types') or ())})"
        parts.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{y + 8}" stroke="{colour}" '
                     'stroke-dasharray="2,2"/>')  # fmt: skip
        parts.append(f'<circle cx="{x:.1f}" cy="{y + 8}" r="5" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 12}" y="{y + 12}" {_FONT}>{escape(label[:115])}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
