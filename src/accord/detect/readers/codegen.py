"""Compile a mapping's record kind into one straight-line Python function (the fast path of parse()).

:func:`compile_record` writes the source of ``build(rec) -> objects`` for one record kind — a local
variable per object, the field look-ups, conversions and refs of the declaration unrolled — and
executes it once. Its results equal those of the interpreter
:func:`accord.detect.readers.mapping.build_objects` (the reference: the tests compare both on every
sample line); it is only faster (no per-property dispatch at run time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEYS = tuple(str(i) for i in range(256))


def compile_record(r: Any) -> Callable[[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The compiled builder of a ``mapping._Record``."""
    from accord.detect.readers import mapping as m

    ns: dict[str, Any] = {
        "_walk": m._walk,
        "_post": m._post,
        "_copy": m._copy,
        "_template": m._template,
        "_get": m.get,
        "_missing": m._missing,
        "MalformedLine": m.MalformedLine,
        "KEYS": KEYS,
    }
    consts = 0

    def const(value: Any) -> str:
        nonlocal consts
        name = f"C{consts}"
        consts += 1
        ns[name] = value
        return name

    lines: list[str] = ["def build(rec):"]

    def emit(indent: int, text: str) -> None:
        lines.append("    " * indent + text)

    objs = list(r.objects)
    index = {o.id: i for i, o in enumerate(objs)}

    def emit_value(ind: int, p: Any) -> None:
        """Code that leaves the property's raw value in ``v`` (None if absent)."""
        if p.kind == m.K_FIELD:
            for n, g in enumerate(p.arg):
                pad = ind + (1 if n else 0)
                if n:
                    emit(ind, 'if v is None or v == "":')
                emit(pad, f"v = rec.get({g[0]!r})")
                if g[1] is not None:
                    emit(pad, f"if v is None: v = _walk(rec, {const(g[1])})")
        elif p.kind == m.K_CONST:
            c = const(p.arg)
            if isinstance(p.arg, list) and not any(isinstance(x, list | dict) for x in p.arg):
                emit(ind, f"v = [*{c}]")
            elif isinstance(p.arg, list | dict):
                emit(ind, f"v = _copy({c})")
            else:
                emit(ind, f"v = {c}")
        elif p.kind == m.K_ITEM:
            if p.arg is None:
                emit(ind, "v = item")
            else:
                emit(ind, f"v = item.get({p.arg!r}) if isinstance(item, dict) else None")
        elif p.kind == m.K_TEMPLATE:
            emit(ind, f"v = _template(rec, {const(p.arg)})")
        elif p.kind == m.K_LIST:
            emit(ind, f'v = [x for x in (_get(rec, g) for g in {const(p.arg)}) if x is not None and x != ""] or None')
        else:  # pragma: no cover - refs are handled apart
            raise AssertionError(p.kind)

    def emit_set(ind: int, var: str, path: tuple[str, ...], value: str) -> None:
        target = var
        for k in path[:-1]:
            target = f"{target}.setdefault({k!r}, {{}})"
        emit(ind, f"{target}[{path[-1]!r}] = {value}")

    def emit_object(ind: int, i: int, o: Any, var: str, data: str) -> None:
        """Build object ``o`` into ``var`` (None if a required property is missing), data flag in ``data``.

        Nested properties go into one local dict per prefix (``extensions``, ``extensions.http-request-ext``
        …), attached bottom-up at the end when not empty: no empty dicts, no setdefault chains."""
        emit(ind, f"{var} = {{'type': {o.type!r}}}")
        emit(ind, f"{data} = False")
        prefixes: dict[tuple[str, ...], str] = {}
        for p in o.props:
            if p.kind not in (m.K_REF, m.K_REFS):
                for n in range(1, len(p.path)):
                    prefixes.setdefault(p.path[:n], f"_n{len(prefixes)}")
        for name in prefixes.values():
            emit(ind, f"{name} = {{}}")

        def holder(path: tuple[str, ...]) -> str:
            return prefixes[path[:-1]] if len(path) > 1 else var

        for p in o.props:
            if p.kind in (m.K_REF, m.K_REFS):
                continue
            emit_value(ind, p)
            emit(ind, 'if v is not None and v != "":')
            inner = ind + 1
            if p.post is not None:
                emit(inner, "try:")
                for n, f in enumerate(p.post):
                    if n:
                        emit(inner + 1, "if v is not None:")
                    pad = inner + 1 + (1 if n else 0)
                    if f is m._to_int:  # the common case costs one type check
                        emit(pad, f"if v.__class__ is not int: v = {const(f)}(v)")
                    elif f is m._to_str:
                        emit(pad, f"if v.__class__ is not str: v = {const(f)}(v)")
                    else:
                        emit(pad, f"v = {const(f)}(v)")
                emit(inner, "except (ValueError, TypeError, OverflowError) as e:")
                emit(inner + 1, f"raise MalformedLine({'property ' + '.'.join(p.path) + ': '!r} + str(e)) from None")
                emit(inner, 'if v is not None and v != "" and v != []:')
                inner += 1
            emit(inner, f"{holder(p.path)}[{p.path[-1]!r}] = v")
            if p.kind != m.K_CONST:
                emit(inner, f"{data} = True")
        for path in sorted(prefixes, key=len, reverse=True):
            emit(ind, f"if {prefixes[path]}: {holder(path)}[{path[-1]!r}] = {prefixes[path]}")
        if o.require is not None:
            checks = []
            for req in o.require:
                checks.append(f"{req[0]!r} not in {var}" if len(req) == 1 else f"_missing({var}, {const(req)})")
            emit(ind, f"if {' or '.join(checks)}: {var} = None")
        if o.ipauto:
            emit(ind, f"if {var} is not None:")
            emit(ind + 1, f"_v = {var}.get('value')")
            emit(ind + 1, f"{var}['type'] = 'ipv6-addr' if isinstance(_v, str) and ':' in _v else 'ipv4-addr'")

    # 1. candidates
    for i, o in enumerate(objs):
        if o.each is None:
            emit_object(1, i, o, f"o{i}", f"d{i}")
        else:
            emit(1, f"l{i} = []")
            emit(1, f"s = rec.get({o.each[0]!r})")
            if o.each[1] is not None:
                emit(1, f"if s is None: s = _walk(rec, {const(o.each[1])})")
            emit(1, 'if s is not None and s != "":')
            emit(2, "if not isinstance(s, list):")
            if o.each_split is not None:
                emit(3, f"s = s.split({o.each_split!r}) if isinstance(s, str) else (s,)")
            else:
                emit(3, "s = (s,)")
            emit(2, "for item in s:")
            emit_object(3, i, o, "o", "d")
            emit(3, f"if o is not None: l{i}.append((o, d))")

    def present(t: int) -> str:
        if objs[t].each is None:
            return f"(o{t} is not None and d{t})"
        return f"any(_d for _o, _d in l{t})"

    def keep_rule(i: int, o: Any, var: str, data: str) -> str:
        targets = sorted({index[t] for p in o.refs for t in ((p.arg,) if p.kind == m.K_REF else p.arg)})
        if not targets:
            return data
        return f"({data} or " + " or ".join(present(t) for t in targets) + ")"

    # 2. keys, in declaration order
    emit(1, "out = {}")
    emit(1, "n = 0")
    for i, o in enumerate(objs):
        if o.each is None:
            emit(1, f"if o{i} is not None and {keep_rule(i, o, f'o{i}', f'd{i}')}:")
            emit(2, "k = KEYS[n] if n < 256 else str(n)")
            emit(2, f"out[k] = o{i}")
            emit(2, f"k{i} = k")
            emit(2, "n += 1")
            emit(1, "else:")
            emit(2, f"k{i} = None")
            emit(2, f"o{i} = None")
        else:
            emit(1, f"ks{i} = []")
            emit(1, f"kept{i} = []")
            emit(1, f"for o, d in l{i}:")
            emit(2, f"if {keep_rule(i, o, 'o', 'd')}:")
            emit(3, "k = KEYS[n] if n < 256 else str(n)")
            emit(3, "out[k] = o")
            emit(3, f"ks{i}.append(k)")
            emit(3, f"kept{i}.append(o)")
            emit(3, "n += 1")

    # 3. refs
    def keys_expr(t: int) -> tuple[str, str]:
        """(first key or None, list of keys) expressions of object t."""
        if objs[t].each is None:
            return f"k{t}", f"([k{t}] if k{t} is not None else [])"
        return f"(ks{t}[0] if ks{t} else None)", f"ks{t}"

    for i, o in enumerate(objs):
        if not o.refs:
            continue
        if o.each is None:
            emit(1, f"if o{i} is not None:")
            var, ind = f"o{i}", 2
        else:
            emit(1, f"for o in kept{i}:")
            var, ind = "o", 2
        for p in o.refs:
            if p.kind == m.K_REF:
                first, _ = keys_expr(index[p.arg])
                emit(ind, f"r = {first}")
                emit(ind, "if r is not None:")
            else:
                parts = [keys_expr(index[t])[1] for t in p.arg]
                emit(ind, f"r = {' + '.join(parts)}")
                emit(ind, "if r:")
            emit_set(ind + 1, var, p.path, "r")
    emit(1, "return out")
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<accord mapping record {r.name!r}>", "exec")
    exec(code, ns)  # noqa: S102 - our own generated code, from a validated mapping
    build = ns["build"]
    build.source = source  # for debugging: print(record.build.source)
    return build


