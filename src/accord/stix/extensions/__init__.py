"""The STIX extensions Accord declares: ``disruption-action`` (a new SDO) and incident attribution and
UN-norm assessments (a property extension), with their JSON schemas shipped as package data.

Pure functions only: ``definitions()`` gives the ``extension-definition`` objects (and the identity that
created them), ``schema()`` the JSON schema of each, ``check(obj)`` the reason an object breaks one of
them (None when it does not), and ``must_resolve(obj)`` the references that ingest must find in the
store, visible to the publisher (an action's targets, an incident response's action).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from accord.stix.timestamps import parse

__all__ = [
    "ACCORD_IDENTITY_ID",
    "ACTION_TYPES",
    "AMOUNT_FIELDS",
    "COUNT_FIELDS",
    "DISRUPTION_ACTION",
    "DISRUPTION_EXTENSION_ID",
    "INCIDENT_EXTENSION_ID",
    "INFRASTRUCTURE_ACTIONS",
    "check",
    "definitions",
    "extension_body",
    "must_resolve",
    "schema",
    "schema_names",
]

DISRUPTION_ACTION = "disruption-action"
ACCORD_IDENTITY_ID = "identity--2fa255c3-bde6-522d-bcec-5f7193c9c045"
DISRUPTION_EXTENSION_ID = "extension-definition--f65a82c2-fad3-5674-b94e-e7b9147244ca"
INCIDENT_EXTENSION_ID = "extension-definition--7ce5d972-0001-5520-b304-091b53bfc53d"
_CREATED = "2026-11-01T00:00:00.000Z"
_VERSION = "1.0.0"

#: Schema file (package data) of each extension definition.
_SCHEMA_FILES = {
    DISRUPTION_EXTENSION_ID: "disruption-action.schema.json",
    INCIDENT_EXTENSION_ID: "incident-attribution-norms.schema.json",
}
_NAMES = {DISRUPTION_EXTENSION_ID: "disruption-action", INCIDENT_EXTENSION_ID: "incident-attribution-norms"}

ACTION_TYPES: tuple[str, ...] = (
    "arrest", "indictment", "extradition", "conviction", "sanction", "reward", "takedown", "domain-seizure",
    "server-seizure", "asset-seizure", "sinkhole", "decryptor-release", "victim-notification", "advisory",
)  # fmt: skip
#: Action types that put infrastructure out of use: the indicators linked to it stop being valid.
INFRASTRUCTURE_ACTIONS: frozenset[str] = frozenset(("takedown", "domain-seizure", "server-seizure", "sinkhole"))
#: Outcome counts (non-negative integers) and amounts (lists of {amount, currency}).
COUNT_FIELDS: tuple[str, ...] = (
    "arrests", "warrants", "indictments", "convictions", "extraditions", "designations", "servers", "domains",
    "accounts", "decryption_keys", "victims_notified", "victims_identified", "networks_dismantled",
    "countries_involved",
)  # fmt: skip
AMOUNT_FIELDS: tuple[str, ...] = ("assets_seized", "rewards_offered", "losses_prevented")


def schema_names() -> dict[str, str]:
    """Extension-definition id → short name (the name the hub serves the schema under)."""
    return dict(_NAMES)


@cache
def _schema_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def schema(extension_id_or_name: str) -> dict[str, Any]:
    """The JSON schema of one extension, by extension-definition id or short name."""
    for ext_id, short in _NAMES.items():
        if extension_id_or_name in (ext_id, short):
            return json.loads(_schema_text(_SCHEMA_FILES[ext_id]))
    raise KeyError(extension_id_or_name)


@cache
def _validator(extension_id: str) -> Draft202012Validator:
    return Draft202012Validator(schema(extension_id))


def definitions() -> list[dict[str, Any]]:
    """The identity that declares Accord's extensions and the two extension-definition objects."""
    identity = {
        "type": "identity", "spec_version": "2.1", "id": ACCORD_IDENTITY_ID, "created": _CREATED,
        "modified": _CREATED, "name": "Accord project", "identity_class": "organization",
        "description": "Declares the STIX extensions used by Accord collective-defence hubs.",
    }  # fmt: skip
    common = {"type": "extension-definition", "spec_version": "2.1", "created_by_ref": ACCORD_IDENTITY_ID,
              "created": _CREATED, "modified": _CREATED, "version": _VERSION}  # fmt: skip
    served = "Served by every Accord hub at /api/v1/extensions/{name}/schema (JSON Schema 2020-12)"
    return [
        identity,
        {
            **common,
            "id": DISRUPTION_EXTENSION_ID,
            "name": "Disruption Action",
            "description": (
                "A coordinated action by public authorities and partners against a threat actor or its "
                "infrastructure: arrest, indictment, extradition, conviction, sanction, reward, takedown, domain, "
                "server or asset seizure, sinkhole, decryptor release, victim notification, advisory; with its "
                "operation and phase, lead and partner organisations and countries, regions, targets, legal "
                "basis, outcome counts and amounts (each with its currency)."
            ),
            "schema": served.format(name="disruption-action"),
            "extension_types": ["new-sdo"],
        },
        {
            **common,
            "id": INCIDENT_EXTENSION_ID,
            "name": "Incident attribution and UN norms",
            "description": (
                "Victims (sectors, countries), attributions (who attributes, to which state or actor, on what "
                "basis, with what confidence, when), responses (statements, sanctions, indictments as "
                "disruption-action refs) and assessments against the 11 UN GGE 2015 norms (A/70/174 para 13 "
                "a-k), on an incident or on a note about incidents."
            ),
            "schema": served.format(name="incident-attribution-norms"),
            "extension_types": ["property-extension"],
        },
    ]


