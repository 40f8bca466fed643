"""Parse a STIX pattern into the AST of ``accord.detect.ast``, with the reference validator's decisions.

``parse(pattern, stix_version)`` returns an ``ast.Pattern`` or raises ``PatternError`` exactly where
``stix2patterns.validator`` rejects the pattern (grammar errors, its inspections — hash values,
duplicate qualifiers — and inputs that make the validator itself fail), with the validator's first
message.

Two paths, one result:

- Fast path (STIX 2.1 only): the common one-comparison shapes (``[domain-name:value = '…']``,
  ``[file:hashes.'SHA-256' = '…']``) are recognised by one regular expression each; anything else
  is tokenised with the tokenizer of ``accord.stix.patterns`` and parsed by recursive descent into
  the AST. The fast path gives an answer only for input it parsed completely and whose inspections
  (the reference's own ``verify_object``) find nothing; any doubt goes to the second path.
- Reference path: the ANTLR lexer/parser of stix2-patterns (2.1 or 2.0 grammar) with the same
  listeners and inspections as ``stix2patterns.validator.run_validator``; the parse tree it builds
  is converted to the AST.

Both paths build the same AST for the same pattern (tests/detect/test_parse.py checks it):
chains of one operator at one nesting level become one n-ary node (``a AND b AND c`` →
``CompAnd((a, b, c))``, meaning the left-associative fold the grammar defines), parenthesised
groups stay nested, literals are decoded as stix2-matcher decodes them, and ``ObjectPath.text`` is
the path's tokens joined without whitespace (what ANTLR's ``getText`` gives).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from stix2patterns.inspector import INDEX_STAR, _PatternData
from stix2patterns.v21.object_validator import verify_object

from accord.detect import ast
from accord.detect.compare import str_to_datetime
from accord.errors import PatternError
from accord.stix.patterns import (
    _ORDERABLE,
    _PRIMITIVE,
    _RESERVED,
    _STRING_OPS,
    _one_line,
    _tokenize,
    _unquote,
    _Unsure,
)

__all__ = ["parse", "timestamp_literal"]

_OP_TEXT = {"EQ": "=", "NEQ": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


def timestamp_literal(inner: str) -> ast.Timestamp:
    """The AST value of ``t'inner'``. The grammar admits texts that name no instant (February 31,
    second 60); those get ``value=None`` and make matching raise, as stix2-matcher does."""
    try:
        value = str_to_datetime(inner)
    except ValueError:
        value = None
    return ast.Timestamp(value, inner)


def _literal(kind: str, text: str) -> ast.Literal:
    if kind == "STR":
        return _unquote(text)
    if kind == "INTPOS" or kind == "INTNEG":
        return int(text)
    if kind == "FLOATPOS" or kind == "FLOATNEG":
        return float(text)
    if kind == "BOOL":
        return text.lower() == "true"
    if kind == "HEX":
        return ast.Binary(binascii.a2b_hex(text[2:-1]))
    if kind == "BIN":
        return ast.Binary(base64.standard_b64decode(text[2:-1]))
    if kind == "TS":
        return timestamp_literal(text[2:-1])
    raise _Unsure


# ---------------------------------------------------------------------------------------------
# Fast path


class _AstParser:
    """Recursive descent over the STIX 2.1 pattern grammar building the AST; raises _Unsure on
    anything it does not handle (the caller then asks the ANTLR parser)."""

    __slots__ = ("kinds", "texts", "i", "comparisons", "hashes_seen")

    def __init__(self, kinds: list[str], texts: list[str]) -> None:
        self.kinds = kinds
        self.texts = texts
        self.i = 0
        self.comparisons: dict[str, list] = {}
        self.hashes_seen = False

    def expect(self, kind: str) -> str:
        if self.kinds[self.i] != kind:
            raise _Unsure
        text = self.texts[self.i]
        self.i += 1
        return text

    def pattern(self) -> ast.ObsExpr:
        node = self.observation_expressions()
        self.expect("EOF")
        return node

    def _chain(self, sub, keyword: str, cls: type) -> Any:
        first = sub()
        if self.kinds[self.i] != keyword:
            return first
        items = [first]
        while self.kinds[self.i] == keyword:
            self.i += 1
            items.append(sub())
        return cls(tuple(items))

    def observation_expressions(self) -> ast.ObsExpr:
        return self._chain(self.observation_or, "FOLLOWEDBY", ast.FollowedBy)

    def observation_or(self) -> ast.ObsExpr:
        return self._chain(self.observation_and, "OR", ast.ObsOr)

    def observation_and(self) -> ast.ObsExpr:
        return self._chain(self.observation_expression, "AND", ast.ObsAnd)

    def observation_expression(self) -> ast.ObsExpr:
        kind = self.kinds[self.i]
        node: ast.ObsExpr
        if kind == "[":
            self.i += 1
            node = ast.Observation(self.comparison_expression())
            self.expect("]")
            simple = True
        elif kind == "(":
            self.i += 1
            node = self.observation_expressions()
            self.expect(")")
            simple = False
        else:
            raise _Unsure
        seen: set[str] = set()
        kinds, texts = self.kinds, self.texts
        while True:
            kind = kinds[self.i]
            if kind == "START":
                self.i += 1
                start = self.expect("TS")
                self.expect("STOP")
                stop = self.expect("TS")
                node = ast.StartStop(node, timestamp_literal(start[2:-1]), timestamp_literal(stop[2:-1]))
            elif kind == "WITHIN":
                self.i += 1
                vkind = kinds[self.i]
                if vkind == "INTPOS":
                    seconds: int | float = int(texts[self.i])
                elif vkind == "FLOATPOS":
                    seconds = float(texts[self.i])
                else:
                    raise _Unsure
                self.i += 1
                self.expect("SECONDS")
                node = ast.Within(node, seconds)
            elif kind == "REPEATS":
                self.i += 1
                times = int(self.expect("INTPOS"))
                self.expect("TIMES")
                node = ast.Repeats(node, times)
            else:
                return node
            if simple:
                if kind in seen:
                    raise _Unsure  # the reference reports a duplicate qualifier
                seen.add(kind)

    def comparison_expression(self) -> ast.CompExpr:
        return self._chain(self.comparison_and, "OR", ast.CompOr)

    def comparison_and(self) -> ast.CompExpr:
        return self._chain(self.prop_test, "AND", ast.CompAnd)

    def prop_test(self) -> ast.CompExpr:
        kinds, texts = self.kinds, self.texts
        kind = kinds[self.i]
        if kind == "(":
            self.i += 1
            node = self.comparison_expression()
            self.expect(")")
            return node
        if kind == "EXISTS":
            self.i += 1
            path, _ = self.object_path()
            return ast.Comparison(path, "EXISTS", None)
        path, raw = self.object_path()
        negated = kinds[self.i] == "NOT"
        if negated:
            self.i += 1
        kind = kinds[self.i]
        self.i += 1
        value: Any
        if kind == "EQ" or kind == "NEQ":
            vkind = kinds[self.i]
            if vkind not in _PRIMITIVE:
                raise _Unsure
            value = _literal(vkind, texts[self.i])
            raw_value = texts[self.i]
            self.i += 1
            op = _OP_TEXT[kind]
        elif kind == "LT" or kind == "LE" or kind == "GT" or kind == "GE":
            vkind = kinds[self.i]
            if vkind not in _ORDERABLE:
                raise _Unsure
            value = _literal(vkind, texts[self.i])
            raw_value = texts[self.i]
            self.i += 1
            op = _OP_TEXT[kind]
        elif kind == "IN":
            value, raw_value = self.set_literal()
            op = "IN"
        elif kind in _STRING_OPS:
            raw_value = self.expect("STR")
            value = _unquote(raw_value)
            op = kind
        else:
            raise _Unsure
        self.comparisons.setdefault(path.object_type, []).append((raw, kind, raw_value))
        return ast.Comparison(path, op, value, negated)

    def set_literal(self) -> tuple[tuple, str]:
        self.expect("(")
        if self.kinds[self.i] == ")":
            self.i += 1
            return (), "()"
        values = []
        parts = ["("]
        while True:
            vkind = self.kinds[self.i]
            if vkind not in _PRIMITIVE:
                raise _Unsure
            values.append(_literal(vkind, self.texts[self.i]))
            parts.append(self.texts[self.i])
            self.i += 1
            if self.kinds[self.i] == ",":
                self.i += 1
                parts.append(",")
                continue
            self.expect(")")
            parts.append(")")
            return tuple(values), "".join(parts)

    def object_path(self) -> tuple[ast.ObjectPath, list]:
        kinds, texts = self.kinds, self.texts
        start = self.i
        kind = kinds[self.i]
        if kind != "IDW" and kind != "IDH":
            raise _Unsure
        obj_type = texts[self.i]
        self.i += 1
        self.expect(":")
        kind = kinds[self.i]
        if kind == "IDW":
            steps: list = [texts[self.i]]
        elif kind == "STR":
            steps = [_unquote(texts[self.i])]
        else:
            raise _Unsure
        self.i += 1
        raw = list(steps)
        while True:
            kind = kinds[self.i]
            if kind == ".":
                self.i += 1
                kind = kinds[self.i]
                if kind == "IDW":
                    step: Any = texts[self.i]
                elif kind == "STR":
                    step = _unquote(texts[self.i])
                else:
                    raise _Unsure
                self.i += 1
                steps.append(step)
                raw.append(step)
            elif kind == "[":
                self.i += 1
                kind = kinds[self.i]
                if kind == "*":
                    steps.append(ast.STAR)
                    raw.append(INDEX_STAR)
                elif kind == "INTPOS":
                    steps.append(int(texts[self.i]))
                    raw.append(int(texts[self.i]))
                else:
                    raise _Unsure  # a negative index makes the reference's inspector raise
                self.i += 1
                self.expect("]")
            else:
                break
        if "hashes" in raw:
            if type(raw[-1]) is int:
                raise _Unsure  # the reference's hash inspection fails on an index step here
            self.hashes_seen = True
        text = "".join(texts[start : self.i])
        return ast.ObjectPath(obj_type, tuple(steps), text), raw


# The two common one-comparison shapes, as the regexes of accord.stix.patterns (_ATOMIC,
# _ATOMIC_HASH) recognise them, with capture groups for the operator and the literal.
_ATOMIC_AST = re.compile(
    r"\[[ ]*([A-Za-z_][A-Za-z0-9_-]*):([A-Za-z_][A-Za-z0-9_]*)[ ]*(==|!=|=)[ ]*('(?:[^'\\]|\\['\\])*')[ ]*\]"
)
_ATOMIC_HASH_AST = re.compile(
    r"\[[ ]*([A-Za-z_][A-Za-z0-9_-]*):hashes\.(?:([A-Za-z_][A-Za-z0-9_]*)|('(?:[^'\\]|\\['\\])*'))[ ]*"
    r"(==|!=|=)[ ]*('(?:[^'\\]|\\['\\])*')[ ]*\]"
)
_PATHS: dict[tuple[str, tuple, str], ast.ObjectPath] = {}  # the few distinct paths of common patterns


def _string(token_text: str) -> str:
    return token_text[1:-1] if "\\" not in token_text else _unquote(token_text)


def _path(obj_type: str, steps: tuple, text: str) -> ast.ObjectPath:
    key = (obj_type, steps, text)
    found = _PATHS.get(key)
    if found is None:
        found = ast.ObjectPath(obj_type, steps, text)
        if len(_PATHS) < 10_000:
            _PATHS[key] = found
    return found


def _atomic(pattern: str) -> ast.Pattern | None:
    """The two one-comparison shapes, by regex; None if the pattern is not one of them (or if an
    inspection would have something to say)."""
    m = _ATOMIC_AST.fullmatch(pattern)
    if m is not None:
        obj_type, prop, op, literal = m.groups()
        if obj_type in _RESERVED or prop in _RESERVED:
            return None
        path = _path(obj_type, (prop,), f"{obj_type}:{prop}")
        comparison = ast.Comparison(path, "!=" if op == "!=" else "=", _string(literal))
        return ast.Pattern(pattern, ast.Observation(comparison), "2.1")
    m = _ATOMIC_HASH_AST.fullmatch(pattern)
    if m is not None:
        obj_type, plain, quoted, op, literal = m.groups()
        if obj_type in _RESERVED or plain in _RESERVED:
            return None
        selector = plain or _string(quoted)
        comparisons = {obj_type: [(["hashes", selector], "EQ", literal)]}
        if verify_object(_PatternData(comparisons, set(), set())):
            return None
        path = _path(obj_type, ("hashes", selector), f"{obj_type}:hashes.{plain or quoted}")
        comparison = ast.Comparison(path, "!=" if op == "!=" else "=", _string(literal))
        return ast.Pattern(pattern, ast.Observation(comparison), "2.1")
    return None


def _fast_parse(pattern: str) -> ast.Pattern | None:
    found = _atomic(pattern)
    if found is not None:
        return found
    try:
        kinds, texts = _tokenize(pattern)
        parser = _AstParser(kinds, texts)
        root = parser.pattern()
    except (_Unsure, IndexError, RecursionError, ValueError, binascii.Error):
        return None
    if parser.hashes_seen and verify_object(_PatternData(parser.comparisons, set(), set())):
        return None
    return ast.Pattern(pattern, root, "2.1")


# ---------------------------------------------------------------------------------------------
# Reference path: the ANTLR parser of stix2-patterns, its validator's checks, then tree → AST


def _grammar(stix_version: str) -> tuple[Any, Any, Any, Any]:
    if stix_version == "2.1":
        from stix2patterns.v21 import object_validator
        from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer
        from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser
        from stix2patterns.v21.validator import ValidationListener
    else:
        from stix2patterns.v20 import object_validator
        from stix2patterns.v20.grammars.STIXPatternLexer import STIXPatternLexer
        from stix2patterns.v20.grammars.STIXPatternParser import STIXPatternParser

        ValidationListener = None
    return STIXPatternLexer, STIXPatternParser, object_validator, ValidationListener


def _reference_tree(pattern: str, stix_version: str) -> tuple[Any, Any]:
    """Parse with the reference grammar and run the reference validator's checks on the tree;
    returns (tree, parser class) or raises PatternError with the validator's first message."""
    from antlr4 import CommonTokenStream, InputStream, ParseTreeWalker
    from stix2patterns.exceptions import STIXPatternErrorListener
    from stix2patterns.helpers import brackets_check

    lexer_cls, parser_cls, object_validator, validation_listener = _grammar(stix_version)
    if stix_version == "2.1":
        from stix2patterns.v21.inspector import InspectionListener
        from stix2patterns.v21.validator import DuplicateQualifierTypeError
    else:
        from stix2patterns.v20.inspector import InspectionListener

        DuplicateQualifierTypeError = None
    errors_listener = STIXPatternErrorListener()
    try:
        lexer = lexer_cls(InputStream(pattern))
        lexer.removeErrorListeners()
        parser = parser_cls(CommonTokenStream(lexer))
        parser.removeErrorListeners()
        parser.addErrorListener(errors_listener)
        for i, name in enumerate(parser.literalNames):
            if name == "<INVALID>":
                parser.literalNames[i] = parser.symbolicNames[i]
        tree = parser.pattern()
        errors = errors_listener.err_strings
        if not errors:
            inspection = InspectionListener()
            ParseTreeWalker.DEFAULT.walk(inspection, tree)
            found = object_validator.verify_object(inspection.pattern_data())
            if found:
                errors.extend(found)
            if validation_listener is not None:
                try:
                    ParseTreeWalker.DEFAULT.walk(validation_listener(), tree)
                except DuplicateQualifierTypeError as exc:
                    errors.insert(0, "FAIL: " + exc.args[0])
        if not brackets_check(pattern):
            errors.insert(0, "FAIL: Error found at line 1:0. input is missing square brackets")
    except Exception as exc:  # the reference validator itself fails on some inputs
        raise PatternError(f"invalid STIX pattern ({type(exc).__name__} in the reference validator)") from None
    if errors:
        raise PatternError("invalid STIX pattern: " + _one_line(errors[0]))
    return tree, parser_cls