def compile_tsv_decoder(
    plan: tuple[tuple[str, int, str], ...], unset: str, empty: str, set_separator: str
) -> Callable[[list[str]], dict[str, Any]]:
    """``decode(parts) -> record`` for a Zeek TSV log: the fields in ``plan`` ((name, column, conversion)
    with conversion str | int | float | bool | list:TYPE), unset / empty / "" left out, ``\\xHH`` undone.
    Raises ValueError on a bad value (the caller finds and names the field)."""
    from accord.detect.readers.zeek import _FLOAT_TYPES, _INT_TYPES, _unescape

    ns: dict[str, Any] = {"_unescape": _unescape, "U": unset, "E": empty, "S": set_separator}
    lines = ["def decode(parts):", "    rec = {}"]
    for name, i, conv in plan:
        lines.append(f"    v = parts[{i}]")
        lines.append('    if v != U and v != E and v != "":')
        lines.append('        if "\\\\" in v: v = _unescape(v)')
        if conv == "str":
            value = "v"
        elif conv == "int":
            value = "int(v)"
        elif conv == "float":
            value = "float(v)"
        elif conv == "bool":
            value = '(True if v == "T" else False if v == "F" else _bad_bool(v))'
        else:
            inner = conv[5:]
            if inner in _INT_TYPES:
                value = "[int(x) for x in v.split(S)]"
            elif inner in _FLOAT_TYPES or inner == "time":
                value = "[float(x) for x in v.split(S)]"
            else:
                value = "v.split(S)"
        lines.append(f"        rec[{name!r}] = {value}")
    lines.append("    return rec")
    ns["_bad_bool"] = _bad_bool
    exec(compile("\n".join(lines) + "\n", "<accord zeek tsv decoder>", "exec"), ns)  # noqa: S102
    return ns["decode"]


def _bad_bool(v: str) -> bool:
    raise ValueError(f"not T or F: {v!r}")
