"""Fragments: the pieces an instructor pastes into their own notes, self-contained.

A fragment needs ``\\usepackage{amsmath}`` and nothing else (no macro of symcnn's preamble):
a display of math, or (``pattern``) a ``picture``.  Asked for as ``KIND:NAMES``:

    jacobian:Z1,W1   d(Z^1)/d(W^1) written out, the seed's labelled 3 x 5 (first rows and columns,
                     dots and the last when larger than max_size)
    chain:W1         the chain rule of dloss/dW^1 with each factor's shape under it (chain:W1,full:
                     every local Jacobian down to the loss)
    formula:L,W1     a general formula with its index ranges (formula:Z1 a forward rule)
    gradient:W1      dloss/dW^1 written out as a column (small networks)
    pattern:Z1,W1    a drawing of which entries of dZ^1/dW^1 can be nonzero
    forward          the forward pass as on the slides, with sizes
    table:Z1         a tensor in numbers (a spec with [values]; small networks)
    worked:Z1        the worked layer: input with the window in bold, filter, output, the entry worked out
"""

from __future__ import annotations

from ..errors import SymcnnError
from .formulas import chain_latex, forward_latex, formula_latex, partial
from .matrices import DEFAULT_MAX_SIZE
from .pieces import gradient_column, is_small, jacobian_matrix, pattern_block
from .printer import tensor_latex
from .softmax import softmax_numbers, softmax_output
from .worked import forward_steps, has_values, numbers_table

KINDS = ("jacobian", "chain", "formula", "gradient", "pattern", "forward", "table", "worked")
_NAMES = {"jacobian": (2, 2), "chain": (1, 2), "formula": (1, 2), "gradient": (1, 1), "pattern": (2, 2),
          "forward": (0, 0), "table": (1, 1), "worked": (1, 1)}


def parse_fragment(text: str) -> tuple[str, list[str]]:
    """``"jacobian:Z1,W1" -> ("jacobian", ["Z1", "W1"])``; a malformed request is a SymcnnError."""
    kind, _, names = text.partition(":")
    names = [n.strip() for n in names.split(",") if n.strip()]
    if kind not in KINDS:
        raise SymcnnError(f"fragment {text!r}: unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    low, high = _NAMES[kind]
    if not low <= len(names) <= high:
        wanted = {0: "no names", 1: "one name", 2: "two names"}
        expected = wanted[low] if low == high else f"{wanted[low]} or {wanted[high]}"
        raise SymcnnError(f"fragment {text!r}: {kind} takes {expected} after ':', e.g. {_EXAMPLES[kind]}")
    return kind, names


_EXAMPLES = {"jacobian": "jacobian:Z1,W1", "chain": "chain:W1", "formula": "formula:L,W1", "gradient": "gradient:W1",
             "pattern": "pattern:Z1,W1", "forward": "forward", "table": "table:Z1", "worked": "worked:Z1"}


def fragment(net, what: str, max_size: int = DEFAULT_MAX_SIZE) -> str:
    """The LaTeX of one piece of ``net``'s derivation, ``what`` as ``KIND:NAMES`` (see the
    module doc), ending in a newline."""
    kind, names = parse_fragment(what)
    names = [net.tensor(n) if n != "full" or kind != "chain" else n for n in names]
    return _BUILDERS[kind](net, names, max_size).strip() + "\n"


def _jacobian(net, names, max_size):
    of, wrt = names
    return rf"\[ {partial(of, wrt)} = {jacobian_matrix(net, of, wrt, max_size)} \]"


def _chain(net, names, max_size):
    _require_loss(net, "chain")
    wrt, full = names[0], names[1:] == ["full"]
    if names[1:] not in ([], ["full"]):
        raise SymcnnError(f"fragment chain:{','.join(names)}: the second name can only be 'full'")
    return rf"\[ {chain_latex(net, wrt, net.derivation.chain_steps(wrt, full), per_line=6)} \]"


def _formula(net, names, max_size):
    return rf"\[ {formula_latex(net.formula(*names))} \]"


def _gradient(net, names, max_size):
    _require_loss(net, "gradient")
    _require_small(net, "gradient", max_size, f"formula:L,{names[0]}")
    column = gradient_column(net, names[0], max_size)
    if column is None:
        raise SymcnnError(f"fragment gradient:{names[0]}: its entries are too long to write out; "
                          f"the general formula is the fragment formula:L,{names[0]}")
    return rf"\[ {partial('L', names[0])} = {column} \]"


def _pattern(net, names, max_size):
    return pattern_block(net, *names, 400.0, 160.0)


def _forward(net, names, max_size):
    lines = [rf"{equation} && {note}" for _, equation, note in forward_latex(net)]
    return r"\begin{align*}" + "\n" + " \\\\\n".join(lines) + "\n" + r"\end{align*}"


def _table_fragment(net, names, max_size):
    _require_values(net, "table", max_size)
    values = net.evaluate()
    if names[0] not in values:
        raise SymcnnError(f"fragment table:{names[0]}: {names[0]} has no value (it needs y in [values])")
    array = values[names[0]]
    if names[0] == softmax_output(net):  # the course's A^L = softmax(Z^L), not the derivation's A^L = Z^L
        array = softmax_numbers(array)
    return rf"\[ {tensor_latex(names[0])} = {numbers_table(array, max_size=max_size)} \]"


def _worked(net, names, max_size):
    _require_values(net, "worked", max_size)
    layers = {f"Z{l}" if layer.type != "maxpool" else f"A{l}": l for l, layer in enumerate(net.spec.layers, 1)}
    if names[0] not in layers:
        raise SymcnnError(f"fragment worked:{names[0]}: a worked layer is named by its output, one of "
                          + ", ".join(layers))
    steps = [s for s in forward_steps(net, max_size, fit=False) if s.title.startswith(f"Layer {layers[names[0]]}:")]
    return "\n".join(steps[0].blocks)


_BUILDERS = {"jacobian": _jacobian, "chain": _chain, "formula": _formula, "gradient": _gradient,
             "pattern": _pattern, "forward": _forward, "table": _table_fragment, "worked": _worked}


def _require_loss(net, kind):
    if net.spec.loss is None:
        raise SymcnnError(f"fragment {kind}: {net.spec.source} has no loss; give the spec a loss to take gradients")


def _require_small(net, kind, max_size, instead):
    if not is_small(net, max_size):
        raise SymcnnError(f"fragment {kind}: {net.spec.source} is too large to write out entry by entry "
                          f"(a tensor has more than {max_size}^2 entries; raise --max-size); "
                          f"its general formula is the fragment {instead}")


def _require_values(net, kind, max_size):
    if not has_values(net):
        raise SymcnnError(f"fragment {kind}: {net.spec.source} has no [values] for every input and parameter")
    _require_small(net, kind, max_size, "formula:...")
