"""Fast STIX 2.1 object validation for the ingest hot path, deciding exactly as ``stix2.parse`` does.

``check_object(obj)`` returns None when ``stix2.parse(obj, allow_custom=True)`` (stix2 3.0.2) accepts
the object and a one-line reason naming the offending property when it rejects it — at tens of
thousands of objects per second instead of about a thousand.

How: for the types that dominate real feeds (see ``FAST_TYPES``) a hand-written path checks every
property the way stix2's property classes do (read from the type's stix2 property table, so the set
of properties, which are required, which reference types are allowed, stays stix2's), then the
object-level rules of that type (``_check_object_constraints`` in stix2: first/last seen order,
``valid_until`` after ``valid_from``, the STIX pattern of ``stix`` indicators, location co-constraints,
malware families need a name, TLP marking definitions …). The path accepts only when it is certain:
a value of an unusual shape is handed to stix2's own property ``clean()`` for that one property, and
an object with anything the path does not model (granular markings, registered SCO extensions,
embedded ``objects`` in observed-data, a SCO without ``id``, reserved keyword names …) and every
other type go to ``stix2.parse`` itself, whose exception becomes the one-line reason.

What stix2 3.0.2 does NOT check, and so neither does ``check_object`` by default: ``modified >=
created``, the 0–100 range of ``confidence``, closed vocabularies other than its ``EnumProperty``
ones (none on the SDO/SRO types here), and the presence of ``id``/``created``/``modified`` (it fills
defaults in). ``check_object(obj, strict=True)`` adds those spec rules on top. Two more stix2 traits
it reproduces: an unknown (custom) type is accepted without any check, and an indicator with a
``valid_until`` but no ``valid_from`` is compared against the current time (stix2's default).

Scope: STIX 2.1 objects, i.e. ``spec_version == "2.1"`` or a SCO with an ``id`` and no
``spec_version``. Anything else (no ``spec_version`` on an SDO/SRO: STIX 2.0, upgrade it first with
``accord.stix.upgrade``; another ``spec_version``; a ``type`` that is not a string; not a JSON
object) is rejected with a reason, where stix2 would parse it as 2.0 or pass it through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import stix2
from stix2 import hashes as stix2_hashes
from stix2 import v21
from stix2.properties import (
    BooleanProperty,
    ExtensionsProperty,
    HashesProperty,
    IDProperty,
    IntegerProperty,
    ListProperty,
    ObservableProperty,
    OpenVocabProperty,
    PatternProperty,
    ReferenceProperty,
    StringProperty,
    TimestampProperty,
    TypeProperty,
    _validate_id,
)
from stix2.utils import STIXTypeClass, is_stix_type

from accord.stix.patterns import check_pattern

__all__ = ["FAST_TYPES", "check_object", "reference_check_object"]

_SDO_TYPES = (
    "indicator", "malware", "identity", "intrusion-set", "threat-actor", "campaign", "tool",
    "attack-pattern", "report", "observed-data", "vulnerability", "location", "note",
    "infrastructure",
)
_SRO_TYPES = ("relationship", "sighting")
_SCO_TYPES = ("domain-name", "ipv4-addr", "ipv6-addr", "url", "file", "email-addr")
#: Types with a hand-written path; every other type is checked by ``stix2.parse`` itself.
FAST_TYPES: frozenset[str] = frozenset((*_SDO_TYPES, *_SRO_TYPES, "marking-definition", *_SCO_TYPES))

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")
# Keys that cannot reach stix2's object constructors as ordinary properties (keyword collisions,
# stix2's "custom_properties" loophole, its private "_valid_refs"): stix2.parse decides those.
_RESERVED_KEYS = frozenset(("self", "allow_custom", "interoperability", "custom_properties", "_valid_refs"))
_EXT_DEF_PREFIX = "extension-definition--"
_REGISTERED_EXTENSIONS = stix2.registry.STIX2_OBJ_MAPS["2.1"]["extensions"]  # live: custom ones too
_SCO_REGISTRY = v21.OBJ_MAP_OBSERVABLE
_HASH_ALGORITHMS = {
    "MD5": stix2_hashes.Hash.MD5,
    "SHA-1": stix2_hashes.Hash.SHA1,
    "SHA-256": stix2_hashes.Hash.SHA256,
    "SHA-512": stix2_hashes.Hash.SHA512,
    "SHA3-256": stix2_hashes.Hash.SHA3256,
    "SHA3-512": stix2_hashes.Hash.SHA3512,
    "SSDEEP": stix2_hashes.Hash.SSDEEP,
    "TLSH": stix2_hashes.Hash.TLSH,
}
_TLP_1 = {  # stix2.markings.utils.check_tlp_marking: the only TLP definitions it accepts
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_TLP_1_CREATED = datetime(2017, 1, 20)
_ABSENT = object()


class _Invalid(Exception):
    """The object is invalid; ``reason`` says why (without the object id)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Fallback(Exception):
    """The fast path does not model this object: let stix2.parse decide."""


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _delegate(prop, value):
    """stix2's own check of one property value (exact, slower): cleaned value or _Invalid."""
    try:
        return prop.clean(value, True)[0]
    except Exception as exc:
        raise _Invalid(_one_line(exc) or type(exc).__name__) from None


