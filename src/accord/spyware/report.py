"""The device-check report: JSON for tools and a self-contained HTML page a non-technical person can read
— what matched, when, which product and vendor it points to, how confident, and what to do next (which
helpline organisations to contact). Every value from the device or from indicators is escaped in the
HTML; the page loads nothing from anywhere (no scripts, no external styles, no images).

The report stays on the machine that ran the check. It names no device identifiers (MVT's
``backup_info.json`` IMEI, serial or phone number are never read), but it does show where on the
device each match was found: that is for the person and the helper they choose to show it to.
"""

from __future__ import annotations

from html import escape
from typing import Any

from accord.spyware.check import CheckResult

__all__ = ["build", "render_html", "DEFAULT_HELPLINES", "REPORT_VERSION"]

REPORT_VERSION = 1
#: When the check ran without a hub (offline indicator files): public helplines that assist people at risk.
DEFAULT_HELPLINES = [
    {
        "name": "Access Now Digital Security Helpline",
        "contact": "https://www.accessnow.org/help/",
        "country": None,
        "on_hub": False,
    },
]

_CONFIDENCE_WORDS = {
    "high": "High: this is a strong sign of this spyware.",
    "medium": "Medium: this could be a sign of spyware; a specialist should look at it.",
    "low": "Low: a weak sign; a specialist should look at it before drawing conclusions.",
}


def _next_steps(found: bool, helplines: list[dict[str, Any]], can_share: bool) -> list[str]:
    names = ", ".join(h["name"] for h in helplines[:3]) or "a digital security helpline"
    if found:
        steps = [
            "Do not reset, wipe or throw away this phone yet: it holds the evidence a specialist needs.",
            f"Contact a helpline from a different device you trust (not this phone): {names}. Send them this "
            "report; it contains what was found and where.",
            "Until you have spoken to them, assume that messages, calls, the microphone and the camera of this "
            "phone may be watched. Have sensitive conversations in person or on another device.",
            "Think about who else may be at risk with you (colleagues, sources, family) and tell the helpline.",
        ]
        if can_share:
            steps.append(
                "You can warn others without revealing anything about yourself or your phone: share a "
                "sighting (only which indicator matched, how many times and when) with a helpline "
                "(--share-with) or anonymously with the community (--share-anonymously)."
            )
        return steps
    return [
        "No known spyware indicator matched. This is good news, but not proof that the phone is clean: indicators "
        "only describe spyware that has already been found and published.",
        "Keep the phone's system and apps up to date; on an iPhone, consider turning on Lockdown Mode.",
        f"If you still have reason to worry (suspicious messages or links, warnings from Apple, Google or Meta), "
        f"contact a helpline: {names}.",
    ]


