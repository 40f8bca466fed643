"""SVG charts of impact and timelines: well-formed, escaped, one currency per chart."""

from __future__ import annotations

import xml.dom.minidom

import pytest

from accord.actions import charts
from accord.errors import InvalidInput

IMPACT = {
    "by": "region", "period": "year",
    "groups": [
        {"region": "africa", "period": "2024", "actions": 1, "counts": {"arrests": 1006}, "amounts": {}},
        {"region": "<script>alert(1)</script>", "period": "2024", "actions": 2, "counts": {"arrests": 3},
         "amounts": {"assets_seized": {"USD": 1000, "BTC": 2.5}}},
    ],
}  # fmt: skip


def test_impact_svg_is_well_formed_and_escaped() -> None:
    svg = charts.impact_svg(IMPACT, "arrests")
    doc = xml.dom.minidom.parseString(svg)
    texts = [t.firstChild.data for t in doc.getElementsByTagName("text")]
    assert "1,006" in texts and "africa · 2024" in texts
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert len(doc.getElementsByTagName("rect")) == 2


def test_amount_charts_take_one_currency() -> None:
    svg = charts.impact_svg(IMPACT, "assets_seized:usd")
    texts = [t.firstChild.data for t in xml.dom.minidom.parseString(svg).getElementsByTagName("text")]
    assert "1,000" in texts and "2.50" not in texts  # BTC never drawn on a USD chart
    with pytest.raises(InvalidInput, match="unknown metric 'assets_seized'"):
        charts.impact_svg(IMPACT, "assets_seized")
    with pytest.raises(InvalidInput, match="unknown metric"):
        charts.impact_svg(IMPACT, "money")


def test_timeline_svg() -> None:
    tl = {"actor": [{"id": "intrusion-set--x", "type": "intrusion-set", "name": "LockBit"}],
          "actions": [{"date": "2024-02-20T00:00:00.000Z", "id": "a", "name": "Cronos 1", "action_types": ["takedown"]},
                      {"date": "2024-10-01T00:00:00.000Z", "id": "b", "name": "Cronos 3", "action_types": ["arrest"]}]}  # fmt: skip
    doc = xml.dom.minidom.parseString(charts.timeline_svg(tl))
    circles = doc.getElementsByTagName("circle")
    assert [c.getAttribute("cx") for c in circles] == ["20.0", "380.0"]
    empty = charts.timeline_svg({"actor": tl["actor"], "actions": []})
    assert "no visible actions" in empty