# --------------------------------------------------------------------------- property checkers
# Each takes the raw JSON value and returns the cleaned value (what the object-level rules compare)
# or raises _Invalid/_Fallback. A value of the expected everyday shape is checked inline; any other
# shape goes to stix2's clean() of that property, so the decision stays stix2's.


def _timestamp_checker(prop) -> Callable:
    match = _TIMESTAMP.fullmatch
    from_iso = datetime.fromisoformat

    def check(value):
        # The canonical form (what strptime("%Y-%m-%dT%H:%M:%S[.%f]Z") in stix2 reads, restricted
        # to two-digit fields), converted in C; a date out of range falls through to stix2.
        if type(value) is str and match(value) is not None:
            try:
                return from_iso(value[:-1])
            except ValueError:
                pass
        dt = _delegate(prop, value)
        return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond)

    return check


def _uuid_ok(uuid_part: str) -> bool:
    return _UUID.fullmatch(uuid_part) is not None


def _id_checker(prop) -> Callable:
    prefix = prop.required_prefix
    cut = len(prefix)

    def check(value):
        if type(value) is str and value.startswith(prefix) and _uuid_ok(value[cut:]):
            return value
        return _delegate(prop, value)

    return check


def _reference_type_rule(prop) -> Callable[[str], bool]:
    """Which referenced types ReferenceProperty.clean(allow_custom=True) accepts, as a predicate."""
    whitelist = prop.auth_type == prop._WHITELIST
    generics, specifics = set(prop.generics), set(prop.specifics)
    exceptions: set = set()
    if whitelist and generics:
        # stix2 flips a whitelist of type classes into a blacklist of the other classes when
        # custom content is allowed (an unregistered type may belong to the allowed class).
        whitelist = False
        generics = set(STIXTypeClass) - generics
        exceptions, specifics = specifics, set()
    generics_t = tuple(generics)
    if whitelist:
        if not generics_t:
            return specifics.__contains__
        return lambda t: is_stix_type(t, "2.1", *generics_t) or t in specifics
    if not generics_t:
        return lambda t: t not in specifics or t in exceptions
    return lambda t: (not is_stix_type(t, "2.1", *generics_t) and t not in specifics) or t in exceptions


def _reference_checker(prop) -> Callable:
    type_ok = _reference_type_rule(prop)

    def check(value):
        if type(value) is str:
            cut = value.find("--")
            if cut > 0 and _uuid_ok(value[cut + 2:]) and type_ok(value[:cut]):
                return value
        return _delegate(prop, value)

    return check


def _boolean_checker(prop) -> Callable:
    def check(value):
        if value is True or value is False:
            return value
        return _delegate(prop, value)

    return check


def _integer_checker(prop) -> Callable:
    low, high = prop.min, prop.max

    def check(value):
        if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
            return value
        return _delegate(prop, value)

    return check


