r"""The typical backpropagation mistakes, as data: each a mutation of the derivation.

As in STACK's potential response trees, feedback is a table: each :class:`Mistake` has a key,
its name in the course's words and feedback for the student.  Each is made by changing one
factor of the chain rule, read left to right from the variable to the loss as on the slides,

    dL/dW^l = dZ^l/dW^l . dA^l/dZ^l . dZ^{l+1}/dA^l . ... . dL/dA^L,

and multiplying the factors again.  A wrong answer that equals a mutation at every test point
is named by it.  The factors are the network's local Jacobians (``net.jacobian`` of each pair
of neighbouring tensors), so the mutations follow whatever the derivation does.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import sympy

from ..activations import ACTIVATIONS, LOSSES
from ..latex import tensor_latex
from ..notation import TensorName
from ..parse.tables import chain_steps, derived

MAX_FACTOR = 400  # rows or columns of a factor beyond which no diagnosis is tried
MAX_FAMILY = 16   # most positions or filters tried for a "sum missing"


@dataclass(frozen=True)
class Mistake:
    key: str
    name: str       # what went wrong, in the course's notation
    feedback: str   # what to look at again


def chain(net, of: str, wrt: str) -> list[tuple[str, str, sympy.Matrix]] | None:
    """``[(of_1, wrt_1, d of_1/d wrt_1), ...]`` from ``wrt`` to ``of``, each factor from the
    general formulas (:func:`~symcnn.parse.tables.derived`); None when too large."""
    steps = chain_steps(net, of, wrt)
    if steps is None:
        return None
    sizes = [net.symbol_array(w).size for _, w in steps] + [net.symbol_array(o).size if o != "L" else 1 for o, _ in steps]
    if max(sizes) > MAX_FACTOR:
        return None
    return [(TensorName(o), TensorName(w), derived(net, o, w)) for o, w in steps]


def product_of(factors) -> sympy.Matrix:
    result = factors[0][2]
    for _, _, matrix in factors[1:]:
        result = result * matrix
    return result


def mutations(net, factors):
    """``(Mistake, mutated factors)`` for every catalogue entry that applies to this chain."""
    for builder in CATALOGUE:
        yield from builder(net, factors)


def _replace(factors, k, matrix):
    return factors[:k] + [(factors[k][0], factors[k][1], matrix)] + factors[k + 1:]


# -- the catalogue: one builder per kind of mistake ----------------------------------------------

def activation_dropped(net, factors):
    for k, (of, wrt, matrix) in enumerate(factors):
        if of.kind == "A" and wrt.kind == "Z":
            layer = of.layer
            activation = net.spec.layers[layer - 1].activation
            if activation == "none":
                continue
            words = ACTIVATIONS[activation].slope_latex.format(z=rf"Z^{{{layer}}}_i")
            yield (Mistake("activation-derivative-dropped",
                           f"the derivative of layer {layer}'s activation, ${words}$, is missing",
                           rf"$\partial A^{{{layer}}}/\partial Z^{{{layer}}} = \operatorname{{diag}}(f'(Z^{{{layer}}}))$ "
                           "is a factor of the chain rule"),
                   _replace(factors, k, sympy.eye(matrix.rows)))


def derivative_at_output(net, factors):
    for k, (of, wrt, matrix) in enumerate(factors):
        if of.kind == "A" and wrt.kind == "Z":
            layer = of.layer
            row = ACTIVATIONS[net.spec.layers[layer - 1].activation]
            if not row.output_slope_words:  # f'(A) = f'(Z) here (ReLU: 1[A > 0] = 1[Z > 0]): no mistake
                continue
            swap = dict(zip(net.symbol_array(wrt).flat, net.symbol_array(of).flat))
            f = row.latex
            yield (Mistake("derivative-at-A", rf"${f}'$ taken at $A^{{{layer}}}$ instead of at $Z^{{{layer}}}$",
                           rf"${f}'(Z) = {row.output_slope_words}$: the derivative is "
                           rf"taken at the pre-activation $Z^{{{layer}}}$"),
                   _replace(factors, k, matrix.xreplace(swap)))


def loss_factor(net, factors):
    of, wrt, matrix = factors[-1]
    if of != "L":
        return
    output = tensor_latex(wrt)
    if LOSSES[net.spec.loss].softmax:
        if len(factors) < 2 or factors[-2][:2] != (wrt, f"Z{wrt[1:]}"):
            return  # the softmax mistakes are of delta^L = dA^L/dZ^L . dloss/dA^L = softmax(Z^L) - y
        # the course's factors (diag(A^L) - A^L (A^L)^T and -y/A^L) as one: delta^L
        factors = [*factors[:-2], ("L", factors[-2][1], factors[-2][2] * matrix)]
        matrix, output = factors[-1][2], tensor_latex(factors[-1][1])
        yield (Mistake("softmax-sign", r"the softmax sign: $y - \operatorname{softmax}(Z^L)$ instead of "
                       r"$\operatorname{softmax}(Z^L) - y$",
                       r"$\partial L/\partial Z^L = \operatorname{softmax}(Z^L) - y$ for softmax and cross entropy"),
               _replace(factors, len(factors) - 1, -matrix))
        y = list(net.symbols("y"))
        yield (Mistake("softmax-missing", rf"the softmax is missing: ${output} - y$ with the logits",
                       r"the loss applies softmax to the logits: $\partial L/\partial Z^L = \operatorname{softmax}(Z^L) - y$"),
               _replace(factors, len(factors) - 1, sympy.Matrix(list(net.symbols(wrt))) - sympy.Matrix(y)))
    else:
        yield (Mistake("sign", rf"the sign: $2(y - {output})$ instead of $2({output} - y)$",
                       r"$\partial (A - y)^2/\partial A = 2(A - y)$"), _replace(factors, len(factors) - 1, -matrix))
        yield (Mistake("factor-2-missing", rf"the factor 2 of $\partial ({output} - y)^2/\partial {output}$ is missing",
                       r"$\partial (A - y)^2/\partial A = 2(A - y)$"), _replace(factors, len(factors) - 1, matrix / 2))


def _conv_weight_factor(net, factors):
    """``(k, layer, input tensor)`` when the first factor is a conv layer's ``dZ/dW``."""
    of, wrt, _ = factors[0]
    if wrt.kind != "W":
        return None
    layer = wrt.layer
    spec = net.spec.layers[layer - 1]
    source = net.flow[net.flow.index(of) - 1]
    return (0, layer, spec, source) if spec.type == "conv" else None