class _TreeConverter:
    """ANTLR parse tree (2.1 or 2.0 grammar) → AST."""

    def __init__(self, parser_cls: Any) -> None:
        p = parser_cls
        self.p = p
        self.kind_of = {
            p.IntPosLiteral: "INTPOS",
            p.IntNegLiteral: "INTNEG",
            p.FloatPosLiteral: "FLOATPOS",
            p.FloatNegLiteral: "FLOATNEG",
            p.StringLiteral: "STR",
            p.BoolLiteral: "BOOL",
            p.HexLiteral: "HEX",
            p.BinaryLiteral: "BIN",
            p.TimestampLiteral: "TS",
        }

    def literal(self, ctx: Any) -> ast.Literal:
        from antlr4 import TerminalNode

        while not isinstance(ctx, TerminalNode):
            ctx = ctx.getChild(0)
        return _literal(self.kind_of[ctx.getSymbol().type], ctx.getText())

    def chain(self, ctx: Any, cls: type, sub: str, convert, node_cls: type) -> Any:
        items: list = []
        stack = [ctx]
        while stack:
            node = stack.pop()
            if isinstance(node, cls) and node.getChildCount() == 3:
                stack.append(node.getChild(2))
                stack.append(node.getChild(0))
            elif isinstance(node, cls):
                items.append(convert(getattr(node, sub)()))
            else:
                items.append(convert(node))
        return items[0] if len(items) == 1 else node_cls(tuple(items))

    def pattern(self, tree: Any) -> ast.ObsExpr:
        return self.obs_expressions(tree.observationExpressions())

    def obs_expressions(self, ctx: Any) -> ast.ObsExpr:
        return self.chain(
            ctx, self.p.ObservationExpressionsContext, "observationExpressionOr", self.obs_or, ast.FollowedBy
        )

    def obs_or(self, ctx: Any) -> ast.ObsExpr:
        return self.chain(
            ctx, self.p.ObservationExpressionOrContext, "observationExpressionAnd", self.obs_and, ast.ObsOr
        )

    def obs_and(self, ctx: Any) -> ast.ObsExpr:
        return self.chain(
            ctx, self.p.ObservationExpressionAndContext, "observationExpression", self.obs_expr, ast.ObsAnd
        )

    def obs_expr(self, ctx: Any) -> ast.ObsExpr:
        p = self.p
        if isinstance(ctx, p.ObservationExpressionSimpleContext):
            return ast.Observation(self.comparison(ctx.comparisonExpression()))
        if isinstance(ctx, p.ObservationExpressionCompoundContext):
            return self.obs_expressions(ctx.observationExpressions())
        inner = self.obs_expr(ctx.observationExpression())
        if isinstance(ctx, p.ObservationExpressionWithinContext):
            q = ctx.withinQualifier()
            if q.IntPosLiteral() is not None:
                return ast.Within(inner, int(q.IntPosLiteral().getText()))
            return ast.Within(inner, float(q.FloatPosLiteral().getText()))
        if isinstance(ctx, p.ObservationExpressionRepeatedContext):
            return ast.Repeats(inner, int(ctx.repeatedQualifier().IntPosLiteral().getText()))
        if isinstance(ctx, p.ObservationExpressionStartStopContext):
            q = ctx.startStopQualifier()
            start, stop = q.TimestampLiteral(0).getText(), q.TimestampLiteral(1).getText()
            return ast.StartStop(inner, timestamp_literal(start[2:-1]), timestamp_literal(stop[2:-1]))
        raise PatternError(f"unexpected pattern construct {type(ctx).__name__}")  # pragma: no cover

    def comparison(self, ctx: Any) -> ast.CompExpr:
        return self.chain(
            ctx, self.p.ComparisonExpressionContext, "comparisonExpressionAnd", self.comparison_and, ast.CompOr
        )

    def comparison_and(self, ctx: Any) -> ast.CompExpr:
        return self.chain(ctx, self.p.ComparisonExpressionAndContext, "propTest", self.prop_test, ast.CompAnd)

    def prop_test(self, ctx: Any) -> ast.CompExpr:
        p = self.p
        if isinstance(ctx, p.PropTestParenContext):
            return self.comparison(ctx.comparisonExpression())
        path = self.object_path(ctx.objectPath())
        name = type(ctx).__name__
        if name == "PropTestExistsContext":
            return ast.Comparison(path, "EXISTS", None)
        negated = ctx.NOT() is not None
        value: Any
        if isinstance(ctx, p.PropTestEqualContext):
            op = "=" if ctx.EQ() is not None else "!="
            value = self.literal(ctx.primitiveLiteral())
        elif isinstance(ctx, p.PropTestOrderContext):
            op = "<" if ctx.LT() else "<=" if ctx.LE() else ">" if ctx.GT() else ">="
            value = self.literal(ctx.orderableLiteral())
        elif isinstance(ctx, p.PropTestSetContext):
            op = "IN"
            value = tuple(self.literal(lit) for lit in ctx.setLiteral().primitiveLiteral())
        else:
            op = {
                "PropTestLikeContext": "LIKE",
                "PropTestRegexContext": "MATCHES",
                "PropTestIsSubsetContext": "ISSUBSET",
                "PropTestIsSupersetContext": "ISSUPERSET",
            }[name]
            value = _unquote(ctx.StringLiteral().getText())
        return ast.Comparison(path, op, value, negated)

    def object_path(self, ctx: Any) -> ast.ObjectPath:
        p = self.p
        obj_type = ctx.objectType().getText()
        first = ctx.firstPathComponent()
        steps: list = [first.getText() if first.StringLiteral() is None else _unquote(first.getText())]
        component = ctx.objectPathComponent()
        pending = [component] if component is not None else []
        while pending:
            node = pending.pop()
            if isinstance(node, p.PathStepContext):
                parts = node.objectPathComponent()
                pending.append(parts[1])
                pending.append(parts[0])
            elif isinstance(node, p.KeyPathStepContext):
                if node.StringLiteral() is not None:
                    steps.append(_unquote(node.StringLiteral().getText()))
                else:
                    steps.append(node.IdentifierWithoutHyphen().getText())
            else:  # IndexPathStepContext
                if node.ASTERISK() is not None:
                    steps.append(ast.STAR)
                else:
                    steps.append(int((node.IntPosLiteral() or node.IntNegLiteral()).getText()))
        return ast.ObjectPath(obj_type, tuple(steps), ctx.getText())