def _hashes_ok(value) -> bool:
    """True if ``value`` is a hashes dict in canonical form whose values pass stix2's hash checks."""
    if type(value) is not dict or not value:
        return False
    for name, digest in value.items():
        algorithm = _HASH_ALGORITHMS.get(name)
        if algorithm is None or type(digest) is not str or not stix2_hashes.check_hash(algorithm, digest):
            return False
    return True


def _hashes_checker(prop) -> Callable:
    def check(value):
        if _hashes_ok(value):
            return value
        return _delegate(prop, value)

    return check


def _custom_name_ok(name) -> bool:
    # stix2 (allow_custom=True) accepts custom properties whose name begins with a-z.
    return type(name) is str and "a" <= name[:1] <= "z"


_EXTERNAL_REFERENCE_PROPS = frozenset(("source_name", "description", "url", "external_id", "hashes"))
_KILL_CHAIN_PHASE_PROPS = frozenset(("kill_chain_name", "phase_name"))


def _absent(value) -> bool:
    # stix2 drops properties whose value is None or [] before checking anything.
    return value is None or value == []


def _external_reference_ok(item) -> bool:
    """True if ``item`` is certainly a valid external reference (else stix2 decides)."""
    if type(item) is not dict or "extensions" in item:
        return False
    has_source = has_locator = False
    for name, value in item.items():
        if name in _EXTERNAL_REFERENCE_PROPS:
            if _absent(value):
                continue
            if name == "source_name":
                has_source = True
            elif name == "hashes":
                if not _hashes_ok(value):
                    return False
            else:
                has_locator = True
        elif name in _RESERVED_KEYS or not _custom_name_ok(name):
            return False
    return has_source and has_locator


def _kill_chain_phase_ok(item) -> bool:
    if type(item) is not dict or "extensions" in item:
        return False
    found = 0
    for name, value in item.items():
        if name in _KILL_CHAIN_PHASE_PROPS:
            if _absent(value):
                return False
            found += 1
        elif name in _RESERVED_KEYS or not _custom_name_ok(name):
            return False
    return found == 2


def _list_checker(prop) -> Callable:
    contained = prop.contained

    if type(contained) in (StringProperty, OpenVocabProperty):
        def check_strings(value):
            if type(value) is list:
                return value  # str() of anything is a string
            return _delegate(prop, value)

        return check_strings

    if type(contained) is ReferenceProperty:
        item_check = _reference_checker(contained)

        def check_refs(value):
            if type(value) is list:
                for item in value:
                    item_check(item)
                return value
            return _delegate(prop, value)

        return check_refs

    if contained is v21.ExternalReference or contained is v21.KillChainPhase:
        item_ok = _external_reference_ok if contained is v21.ExternalReference else _kill_chain_phase_ok

        def check_embedded(value):
            if type(value) is list:
                for item in value:
                    if not item_ok(item):
                        return _delegate(prop, value)
                return value
            return _delegate(prop, value)

        return check_embedded

    if contained is v21.GranularMarking:
        def granular(value):
            raise _Fallback  # selectors are checked against the whole object: leave it to stix2

        return granular

    return lambda value: _delegate(prop, value)


def _extensions_checker(prop) -> Callable:
    def check(value):
        if type(value) is not dict:
            raise _Fallback
        for key in value:
            if key.startswith(_EXT_DEF_PREFIX) and not _uuid_ok(key[len(_EXT_DEF_PREFIX):]):
                try:
                    _validate_id(key, "2.1", _EXT_DEF_PREFIX)
                except ValueError as exc:
                    raise _Invalid(f"key {_one_line(exc)}") from None
        return value

    return check


def _fixed_checker(prop) -> Callable:
    fixed = prop._fixed_value

    def check(value):
        if value != fixed:
            raise _Invalid(f"must equal '{fixed}'")
        return value

    return check


def _fallback_checker(value):
    raise _Fallback