def index_shifted(net, factors):
    found = _conv_weight_factor(net, factors)
    if found is None:
        return
    k, layer, spec, source = found
    padded = net.symbol_array(source, padded=True)
    for axis in range(1, padded.ndim):
        for shift in (1, -1):
            mapping = {}
            for position in product(*map(range, padded.shape)):
                moved = list(position)
                moved[axis] += shift
                inside = 0 <= moved[axis] < padded.shape[axis]
                mapping[padded[position]] = padded[tuple(moved)] if inside else sympy.S.Zero
            where = "" if padded.ndim == 2 else (" along the rows" if axis == padded.ndim - 2 else " along the columns")
            yield (Mistake("index-shifted", f"the indices of ${tensor_latex(source)}$ are shifted by {shift:+d}{where} "
                           f"(the window of $Z^{{{layer}}}_i$ is off by one)",
                           r"$Z_i = \sum_k W_k A_{(i-1)s+k-p}$: check the offset $p$ (padding) in the index"),
                   _replace(factors, k, factors[k][2].xreplace(mapping)))


def padding_dropped(net, factors):
    found = _conv_weight_factor(net, factors)
    if found is None or not any(found[2].padding):
        return
    k, layer, spec, source = found
    padding = set(net.padding_symbols(source))
    matrix = factors[k][2]
    kept = matrix.copy()
    for col in range(matrix.cols):
        if any(matrix[row, col].free_symbols & padding for row in range(matrix.rows)):
            kept[:, col] = sympy.zeros(matrix.rows, 1)
    yield (Mistake("padding-dropped", f"the outputs $Z^{{{layer}}}_i$ whose window reaches the padding are left out",
                   "with zero padding every output has a full window; the padded entries are 0, the outputs are not"),
           _replace(factors, k, kept))