def reference_parse(pattern: str, stix_version: str = "2.1") -> ast.Pattern:
    """``parse`` through the ANTLR parser only (slow; for patterns the fast path does not take and
    for tests comparing the two paths)."""
    if not isinstance(pattern, str):
        raise PatternError(f"pattern must be a string, not {type(pattern).__name__}")
    tree, parser_cls = _reference_tree(pattern, stix_version)
    try:
        root = _TreeConverter(parser_cls).pattern(tree)
    except RecursionError:
        raise PatternError("invalid STIX pattern: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python reads (4,300 digits)
        raise PatternError(f"invalid STIX pattern: a literal cannot be read ({exc})") from None
    return ast.Pattern(pattern, root, "2.1" if stix_version == "2.1" else "2.0")


def parse(pattern: str, stix_version: str = "2.1") -> ast.Pattern:
    """Parse a STIX pattern (``stix_version`` "2.1", or "2.0" for the 2.0 grammar) into the AST.

    Raises ``accord.errors.PatternError`` where ``stix2patterns.validator`` rejects the pattern; the
    message is the validator's first error on one line. The common one-comparison shapes take a
    few microseconds; anything the fast path does not fully handle goes through ANTLR.
    """
    if stix_version == "2.1" and type(pattern) is str:
        found = _fast_parse(pattern)
        if found is not None:
            return found
    return reference_parse(pattern, stix_version)