def build(
    result: CheckResult,
    helplines: list[dict[str, Any]] | None = None,
    *,
    can_share: bool = False,
    shared: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    lines = helplines if helplines else DEFAULT_HELPLINES
    found = bool(result.findings)
    top = result.findings[0] if found else None
    if top is not None:
        products = sorted({p["label"] for f in result.findings for p in f.products})
        summary = (
            f"Signs of spyware were found: {len(result.findings)} match(es) with indicators of "
            f"{', '.join(products) or 'known spyware'}. The strongest match has {top.confidence} confidence."
        )
    else:
        summary = (
            f"No known spyware was found: {result.device.artefacts:,} artefacts from {len(result.device.records):,}"
            f" records were checked against {result.indicators_known:,} spyware indicators."
        )
    device: dict[str, Any] = {
        "kind": "MVT results folder" if result.device.kind == "mvt" else "artefact list",
        "name": result.device.name,
        "records": len(result.device.records),
        "artefacts": result.device.artefacts,
        "files_read": result.device.files_read,
    }
    if result.device.info:
        device["mvt"] = result.device.info
        device["mvt_own_matches"] = result.device.mvt_matches
    if result.device.skipped:
        device["skipped"] = result.device.skipped
    out: dict[str, Any] = {
        "report": "accord-device-check",
        "version": REPORT_VERSION,
        "checked_at": result.checked_at,
        "verdict": {"spyware_found": found, "confidence": top.confidence if top else None, "summary": summary},
        "findings": [f.as_dict() for f in result.findings],
        "next_steps": _next_steps(found, lines, can_share),
        "helplines": lines,
        "device": device,
        "indicators": {
            "source": result.source,
            "known": result.indicators_known,
            "compiled": result.indicators_compiled,
            "not_usable": [{"indicator": i, "reason": r} for i, r in result.indicators_rejected[:50]],
        },
        "mvt_notices": result.device.notices,
        "privacy": "This report was made on this machine and has not been sent anywhere."
        + (" A sighting was shared as you asked (see 'shared')." if shared else ""),
        "performance": {"events": result.events, "hits": result.hits, "seconds": round(result.seconds, 3)},
    }
    if shared:
        out["shared"] = shared
    return out


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.5}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
.verdict{padding:1rem 1.25rem;border-radius:.5rem;font-size:1.1rem}
.found{background:#fde8e8;border:2px solid #b42318}.clean{background:#e7f6ec;border:2px solid #1a7f37}
.finding{border:1px solid #ccc;border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
.high{border-left:.5rem solid #b42318}.medium{border-left:.5rem solid #c77c02}.low{border-left:.5rem solid #777}
code{background:#f3f3f3;padding:0 .25rem;border-radius:.2rem;word-break:break-all}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
small{color:#555}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _list(items: list[Any]) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>" if items else "<p>—</p>"


def _finding(n: int, f: dict[str, Any]) -> str:
    products = "; ".join(p["label"] for p in f["products"]) or "unknown"
    vendors = ", ".join(v["name"] for v in f["vendors"]) or "not known"
    infra = "; ".join(f"{i['name']} ({', '.join(i['infrastructure_types'])})" for i in f.get("infrastructure", []))
    infra_row = f"<tr><th>Part of</th><td>{_e(infra)}</td></tr>" if infra else ""
    when = f["first_seen"] or "unknown"
    if f["last_seen"] and f["last_seen"] != f["first_seen"]:
        when = f"{when} to {f['last_seen']}"
    values = ", ".join(f"<code>{_e(v)}</code>" for v in f["values"])
    seen = ", ".join(f"<code>{_e(v)}</code>" for v in f["seen"])
    level = f["confidence"] if f["confidence"] in _CONFIDENCE_WORDS else "low"
    more = f" … and {f['count'] - 5} more" if f["count"] > 5 else ""
    return (
        f'<div class="finding {level}"><h3>{n}. {_e(f["what"])}</h3><table>'
        f"<tr><th>Spyware</th><td>{_e(products)}</td></tr>"
        f"<tr><th>Company behind it</th><td>{_e(vendors)}</td></tr>"
        f"{infra_row}"
        f"<tr><th>How sure</th><td>{_e(_CONFIDENCE_WORDS[level])} <small>({_e(f['why'])})</small></td></tr>"
        f"<tr><th>When (UTC)</th><td>{_e(when)}</td></tr>"
        f"<tr><th>Matched value</th><td>{values}</td></tr>"
        f"<tr><th>Found in</th><td>{seen or '—'}<br><small>{_e('; '.join(f['where'][:5]))}{_e(more)}</small></td></tr>"
        f"<tr><th>Times seen</th><td>{_e(f['count'])}</td></tr>"
        f"<tr><th>Sources</th><td>{_e('; '.join(f['sources']))}<br><small>indicators: "
        f"{_e(', '.join(f['indicators'][:6]))}</small></td></tr>"
        "</table></div>"
    )


def render_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page of the report (everything escaped; nothing loaded from elsewhere)."""
    v = report["verdict"]
    cls = "found" if v["spyware_found"] else "clean"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Device check report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Device check report</h1>",
        f"<p><small>Checked at {_e(report['checked_at'])} (UTC) · {_e(report['device']['kind'])} "
        f"<code>{_e(report['device']['name'])}</code></small></p>",
        f'<div class="verdict {cls}"><strong>{_e(v["summary"])}</strong></div>',
        "<h2>What to do next</h2>",
        "<ol>" + "".join(f"<li>{_e(s)}</li>" for s in report["next_steps"]) + "</ol>",
        "<h2>Who can help</h2><ul>",
    ]
    for h in report["helplines"]:
        contact = f" — {_e(h.get('contact'))}" if h.get("contact") else ""
        country = f" ({_e(h.get('country'))})" if h.get("country") else ""
        parts.append(f"<li><strong>{_e(h['name'])}</strong>{country}{contact}</li>")
    parts.append("</ul>")
    if report["findings"]:
        parts.append("<h2>What was found</h2>")
        parts.extend(_finding(n, f) for n, f in enumerate(report["findings"], 1))
    if report.get("mvt_notices"):
        parts.append(
            "<h2>Other things MVT noticed</h2><p>These are not matches with spyware indicators, but a "
            "specialist may want to look at them.</p><table><tr><th>Level</th><th>Where</th>"
            "<th>What</th></tr>"
        )
        for n in report["mvt_notices"]:
            parts.append(f"<tr><td>{_e(n['level'])}</td><td>{_e(n['module'])}</td><td>{_e(n['message'])}</td></tr>")
        parts.append("</table>")
    ind = report["indicators"]
    parts += [
        "<h2>About this check</h2>",
        f"<p>{_e(report['device']['artefacts'])} artefacts from {_e(report['device']['records'])} records were "
        f"checked against {_e(ind['known'])} spyware indicators from {_e(ind['source'])}.</p>",
        f"<p>{_e(report['privacy'])}</p>",
    ]
    if report.get("shared"):
        parts.append(f"<p>Shared: {_e(report['shared'].get('summary', ''))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