def filter_flipped(net, factors):
    found = _conv_weight_factor(net, factors)
    if found is None:
        return
    k, layer, spec, source = found
    weights = net.symbol_array(f"W{layer}")
    flipped = weights[(Ellipsis,) + (slice(None, None, -1),) * len(spec.size)]
    order = {s: i for i, s in enumerate(weights.flat)}
    rows = [order[s] for s in flipped.flat]
    matrix = factors[k][2]
    yield (Mistake("filter-flipped", "the filter is flipped: a convolution instead of the course's cross-correlation",
                   r"$Z_i = \sum_k W_k A_{i+k-1-p}$: the filter is not reversed"),
           _replace(factors, k, sympy.Matrix([list(matrix.row(r)) for r in rows])))


def wrong_layer_weights(net, factors):
    for k, (of, wrt, matrix) in enumerate(factors[1:], start=1):
        layer = of.layer
        if of.kind != "Z" or layer < 2 or f"W{layer}" not in net.parameters \
                or f"W{layer - 1}" not in net.parameters:
            continue
        names = {s.name: s for s in net.symbol_array(f"W{layer - 1}").flat}
        mapping = {s: names.get(f"W{layer - 1}_" + s.name.split("_", 1)[1] if "_" in s.name else f"W{layer - 1}",
                                sympy.S.Zero) for s in net.symbol_array(f"W{layer}").flat}
        yield (Mistake("wrong-layer-weights", f"$W^{{{layer - 1}}}$ in place of $W^{{{layer}}}$",
                       f"going back through layer {layer} multiplies by its own weights $W^{{{layer}}}$"),
               _replace(factors, k, matrix.xreplace(mapping)))


def sum_missing(net, factors):
    """Only one output position of the variable's layer (or one filter) kept: a missing sum."""
    of, wrt, matrix = factors[0]
    if wrt.kind in ("W", "b"):
        shape = net.symbol_array(of).shape
        for col in range(min(matrix.cols, MAX_FAMILY)):
            kept = sympy.zeros(*matrix.shape)
            kept[:, col] = matrix[:, col]
            position = ",".join(str(i + 1) for i, n in zip(np.unravel_index(col, shape), shape) if n > 1)
            yield (Mistake("sum-over-positions-missing", f"the sum over the positions is missing: only the term "
                           f"of ${tensor_latex(of)}_{{{position}}}$ is there",
                           "a weight is shared by every output position: its gradient sums over all of them"),
                   _replace(factors, 0, kept))
    for k, (of_k, wrt_k, matrix_k) in enumerate(factors):
        layer = of_k.layer
        if of_k.kind == "Z" and wrt_k.kind == "A" and net.spec.layers[layer - 1].type == "conv":
            filters = net.spec.layers[layer - 1].filters
            per_filter = matrix_k.cols // filters
            for f in range(1, min(filters, MAX_FAMILY) + 1) if filters > 1 else ():
                kept = sympy.zeros(*matrix_k.shape)
                kept[:, (f - 1) * per_filter:f * per_filter] = matrix_k[:, (f - 1) * per_filter:f * per_filter]
                yield (Mistake("sum-over-filters-missing", f"the sum over the filters is missing: only filter {f}",
                               f"every filter of layer {layer} reads the input: sum over all of them"),
                       _replace(factors, k, kept))


CATALOGUE = [activation_dropped, derivative_at_output, loss_factor, index_shifted, padding_dropped,
             filter_flipped, wrong_layer_weights, sum_missing]
TRANSPOSED = Mistake("transposed", r"transposed: the course's layout is $\operatorname{size}(\mathrm{wrt}) \times \operatorname{size}(\mathrm{of})$",
                     r"$\partial Z/\partial W$ has one row per weight and one column per output")
CHAIN_REVERSED = Mistake("chain-reversed", "the chain rule's factors in reversed order",
                         r"in the course's layout $\partial L/\partial W^l = \partial Z^l/\partial W^l \cdot "
                         r"\partial A^l/\partial Z^l \cdots \partial L/\partial A^L$: from the variable to the loss")
WRONG_QUANTITY = Mistake("wrong-quantity", "the derivative of another quantity than the one asked",
                         "check which variable (and which layer) the question asks about")
SUM_RANGE = Mistake("sum-range", "a sum runs past the entries of a tensor",
                    "a sum over an index runs over the entries the tensor has (1 to its size); only the "
                    "zero padding of a convolution's input lies outside, and it is 0")
SUM_LETTER = Mistake("sum-letter", "a sum over the left-hand side's own index",
                     "the left-hand side's index is fixed on the right-hand side: a sum needs a letter of its own")