def _checker_for(prop) -> Callable | None:
    """The checker of one stix2 property; None means "any value is accepted"."""
    kind = type(prop)
    if hasattr(prop, "_fixed_value"):
        return _fixed_checker(prop)
    if kind in (StringProperty, PatternProperty, OpenVocabProperty):
        return None
    if kind is TimestampProperty:
        return _timestamp_checker(prop)
    if kind is IDProperty:
        return _id_checker(prop)
    if kind is ReferenceProperty:
        return _reference_checker(prop)
    if kind is ListProperty:
        return _list_checker(prop)
    if kind is BooleanProperty:
        return _boolean_checker(prop)
    if kind is IntegerProperty:
        return _integer_checker(prop)
    if kind is HashesProperty:
        return _hashes_checker(prop)
    if kind is ExtensionsProperty:
        return _extensions_checker(prop)
    if kind is v21.common.MarkingProperty:
        return None  # built from definition_type + definition by _marking_definition_prepare
    if kind is ObservableProperty:
        return _fallback_checker
    return lambda value: _delegate(prop, value)


# --------------------------------------------------------------------------- object-level rules


def _order(values: dict, first: str, last: str, strictly: bool = False) -> None:
    a, b = values.get(first), values.get(last)
    if a is not None and b is not None and (b <= a if strictly else b < a):
        later = "later than" if strictly else "later than or equal to"
        raise _Invalid(f"property '{last}' must be {later} '{first}'")


def _seen(values: dict, obj: dict) -> None:
    _order(values, "first_seen", "last_seen")


def _indicator(values: dict, obj: dict) -> None:
    if "valid_until" in values and "valid_from" not in values:
        # stix2 defaults valid_from to the current time before comparing.
        values = {**values, "valid_from": datetime.now(UTC).replace(tzinfo=None)}
    _order(values, "valid_from", "valid_until", strictly=True)
    if str(values["pattern_type"]) != "stix":
        return
    # Indicator.__init__ defaults pattern_version to 2.1 from the raw values; the pattern is then
    # validated with the grammar of that version ("2.1", anything else means 2.0).
    raw_version = obj.get("pattern_version")
    if obj.get("pattern") and obj.get("pattern_type") == "stix" and not raw_version:
        version = "2.1"
    else:
        version = str(values["pattern_version"]) if "pattern_version" in values else None
    reason = check_pattern(str(values["pattern"]), version)
    if reason is not None:
        raise _Invalid(f"property 'pattern': {reason}")


def _relationship(values: dict, obj: dict) -> None:
    _order(values, "start_time", "stop_time", strictly=True)


def _observed_data(values: dict, obj: dict) -> None:
    _order(values, "first_observed", "last_observed")
    if "object_refs" not in values:  # 'objects' (deprecated) is left to stix2
        raise _Invalid("must have exactly one of the properties 'objects' and 'object_refs'")


def _location(values: dict, obj: dict) -> None:
    has_lat, has_lon = "latitude" in values, "longitude" in values
    if "precision" in values and not (has_lat and has_lon):
        raise _Invalid("property 'precision' requires 'latitude' and 'longitude'")
    if has_lat != has_lon:
        raise _Invalid("properties 'latitude' and 'longitude' must be given together")
    if not ("region" in values or "country" in values or has_lat):
        raise _Invalid("must have 'region', 'country', or 'latitude' and 'longitude'")


def _malware(values: dict, obj: dict) -> None:
    _order(values, "first_seen", "last_seen")
    if values["is_family"] and "name" not in values:
        raise _Invalid("property 'name' is required for malware families (is_family true)")


def _file(values: dict, obj: dict) -> None:
    if "hashes" not in values and "name" not in values:
        raise _Invalid("must have at least one of the properties 'hashes' and 'name'")


def _marking_definition(values: dict, obj: dict) -> None:
    definition_type = str(values["definition_type"]) if "definition_type" in values else None
    definition = values.get("definition")
    if not (definition_type and definition) and not values.get("extensions"):
        raise _Invalid("must have 'definition_type' and 'definition' when 'extensions' is absent")
    if definition_type == "tlp":
        if definition is None:
            raise _Invalid("a 'tlp' marking definition needs 'definition'")
        color = definition[1]
        if color not in _TLP_1:
            raise _Invalid(f"property 'definition': unknown TLP level {color!r}")
        if values.get("id") != _TLP_1[color] or values.get("created") != _TLP_1_CREATED:
            raise _Invalid(
                f"TLP:{color.upper()} must be the predefined marking {_TLP_1[color]} "
                "created 2017-01-20T00:00:00.000Z"
            )


