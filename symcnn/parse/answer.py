"""An answer as equations: each ``lhs = step = step ...``, its left-hand side a :class:`Quantity`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import LatexError
from .indexed import instantiate
from .notes import read_clause
from .reader import Reader
from .source import Source, Token
from .facts import read_fact
from .names import read_names, unused_name
from .tensors import LOWERCASE, derivative_refs, read_ref


@dataclass(frozen=True)
class Quantity:
    """What a left-hand side names: ``d(of)/d(wrt)`` (``of`` the loss for a gradient,
    ``\\delta^l`` is ``dL/dZ^l``), or with ``wrt=None`` an entry's forward rule ``Z^1_2 = ...``.
    ``free`` holds its index letters (``k`` in ``\\partial L/\\partial W^1_k``)."""

    of: object
    wrt: object
    free: dict


@dataclass(frozen=True)
class Step:
    """One side of a chain of equalities: its value, where it starts, and the derivatives it
    names (``(of, wrt)``, read as their derived values); ``reversed_chain``: a product of
    matrices whose sizes fit only in the reverse order, ``value`` is that product."""

    value: object
    at: Token
    text: str
    derivatives: frozenset = frozenset()
    reversed_chain: bool = False  # a product whose sizes fit only in the reverse order (read so)


@dataclass(frozen=True)
class Equation:
    """``lhs = step_1 = step_2 = ...`` (``lhs`` None for a bare expression); ``ranges`` are the
    values stated for its free indices (``k = 1, 2, 3`` after the formula), by letter."""

    lhs: Quantity | None
    steps: tuple[Step, ...]
    at: Token
    ranges: dict = field(default_factory=dict)


def read_answer(net, text: str, name: str = "<answer>", named: bool = False) -> tuple[list[Equation], "Reader"]:
    """Every equation of an answer, each side read; the reader keeps the tables and notes.
    With ``named``, the named gradients it writes (``\\delta^l``) stay entries of their own
    (see :func:`~symcnn.parse.tables.derived_entry`)."""
    source = Source(text, name)
    reader = Reader(net, source, named)
    equations = []
    lines, prose, named = read_names(reader, source, source.equations())
    for parts in lines:
        fact = read_fact(reader, parts) if len(parts) > 1 and _unnamed(reader, parts[0]) else None
        if fact is not None:  # \sigma'(z) = \sigma(z)(1 - \sigma(z)): checked on its own
            reader.facts.append(fact)
            continue
        lhs = read_quantity(reader, parts[0]) if len(parts) > 1 else None
        while lhs is not None and len(parts) > 2 and _names(reader, parts[1], lhs):
            parts = [parts[0], *parts[2:]]  # \delta^1_i = \frac{\partial L}{\partial Z^1_i} = ...
        reader.indices = dict(lhs.free) if lhs else {}
        for letter in set(reader.indices) & set(reader.abbreviations):
            raise reader.error(parts[0][0], f"{letter} is both an index of the left-hand side and a name the "
                                            "answer gives a value: use another letter for one of them")
        steps = tuple(_step(reader, source, part) for part in parts[1 if lhs else 0:])
        clause = source.ranges.get(parts[0][0].start)
        ranges, restated = read_clause(reader, clause, named) if clause else ({}, [])
        equations.append(Equation(lhs, steps, parts[0][0], ranges))
        for tokens in restated:  # \text{that is } diag(A^3) - A^3 (A^3)^T: the whole matrix, checked too
            if lhs is None or not lhs.free:
                raise reader.error(tokens[0], "'that is' restates an entry formula as a whole matrix: "
                                              "it follows a left-hand side with indices")
            reader.indices = {}
            whole = Quantity(_whole(lhs.of), _whole(lhs.wrt), {})
            equations.append(Equation(whole, (_step(reader, source, tokens),), tokens[0]))
    unused = unused_name(reader) if equations else None
    if unused is not None:  # e = (A^2 - y)^3 on a line of its own: a value nothing checks
        raise reader.error(unused, f"{unused.text} is named but no step uses it: a name is checked through "
                                   f"the steps that use it; use it, or leave it out")
    if prose:
        reader.notes.append(f"{prose} piece{'s' * (prose > 1)} of inline math ($..$) "
                            "in the text around the displayed math read as prose, not checked")
    return equations, reader


def parse_latex(text: str, net, source: str = "<latex>"):
    """The SymPy value (expression or Matrix) of one piece of math without free indices."""
    answer = Source(text, source)
    reader = Reader(net, answer)
    tokens = [t for start, end in answer.math_regions() for t in answer.tokens(start, end)]
    if not tokens:
        raise LatexError(f"{source}: no math found")
    return instantiate(reader.value(tokens), {}, reader.scope)


def read_quantity(reader, tokens: list[Token]) -> Quantity:
    """The left-hand side: a derivative, ``\\delta^l_i``, an entry ``Z^1_i`` or ``L``."""
    free: dict = {}
    found = derivative_refs(reader, tokens, 0, free)
    if found is not None:
        of, wrt, end = found
    else:
        ref = read_ref(reader, tokens, 0, free)
        if ref is None and tokens[0].text in LOWERCASE:
            raise reader.error(tokens[0], f"cannot read '{tokens[0].text}' on the left: the network's tensors are "
                                          f"written in capitals, as on the slides ({tokens[0].text.upper()})")
        if ref is None:
            raise reader.error(tokens[0], "cannot tell what the left-hand side names: write e.g. "
                                        "\\frac{\\partial L}{\\partial W^1} = ... or Z^1_2 = ...")
        (of, end), wrt = ref, None
        if of.kind == "delta":
            of, wrt = type(of)("L", (), of.at, "loss"), type(of)(of.tensor, of.indices, of.at)
        elif of.kind == "prediction":
            raise reader.error(tokens[0], "\\hat y on the left: name the derivative or the entry instead")
        if of.kind == "loss" and end < len(tokens) and tokens[end].text in ("(", r"\left"):
            end = len(tokens) if tokens[-1].text in (")",) else end  # L(A^2, y) = ...
    if end != len(tokens):
        raise reader.error(tokens[end], "cannot read the rest of the left-hand side")
    return Quantity(of, wrt, free)


def _unnamed(reader, tokens) -> bool:
    """Whether ``tokens`` (a left-hand side) name no quantity: a fact may stand there."""
    try:
        read_quantity(reader, tokens)
    except LatexError:
        return True
    return False


def _step(reader, source: Source, tokens) -> Step:
    reader.tables.used, reader.reversed_chain = set(), False
    value = reader.value(tokens)
    return Step(value, tokens[0], source.written(tokens), frozenset(reader.tables.used), reader.reversed_chain)


def _whole(ref):
    """The whole tensor of an entry's reference (the loss, and None, as they are)."""
    return ref if ref is None or ref.kind == "loss" else replace(ref, indices=None)


def _names(reader, tokens, lhs: Quantity) -> bool:
    """Whether ``tokens`` name the left-hand side's quantity again (``\\delta^1_i`` beside
    ``\\frac{\\partial L}{\\partial Z^1_i}``): a second name, not a step to check."""
    try:
        other = read_quantity(reader, tokens)
    except LatexError:
        return False
    same = (lambda a, b: a is None and b is None or a is not None and b is not None and
            (a.tensor, a.indices, a.kind) == (b.tensor, b.indices, b.kind))
    return same(other.of, lhs.of) and same(other.wrt, lhs.wrt) and other.free == lhs.free