def extension_body(obj: dict[str, Any], extension_id: str = INCIDENT_EXTENSION_ID) -> dict[str, Any] | None:
    """The object's body for one extension (a dict), or None."""
    exts = obj.get("extensions")
    body = exts.get(extension_id) if isinstance(exts, dict) else None
    return body if isinstance(body, dict) else None


# --------------------------------------------------------------------------- validation


def _path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _explain(error: ValidationError, where: str) -> str:
    """A message a person can act on, naming the property."""
    path = _path(error)
    at = f"{where}{'.' if where and path else ''}{path}" if (where or path) else "the object"
    kind, value = error.validator, error.instance
    if kind == "enum" and path.startswith("action_types"):
        return f"unknown action type {value!r} in 'action_types'; known types: {', '.join(ACTION_TYPES)}"
    if kind == "enum":
        return f"'{at}' is {value!r}; expected one of: {', '.join(map(str, error.validator_value))}"
    if kind == "minimum" and isinstance(value, int | float) and value < 0:
        return f"'{at}' is {value}; counts and amounts cannot be negative"
    if kind == "required":
        missing = [m for m in error.validator_value if isinstance(error.instance, dict) and m not in error.instance]
        if "currency" in missing:
            return f"'{at}' gives an amount without a currency; add 'currency' (ISO 4217 such as USD, or BTC, ETH)"
        return f"'{at}' lacks required property {', '.join(repr(m) for m in missing)}"
    if kind == "additionalProperties":
        extra = sorted(k for k in (value or {}) if k not in (error.schema.get("properties") or {}))
        return f"unknown property {', '.join(repr(k) for k in extra)} in '{at}' (custom properties start with 'x_')"
    if kind == "anyOf" and path.startswith("attributions"):
        return f"'{at}' must name the attributed 'state' (country code) or 'actor_ref'"
    if kind == "pattern":
        form = error.schema.get("description") or error.validator_value
        return f"'{at}' is {value!r}, which is not in the expected form ({form})"
    if kind == "minItems":
        return f"'{at}' must not be empty"
    return f"'{at}': {error.message}"


def _first_error(validator: Draft202012Validator, instance: Any, where: str = "") -> str | None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    if not errors:
        return None
    # The deepest error under the shallowest path says most (e.g. the one missing currency, not "anyOf").
    return _explain(errors[0], where)


def _check_dates(obj: dict[str, Any], first: str, last: str) -> str | None:
    a, b = obj.get(first), obj.get(last)
    if isinstance(a, str) and isinstance(b, str) and parse(b) < parse(a):
        return f"'{last}' ({b}) is before '{first}' ({a})"
    return None


def _check_disruption(obj: dict[str, Any]) -> str | None:
    reason = _first_error(_validator(DISRUPTION_EXTENSION_ID), obj)
    if reason:
        return reason
    body = extension_body(obj, DISRUPTION_EXTENSION_ID)
    if body is None or body.get("extension_type") != "new-sdo":
        return (f"a disruption-action must declare its extension: \"extensions\": {{\"{DISRUPTION_EXTENSION_ID}\": "
                "{\"extension_type\": \"new-sdo\"}}")  # fmt: skip
    return _check_dates(obj, "action_date", "end_date")


def _check_incident_extension(obj: dict[str, Any], body: dict[str, Any]) -> str | None:
    if obj.get("type") not in ("incident", "note"):
        return f"the incident attribution and norms extension applies to incidents and notes, not {obj.get('type')}"
    if obj.get("type") == "note":
        refs = obj.get("object_refs") or []
        if not any(isinstance(r, str) and r.startswith("incident--") for r in refs):
            return "a note carrying attributions or norm assessments must name an incident in 'object_refs'"
    return _first_error(_validator(INCIDENT_EXTENSION_ID), body, f"extensions.{INCIDENT_EXTENSION_ID}")


def check(obj: dict[str, Any]) -> str | None:
    """None if ``obj`` keeps the rules of Accord's extensions (or uses none of them); else why not."""
    typ = obj.get("type")
    if typ == DISRUPTION_ACTION:
        return _check_disruption(obj)
    exts = obj.get("extensions")
    if not isinstance(exts, dict):
        return None
    if DISRUPTION_EXTENSION_ID in exts:
        return f"the disruption-action extension defines a new object type; a {typ} cannot use it"
    if INCIDENT_EXTENSION_ID in exts:
        body = exts[INCIDENT_EXTENSION_ID]
        if not isinstance(body, dict):
            return f"extensions.{INCIDENT_EXTENSION_ID} must be a JSON object"
        return _check_incident_extension(obj, body)
    return None


def _refs(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if obj.get("type") == DISRUPTION_ACTION:
        for i, ref in enumerate(obj.get("target_refs") or ()):
            if isinstance(ref, str):
                yield f"target_refs[{i}]", ref
    body = extension_body(obj)
    if body is not None:
        for i, resp in enumerate(body.get("responses") or ()):
            if isinstance(resp, dict) and isinstance(resp.get("action_ref"), str):
                yield f"responses[{i}].action_ref", resp["action_ref"]


def must_resolve(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, id) for every reference that must name an object the publisher can see."""
    return list(_refs(obj))