def _marking_definition_prepare(obj: dict) -> tuple | None:
    """MarkingDefinition.__init__: builds the marking from definition_type + definition."""
    if "definition_type" in obj and "definition" in obj:
        kind, body = obj["definition_type"], obj["definition"]
        if (
            (kind == "tlp" or kind == "statement")
            and type(body) is dict
            and len(body) == 1
            and type(body.get(kind)) is str
            and body[kind]  # StatementMarking drops a false statement
        ):
            return (kind, body[kind])
        raise _Fallback
    if not _absent(obj.get("definition", None)):
        raise _Invalid("property 'definition' requires 'definition_type'")
    return None


_NO_RULES: Callable[[dict, dict], None] = lambda values, obj: None  # noqa: E731

_RULES: dict[str, Callable[[dict, dict], None]] = {
    "campaign": _seen,
    "infrastructure": _seen,
    "intrusion-set": _seen,
    "threat-actor": _seen,
    "sighting": _seen,
    "malware": _malware,
    "indicator": _indicator,
    "relationship": _relationship,
    "observed-data": _observed_data,
    "location": _location,
    "file": _file,
    "marking-definition": _marking_definition,
}


# Relationship.__init__ and Sighting.__init__ take these as named parameters and pass them on only
# when truthy: a falsy value (0, "", {}, False) ends up missing.
_TRUTHY_REQUIRED: dict[str, tuple[str, ...]] = {
    "relationship": ("source_ref", "relationship_type", "target_ref"),
    "sighting": ("sighting_of_ref",),
}


class _Plan:
    __slots__ = ("checkers", "required", "rules", "is_sco", "truthy")

    def __init__(self, stix_class) -> None:
        self.checkers: dict[str, Callable | None] = {}
        for name, prop in stix_class._properties.items():
            if type(prop) is TypeProperty:
                continue  # the type selected this plan
            self.checkers[name] = _checker_for(prop)
        self.required = tuple(n for n, p in stix_class._properties.items() if p.required)
        self.rules = _RULES.get(stix_class._type, _NO_RULES)
        self.is_sco = stix_class._type in _SCO_REGISTRY
        self.truthy = _TRUTHY_REQUIRED.get(stix_class._type, ())


_PLANS: dict[str, _Plan] = {
    t: _Plan(stix2.registry.class_for_type(t, "2.1")) for t in sorted(FAST_TYPES)
}


def _check_fast(obj: dict, plan: _Plan, obj_type: str) -> None:
    """The hand-written path; raises _Invalid, _Fallback, or returns when the object is valid."""
    if plan.is_sco and "id" not in obj:
        raise _Fallback  # stix2 derives a deterministic id from the object's properties
    marking = _marking_definition_prepare(obj) if obj_type == "marking-definition" else None

    # stix2 does not call extra properties "custom" (and does not check their names) when an
    # unregistered toplevel-property-extension is present.
    toplevel_extension = False
    extensions = obj.get("extensions")
    if extensions:
        if type(extensions) is not dict:
            raise _Fallback
        for key, extension in extensions.items():
            if type(extension) is not dict or key in _REGISTERED_EXTENSIONS:
                raise _Fallback
            if extension.get("extension_type") == "toplevel-property-extension":
                toplevel_extension = True

    checkers = plan.checkers
    values: dict = {}
    for name, value in obj.items():
        checker = checkers.get(name, _ABSENT)
        if checker is _ABSENT:
            if name in _RESERVED_KEYS or type(name) is not str:
                raise _Fallback
            if not toplevel_extension and not ("a" <= name[:1] <= "z"):
                raise _Invalid(f"custom property name {name!r} must begin with a lowercase letter a-z")
            continue
        if value is None or value == []:
            continue  # as stix2 does: None and [] count as absent
        if checker is None:
            values[name] = value
            continue
        try:
            values[name] = checker(value)
        except _Invalid as exc:
            raise _Invalid(f"property '{name}': {exc.reason}") from None
    if marking is not None:
        values["definition"] = marking
    for name in plan.required:
        if name not in values:
            raise _Invalid(f"missing required property '{name}'")
    for name in plan.truthy:
        if not obj[name]:
            raise _Invalid(f"missing required property '{name}' (a false value counts as missing)")
    plan.rules(values, obj)


