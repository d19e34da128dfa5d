"""Each layer's backpropagation in the course's matrix form, and what each rule means in numbers.

From the loss back, layer ``l`` receives ``dloss/dA^l`` from the layer that reads ``A^l`` (or
from the loss) and passes on:

- a conv or dense layer: ``delta^l = f'(Z^l) ⊙ dloss/dA^l``; through a dense reader this is the
  course's ``delta^l = f'(Z^l) ⊙ W^{l+1} delta^{l+1}`` (with ``vec(dloss/dA^l) = W^{l+1}
  delta^{l+1}`` first where the reader reads ``A^l`` flattened, as its general formula says);
  its weights get ``dloss/dW^l = A^{l-1} (delta^l)^T`` (dense) or ``pad_p(A^{l-1}_c) ⋆ delta^l_f``
  (conv: the cross-correlation of the zero-padded input with ``delta^l``), its bias ``delta^l``
  (dense) or ``sum_i delta^l_{f,i}`` (conv);
- through a conv reader ``dloss/dA^l_c = sum_f pad_{k-1-p}(delta^{l+1}_f) ⋆ flip(W^{l+1}_{f,c})``:
  the full convolution with the flipped filter (``delta^{l+1}`` dilated by the stride first; the
  result cropped where the padding is wider than ``k - 1``);
- a max-pool layer routes each entry of ``dloss/dA^l`` to the first maximum (row-major) of its
  window in ``A^{l-1}``, and 0 to the rest;
- the loss: ``dloss/dA^L = 2 (A^L - y)``, or with the softmax ``A^L = softmax(Z^L)`` and the
  cross entropy ``delta^L = A^L - y``.

Each :class:`Rule` carries its LaTeX and, side by side, the computation it states
(:attr:`Rule.value`, NumPy on arrays in the tensors' shapes), so that a test can run the whole
backward pass from the printed rules alone and compare it with the derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..activations import ACTIVATIONS
from ..derive.display import shown
from .formulas import partial
from .printer import entry_latex, tensor_latex

# what each operator of the rules means, said under the rules that use it
OPERATORS = {r"\operatorname{ReLU}'": r"\operatorname{ReLU}'(z) = \mathbf{1}\left[z > 0\right]",
             r"\sigma'": r"\sigma'(z) = \sigma(z)\left(1 - \sigma(z)\right)",
             r"\tanh'": r"\tanh'(z) = 1 - \tanh^{2}(z)",
             r"\star": r"\star:\ \text{the layers' convolution (cross-correlation)}",
             r"\operatorname{pad}": r"\operatorname{pad}_{q}:\ q \text{ zeros on each side}",
             r"\operatorname{crop}": r"\operatorname{crop}_{q}:\ q \text{ entries dropped on each side}",
             r"\operatorname{dilate}": r"\operatorname{dilate}_{s}:\ s - 1 \text{ zeros between neighbouring entries}",
             r"\operatorname{flip}": r"\operatorname{flip}:\ \text{the filter reversed along each axis}"}


@dataclass(frozen=True)
class Rule:
    """``dloss/d(wrt) = ...`` in matrix form: its LaTeX (and a note on it), and
    ``value(known)``: the same in numbers, from ``known`` (forward values and the gradients
    ``gradient_key(T)`` of later tensors, NumPy arrays in the tensors' shapes) to
    ``dloss/d(wrt)`` in ``wrt``'s shape."""

    wrt: str
    latex: str
    value: Callable[[dict], np.ndarray]
    note: str = ""


def gradient_key(name: str) -> str:
    """Where a rule finds ``dloss/d(name)`` among the known arrays."""
    return f"dL/{name}"


def layer_rules(net, l: int) -> tuple[list[Rule], list[str]]:
    """Layer ``l``'s rules, from what reaches its output to its input and parameters, and the
    notes under them (what ``f'``, ``⋆``, ``pad``, ... mean)."""
    incoming = _incoming(net, l)
    rules = [incoming] if incoming is not None else []
    if net.spec.layers[l - 1].type == "maxpool":
        rules.append(_routing(net, l))
    else:
        rules += [_delta(net, l, incoming is not None), *_weight_rules(net, l)]
    notes = [rule.note for rule in rules if rule.note]
    return rules, notes + [note for operator, note in OPERATORS.items() if any(operator in r.latex for r in rules)]


def _source(l: int) -> str:
    return f"A{l - 1}" if l > 1 else "X"


def _delta_latex(l: int, letters: str | None = None) -> str:
    return entry_latex(f"Z{l}", letters).replace("Z^", r"\delta^")


def _dloss(entry: str) -> str:
    """``dloss/d(entry)`` for an entry or a channel written out: ``dloss/dA^{1}_{c,i,j}``."""
    return rf"\frac{{\partial {tensor_latex('L')}}}{{\partial {entry}}}"


def _amount(sizes) -> str:
    """``1`` for ``(1, 1)``: one number where every axis has the same."""
    return str(sizes[0]) if len(set(sizes)) == 1 else ",".join(map(str, sizes))


def _padded(latex: str, sizes) -> str:
    return rf"\operatorname{{pad}}_{{{_amount(sizes)}}}\left({latex}\right)" if any(sizes) else latex


def _dilated(latex: str, stride) -> str:
    if all(s == 1 for s in stride):
        return latex
    return rf"\operatorname{{dilate}}_{{{_amount(stride)}}}\left({latex}\right)"


def _incoming(net, l: int) -> Rule | None:
    """``dloss/dA^l`` from what reads ``A^l``: the squared loss, a conv layer (the full
    convolution), a dense layer where ``A^l`` is read flattened or is a pooling output; None
    where ``delta^l`` says it (a dense reader of a conv or dense layer, the softmax) or the
    reader is a pooling layer (its own rules say it)."""
    layers, A = net.spec.layers, f"A{l}"
    if l == len(layers):  # a conv or dense last layer: delta^L says it
        return _loss_gradient(net) if layers[-1].type == "maxpool" else None
    reader = layers[l]
    if reader.type == "maxpool":
        return None
    if reader.type == "conv":
        return _full_convolution(net, l)
    flat = _read_flattened(net, l + 1)
    if not flat and layers[l - 1].type != "maxpool":
        return None
    lhs = rf"\operatorname{{vec}}\left({partial('L', A)}\right)" if flat else partial("L", A)
    return Rule(A, rf"{lhs} = {tensor_latex(f'W{l + 1}')} {_delta_latex(l + 1)}",
                lambda known: (known[f"W{l + 1}"] @ known[gradient_key(f"Z{l + 1}")]).reshape(known[A].shape))


def _read_flattened(net, l: int) -> bool:
    """Whether dense layer ``l`` reads its input flattened, as its general formula writes it
    (``vec(A^{l-1})_i``: more than one axis of size above 1)."""
    return any(name == _source(l) for name, _, _ in shown(net.formula("L", f"W{l}")).flattened)


def _loss_gradient(net) -> Rule:
    """The squared loss's ``dloss/dA^L = 2 (A^L - y)``."""
    A = f"A{len(net.spec.layers)}"
    return Rule(A, rf"{partial('L', A)} = 2\left({tensor_latex(A)} - y\right)",
                lambda known: 2 * (known[A] - known["y"].reshape(known[A].shape)))


def _full_convolution(net, l: int) -> Rule:
    """``dloss/dA^l_c = sum_f pad_{k-1-p}(delta^{l+1}_f) ⋆ flip(W^{l+1}_{f,c})``: the full
    convolution with the flipped filter (with stride ``s``, ``delta^{l+1}`` dilated first;
    with padding ``p > k - 1``, the result cropped by ``p - k + 1`` instead of padded)."""
    reader, A, Z = net.spec.layers[l], f"A{l}", f"Z{l + 1}"
    k, p, s = reader.size, reader.padding, reader.stride
    q = [ki - 1 - pi for ki, pi in zip(k, p)]
    filters, channels = net.shape(Z)[0], net.shape(A)[0]
    W = entry_latex(f"W{l + 1}", ",".join(["f"] * (filters > 1) + ["c"] * (channels > 1)) or None)
    total = rf"\sum_{{f=1}}^{{{filters}}} " if filters > 1 else ""
    delta = _padded(_dilated(_delta_latex(l + 1, "f" if filters > 1 else None), s), [max(qi, 0) for qi in q])
    right = rf"{total}{delta} \star \operatorname{{flip}}\left({W}\right)"
    if min(q) < 0:
        right = rf"\operatorname{{crop}}_{{{_amount([max(-qi, 0) for qi in q])}}}\left({right}\right)"

    def value(known):
        upstream, weights, shape = known[gradient_key(Z)], known[f"W{l + 1}"], known[A].shape
        dilated = _dilate(upstream, s)
        # zeros at the end too, for the input's last rows and columns that no window reached
        extra = [n - (d + 2 * qi - ki + 1) for n, d, qi, ki in zip(shape[1:], dilated.shape[1:], q, k)]
        padded = np.pad(dilated, [(0, 0)] + [(max(qi, 0), max(qi, 0) + e) for qi, e in zip(q, extra)])
        flipped = weights[(slice(None), slice(None), *[slice(None, None, -1)] * len(k))]
        full = np.stack([sum(_correlate(padded[f], flipped[f, c]) for f in range(filters)) for c in range(channels)])
        return full[(slice(None), *[slice(max(-qi, 0), max(-qi, 0) + n) for qi, n in zip(q, shape[1:])])]
    return Rule(A, f"{_dloss(entry_latex(A, 'c' if channels > 1 else None))} = {right}", value,
                rf"k - 1 - p = {_amount(q)} \text{{ (a full convolution{', cropped' if min(q) < 0 else ''})}}")


def _routing(net, l: int) -> Rule:
    """A max-pool layer: each entry of ``dloss/dA^l`` goes to its window's first maximum."""
    layer, source, A = net.spec.layers[l - 1], _source(l), f"A{l}"
    channel, window = ["c"] * (net.shape(A)[0] > 1), list("mn"[:len(layer.size)])
    entry = entry_latex(source, ",".join(channel + list("ij"[:len(layer.size)])))
    latex = (rf"{_dloss(entry)} = \sum_{{\substack{{\text{{windows }} ({','.join(window)}) \text{{ whose first}} \\ "
             rf"\text{{maximum is }} {entry}}}}} {_dloss(entry_latex(A, ','.join(channel + window)))}")

    def value(known):
        inputs, upstream = known[source], known[gradient_key(A)]
        result = np.zeros(inputs.shape)
        for out in np.ndindex(*upstream.shape):
            corner = [o * s for o, s in zip(out[1:], layer.stride)]
            block = inputs[(out[0], *[slice(c, c + k) for c, k in zip(corner, layer.size)])]
            first = np.unravel_index(np.argmax(block), block.shape)  # argmax: the first maximum, row-major
            result[(out[0], *[c + f for c, f in zip(corner, first)])] += upstream[out]
        return result
    return Rule(source, latex, value)


def _delta(net, l: int, received: bool) -> Rule:
    """``delta^l = f'(Z^l) ⊙ dloss/dA^l`` (``received``: a rule before it gave ``dloss/dA^l``),
    through a dense reader as the course writes it, ``f'(Z^l) ⊙ W^{l+1} delta^{l+1}``; the
    softmax's ``delta^L = A^L - y``."""
    layers, Z, A = net.spec.layers, f"Z{l}", f"A{l}"
    activation = layers[l - 1].activation
    lhs = f"{_delta_latex(l)} = {partial('L', Z)}"
    if l == len(layers) and net.spec.loss == "squared":
        text, upstream = _loss_gradient(net).latex.partition(" = ")[2], _loss_gradient(net).value
    elif l == len(layers):
        if activation == "none":
            return Rule(Z, rf"{lhs} = {tensor_latex(A)} - y",
                        lambda known: _softmax(known[Z]) - known["y"].reshape(known[Z].shape),
                        rf"{tensor_latex(A)} = \operatorname{{softmax}}\left({tensor_latex(Z)}\right)")
        text = rf"\left(\operatorname{{softmax}}\left({tensor_latex(A)}\right) - y\right)"
        upstream = lambda known: _softmax(known[A]) - known["y"].reshape(known[A].shape)
    elif received or layers[l].type != "dense":
        text, upstream = partial("L", A), lambda known: known[gradient_key(A)]
    else:
        text = f"{tensor_latex(f'W{l + 1}')} {_delta_latex(l + 1)}"
        upstream = lambda known: known[f"W{l + 1}"] @ known[gradient_key(f"Z{l + 1}")]
    if activation == "none":
        return Rule(Z, f"{lhs} = {text}", lambda known: upstream(known).reshape(known[Z].shape))
    row = ACTIVATIONS[activation]
    symbol, derivative = row.latex + "'", row.numpy_slope
    return Rule(Z, rf"{lhs} = {symbol}\left({tensor_latex(Z)}\right) \odot {text}",
                lambda known: derivative(known[Z]) * upstream(known).reshape(known[Z].shape))


def _weight_rules(net, l: int) -> list[Rule]:
    """``dloss/dW^l`` and ``dloss/dW^l_0`` from ``delta^l``: ``A^{l-1} (delta^l)^T`` and
    ``delta^l`` (dense); ``pad_p(A^{l-1}_c) ⋆ delta^l_f`` and ``sum_i delta^l_{f,i}`` (conv)."""
    layer, source, Z = net.spec.layers[l - 1], _source(l), f"Z{l}"
    W, b = f"W{l}", f"b{l}"
    if layer.type == "dense":
        flat = _read_flattened(net, l)
        inputs = rf"\operatorname{{vec}}\left({tensor_latex(source)}\right)" if flat else tensor_latex(source)
        rules = [Rule(W, rf"{partial('L', W)} = {inputs} \left({_delta_latex(l)}\right)^\top",
                      lambda known: np.outer(known[source].ravel(), known[gradient_key(Z)]))]
        if layer.bias:
            rules.append(Rule(b, f"{partial('L', b)} = {_delta_latex(l)}", lambda known: known[gradient_key(Z)]))
        return rules
    filters, channels = net.shape(Z)[0], net.shape(source)[0]
    weight = entry_latex(W, ",".join(["f"] * (filters > 1) + ["c"] * (channels > 1)) or None)
    delta = _dilated(_delta_latex(l, "f" if filters > 1 else None), layer.stride)
    padded = _padded(entry_latex(source, "c" if channels > 1 else None), layer.padding)

    def weights(known):
        inputs = np.pad(known[source], [(0, 0)] + [(p, p) for p in layer.padding])
        upstream = _dilate(known[gradient_key(Z)], layer.stride)
        window = tuple(slice(0, k) for k in layer.size)  # where the input has rows no window reached
        return np.array([[_correlate(inputs[c], upstream[f])[window] for c in range(channels)]
                         for f in range(filters)])
    rules = [Rule(W, rf"{_dloss(weight)} = {padded} \star {delta}", weights)]
    if layer.bias:
        axes = list("ij"[:len(layer.size)])
        bias = entry_latex(b, "f" if filters > 1 else None)
        rules.append(Rule(b, rf"{_dloss(bias)} = \sum_{{{','.join(axes)}}} "
                             rf"{_delta_latex(l, ','.join(['f'] * (filters > 1) + axes))}",
                          lambda known: known[gradient_key(Z)].reshape(filters, -1).sum(axis=1)))
    return rules


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _dilate(array: np.ndarray, stride) -> np.ndarray:
    """``(C, *spatial)`` with ``s - 1`` zeros put between neighbouring entries along each axis."""
    result = np.zeros((array.shape[0], *[s * (n - 1) + 1 for s, n in zip(stride, array.shape[1:])]))
    result[(slice(None), *[slice(None, None, s) for s in stride])] = array
    return result


def _correlate(data: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The valid cross-correlation ``out_i = sum_o kernel_o data_{i+o}`` (any number of axes)."""
    out = [n - k + 1 for n, k in zip(data.shape, kernel.shape)]
    return sum(kernel[o] * data[tuple(slice(oi, oi + n) for oi, n in zip(o, out))] for o in np.ndindex(*kernel.shape))