def reference_check_object(obj: dict) -> str | None:
    """The reference decision: ``stix2.parse(obj, allow_custom=True)``, as None or a one-line reason."""
    # (stix2 warns STIXDeprecationWarning for observed-data 'objects'; ignored by default, and not
    # silenced here because warnings.catch_warnings is not thread-safe.)
    try:
        stix2.parse(obj, allow_custom=True)
    except Exception as exc:
        return _one_line(exc) or type(exc).__name__
    return None


_STRICT_TIMESTAMP = _timestamp_checker(TimestampProperty())


def _strict_reason(obj: dict, obj_type: str) -> str | None:
    """Spec rules stix2 3.0.2 leaves out (see the module docstring)."""
    if not isinstance(obj.get("id"), str):
        return "missing required property 'id'"
    if obj_type in _SCO_REGISTRY:
        return None
    needed = ("created",) if obj_type == "marking-definition" else ("created", "modified")
    stamps = {}
    for name in needed:
        try:
            stamps[name] = _STRICT_TIMESTAMP(obj[name])
        except (KeyError, _Invalid):
            return f"property '{name}' is required and must be a STIX timestamp"
    if len(stamps) == 2 and stamps["modified"] < stamps["created"]:
        return "property 'modified' must be later than or equal to 'created'"
    confidence = obj.get("confidence")
    if confidence is not None and (type(confidence) is not int or not 0 <= confidence <= 100):
        return "property 'confidence' must be an integer from 0 to 100"
    return None


def _label(obj: dict, obj_type: str) -> str:
    oid = obj.get("id")
    return _one_line(oid if isinstance(oid, str) and oid else obj_type, 120)


def check_object(obj: dict, *, strict: bool = False) -> str | None:
    """None if ``obj`` is a valid STIX 2.1 object, else a one-line reason naming what is wrong.

    Decides as ``stix2.parse(obj, allow_custom=True)`` does for every STIX 2.1 object (see the
    module docstring for the scope). ``strict=True`` also enforces spec rules stix2 skips: ``id``
    (and ``created``/``modified`` on SDOs/SROs) present, ``modified >= created``, ``confidence``
    in 0–100.
    """
    if type(obj) is not dict:
        return f"not a STIX object: expected a JSON object, got {type(obj).__name__}"
    obj_type = obj.get("type")
    if type(obj_type) is not str:
        return "missing required property 'type'" if obj_type is None else "property 'type' must be a string"
    if "spec_version" in obj:
        if obj["spec_version"] != "2.1":
            got = _one_line(repr(obj["spec_version"]), 40)
            return f"{_label(obj, obj_type)}: property 'spec_version' must be '2.1', got {got}"
    elif "id" not in obj or obj_type not in _SCO_REGISTRY:
        return f"{_label(obj, obj_type)}: no 'spec_version': not a STIX 2.1 object (upgrade STIX 2.0 first)"

    plan = _PLANS.get(obj_type)
    reason: str | None = None
    if plan is not None:
        try:
            _check_fast(obj, plan, obj_type)
        except _Invalid as exc:
            reason = f"{_label(obj, obj_type)}: {exc.reason}"
        except _Fallback:
            plan = None
        except Exception:  # an input shape the fast path did not foresee: stix2 decides
            plan = None
    if plan is None:
        reason = reference_check_object(obj)
        if reason is not None:
            reason = f"{_label(obj, obj_type)}: {reason}"
    if reason is None and strict:
        strict_reason = _strict_reason(obj, obj_type)
        if strict_reason is not None:
            reason = f"{_label(obj, obj_type)}: {strict_reason}"
    return reason
