r"""Forward exercises with numbers: a convolution's output and a max pooling's output.

As on the seed's slides: a 1D or 2D input (numbers), a filter bank with its bias, padding and
stride, "after convolution" ``Z^1`` or "after convolution & ReLU" ``A^1``; a max pooling of a
map with window ``size`` and ``stride``.  The right numbers come from symcnn's exact forward
pass (:meth:`~symcnn.graph.Graph.evaluate`); each typical mistake is the same pass with one
thing changed (the filter flipped, the padding or the stride ignored, the ReLU or the bias
forgotten) or, for pooling, a window rule computed here from the windows themselves.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from ..activations import ACTIVATIONS
from ..latex import formula_parts, shape_latex, tensor_latex, to_latex
from ..network import Network
from ..verify.mistakes import Mistake
from .kind import Kind, Redraw, draw_input, draw_integers, input_words, maps_latex
from .sheet import heading, math, number, products, text, values_latex
from .variant import Variant


class ConvOutput(Kind):
    name = "conv-output"
    title = "The output of a convolution"
    numeric = True
    defaults = {"dims": "1,2", "size": "4..7", "side": "3..5", "channels": "1", "filter": "2..3",
                "padding": "0..1", "stride": "1..2", "filters": "1..2", "values": "-2..2",
                "activation": "relu,none", "bias": "false,true"}

    def draw(self, rng, ranges):
        activation = ranges.draw("activation", rng)
        if not ACTIVATIONS[activation].exact:
            exact = " or ".join(name for name, row in ACTIVATIONS.items() if row.exact)
            raise Redraw(f"activation {activation}: the outputs of a conv-output exercise are exact numbers ({exact})")
        channels = ranges.draw("channels", rng)
        dims, shape = draw_input(rng, ranges, channels)
        k, filters = ranges.draw("filter", rng), ranges.draw("filters", rng)
        layer = {"type": "conv", "filters": filters, "size": k, "stride": ranges.draw("stride", rng),
                 "padding": ranges.draw("padding", rng), "bias": ranges.draw("bias", rng), "activation": activation}
        values = {"X": draw_integers(rng, ranges, [channels] + shape[-dims:]),
                  "W1": draw_integers(rng, ranges, [filters, channels] + [k] * dims)}
        if layer["bias"]:
            values["b1"] = draw_integers(rng, ranges, [filters])
        spec = {"input": shape, "dims": dims, "layers": [layer], "values": values}
        return spec, "A1" if activation == "relu" else "Z1", None, None

    def expected(self, variant):
        return np.asarray(variant.network.evaluate()[variant.of], dtype=object)

    def labels(self, variant):
        return [tensor_latex(variant.of) + _subscript(s.name) for s in variant.network.symbol_array(variant.of).flat]

    def placeholder(self, variant):
        layer = variant.spec["layers"][0]
        if variant.spec["dims"] == 2 and layer["filters"] > 1:
            return f"{tensor_latex(variant.of)}_{{1}} = \\begin{{bmatrix}} ... \\end{{bmatrix}}, one line per filter"
        return super().placeholder(variant)

    def numbers_latex(self, variant, values):
        return maps_latex(variant.of, values)

    def answer(self, variant):
        return self.numbers_latex(variant, self.expected(variant))

    def mistakes(self, variant):
        net, spec = variant.network, variant.spec
        layer, values = spec["layers"][0], spec["values"]
        found = []
        if layer["size"] > 1:
            flipped = np.flip(np.asarray(values["W1"]), axis=tuple(range(2, 2 + spec["dims"]))).tolist()
            found.append((Mistake("filter-flipped", "the filter is flipped: a convolution instead of the course's "
                                  "cross-correlation", r"$Z_i = \sum_k W_k X_{i+k-1-p}$: the filter is not reversed"),
                          _evaluate(spec, {"values": {**values, "W1": flipped}}, variant.of)))
        if layer["padding"]:
            found.append((Mistake("padding-ignored", f"the zero padding ({layer['padding']} on each side) is left out",
                                  "pad the input with zeros first: the output has the padded input's windows"),
                          _evaluate(spec, {"layer": {"padding": 0}}, variant.of)))
        if layer["stride"] > 1:
            found.append((Mistake("stride-ignored", f"the stride {layer['stride']} is ignored (the filter moves by 1)",
                                  f"the filter moves by {layer['stride']} entries between outputs"),
                          _evaluate(spec, {"layer": {"stride": 1}}, variant.of)))
        if layer["bias"]:
            found.append((Mistake("bias-missing", "the bias is not added", r"$Z_i = \sum_k W_k X_{\dots} + b$"),
                          _evaluate(spec, {"values": {**values, "b1": [0] * len(values["b1"])}}, variant.of)))
        if layer["activation"] == "relu":
            found.append((Mistake("relu-missing", r"the ReLU is not applied: $Z^{1}$ instead of $A^{1} = \operatorname{ReLU}(Z^{1})$",
                                  "after the convolution, negative outputs become 0"),
                          np.asarray(net.evaluate()["Z1"], dtype=object)))
        return found

    def question(self, variant):
        net, layer = variant.network, variant.spec["layers"][0]
        X = net.evaluate()["X"]
        blocks = [text(f"A convolutional layer reads the input $X$ ({input_words(net.spec.input_shape, variant.spec['dims'])}). "
                       f"It has {_count(layer['filters'], 'filter')} of size {_size_words(layer['size'], variant.spec['dims'])}, "
                       f"stride {layer['stride']} and zero padding {layer['padding']} on each side"
                       + (", with a bias" if layer["bias"] else ", without bias") + "."),
                  math(f"X = {values_latex(X)}"), math(_filters_latex(net))]
        asked = (r"the output after convolution and ReLU, $A^{1} = \operatorname{ReLU}(Z^{1})$"
                 if variant.of == "A1" else "the output of the convolution, $Z^{1}$")
        blocks.append(text(f"Compute {asked}. Convolution is cross-correlation, as in the course: "
                           r"$Z_i = \sum_k W_k X_{(i-1)s+k-p}$ (per axis in 2D), plus the bias."))
        blocks.append(text(_answer_format(variant, net)))
        return blocks

    def solution(self, variant):
        net, layer = variant.network, variant.spec["layers"][0]
        values = net.evaluate()
        equation, notes = formula_parts(net.formula("Z1"))
        blocks = [heading("The rule"), math(equation), text(_notes(notes))]
        padded = net.substitute(net.symbol_array("X", padded=True))
        if layer["padding"]:
            blocks += [text("The input with its zero padding:"), math(rf"X = {values_latex(padded)}")]
        first = net.expr("Z1")[0]
        pairs = [(net.substitute(w), net.substitute(x)) for w, x in _products(first)]
        bias = "".join(f" + {number(net.substitute(t), True)}" for t in first.args if not isinstance(t, sympy.Mul)) \
            if isinstance(first, sympy.Add) else ""
        entry = tensor_latex("Z1") + _subscript(net.symbol_array("Z1").flat[0].name)
        blocks += [text("The first output, its window times the filter:"),
                   math(f"{entry} = {products(pairs)}{bias} = {number(values['Z1'].flat[0])}"),
                   text("Every output likewise:"), math(maps_latex("Z1", values["Z1"]))]
        if variant.of == "A1":
            blocks += [text("After the ReLU (negative outputs become 0):"), math(self.answer(variant))]
        return blocks


class PoolOutput(Kind):
    name = "pool-output"
    title = "The output of a max pooling"
    numeric = True
    defaults = {"dims": "1,2", "size": "6..9", "side": "4..6", "window": "2..3", "stride": "1..3", "values": "0..9"}

    def draw(self, rng, ranges):
        dims, shape = draw_input(rng, ranges)
        window, stride = ranges.draw("window", rng), ranges.draw("stride", rng)
        if stride > window:
            raise Redraw(f"stride {stride} larger than the window {window}: entries would be skipped")
        spec = {"input": shape, "dims": dims, "layers": [{"type": "maxpool", "size": window, "stride": stride}],
                "values": {"X": draw_integers(rng, ranges, shape)}}
        return spec, "A1", None, None

    def expected(self, variant):
        return np.asarray(variant.network.evaluate()["A1"], dtype=object)

    def labels(self, variant):
        return [tensor_latex("A1") + _subscript(s.name) for s in variant.network.symbol_array("A1").flat]

    def numbers_latex(self, variant, values):
        return maps_latex("A1", values)

    def answer(self, variant):
        return self.numbers_latex(variant, self.expected(variant))

    def mistakes(self, variant):
        layer, X = variant.spec["layers"][0], variant.network.evaluate()["X"]
        window, stride = layer["size"], layer["stride"]
        found = [(Mistake("average-pooling", "the average of each window instead of its largest entry",
                          "max pooling keeps the largest entry of each window"), _pool(X, window, stride, _mean)),
                 (Mistake("min-pooling", "the smallest entry of each window instead of the largest",
                          "max pooling keeps the largest entry of each window"), _pool(X, window, stride, min))]
        if stride != 1:
            found.append((Mistake("stride-ignored", f"the windows move by 1, not by the stride {stride}",
                                  f"with stride {stride} the next window starts {stride} entries later"),
                          _pool(X, window, 1, max)))
        if stride != window:
            found.append((Mistake("stride-is-window", f"the windows move by the window size {window}, not by the "
                                  f"stride {stride}", f"the stride is {stride}: windows overlap"),
                          _pool(X, window, window, max)))
        return found

    def question(self, variant):
        net, layer = variant.network, variant.spec["layers"][0]
        dims = variant.spec["dims"]
        return [text(f"A max pooling layer of size {_size_words(layer['size'], dims)} and stride {layer['stride']} "
                     f"reads the map $X$ ({input_words(net.spec.input_shape, dims)}):"),
                math(f"X = {values_latex(net.evaluate()['X'])}"),
                text("Compute its output $A^{1}$ (each window's largest entry; no padding)."),
                text(_answer_format(variant, net))]

    def solution(self, variant):
        net, layer = variant.network, variant.spec["layers"][0]
        X = net.evaluate()["X"][0]
        equation, notes = formula_parts(net.formula("A1"))
        first = X[tuple(slice(0, layer["size"]) for _ in range(variant.spec["dims"]))]
        entry = tensor_latex("A1") + _subscript(net.symbol_array("A1").flat[0].name)
        window = ", ".join(number(v) for v in np.ravel(first))
        return [heading("The rule"), math(equation), text(_notes(notes)),
                text(f"The first window is the first {_size_words(layer['size'], variant.spec['dims'])} entries "
                     f"(top left); each next window starts {layer['stride']} entries further on:"),
                math(rf"{entry} = \max\left({window}\right) = {number(np.max(first))}"),
                text("Every window likewise:"), math(self.answer(variant))]


def _evaluate(spec: dict, change: dict, of: str) -> np.ndarray:
    """The forward pass of ``spec`` with one thing changed (the layer's keys or the values)."""
    changed = {**spec, "layers": [{**spec["layers"][0], **change.get("layer", {})}],
               "values": change.get("values", spec["values"])}
    return np.asarray(Network(changed).evaluate()[of], dtype=object)


def _pool(X, window: int, stride: int, rule) -> np.ndarray:
    """Pooling of ``X`` ``(1, *spatial)`` by ``rule`` over each window, without symcnn."""
    spatial = X.shape[1:]
    counts = [(n - window) // stride + 1 for n in spatial]
    out = np.empty((1, *counts), dtype=object)
    for position in itertools.product(*map(range, counts)):
        cells = X[(0, *[slice(p * stride, p * stride + window) for p in position])]
        out[(0, *position)] = rule(list(np.ravel(cells)))
    return out


def _mean(values) -> sympy.Rational:
    return sympy.Rational(sum(values), len(values))


def _products(expression):
    """``(weight, input)`` of every product term of a conv output's expression."""
    terms = expression.args if isinstance(expression, sympy.Add) else (expression,)
    for term in terms:
        if isinstance(term, sympy.Mul):
            w, x = sorted(term.args, key=lambda s: not s.name.startswith("W"))
            yield w, x


def _subscript(name: str) -> str:
    """``"Z1_2,3"`` -> ``_{2,3}``; nothing for a single entry."""
    return f"_{{{name.split('_', 1)[1]}}}" if "_" in name else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}" if n != 1 else f"one {noun}"


def _size_words(size: int, dims: int) -> str:
    return f"${size}$" if dims == 1 else f"${size} \\times {size}$"


def _filters_latex(net) -> str:
    """Each filter (its channels side by side) with its bias: ``W^{1}_{f} = ..., W^{1}_{0,f} = ...``."""
    values = net.evaluate()
    W, count = values["W1"], values["W1"].shape[0]
    biases = list(net.symbol_array("b1").flat) if "b1" in values else []
    parts = []
    for f in range(count):
        name = tensor_latex("W1") + (f"_{{{f + 1}}}" if count > 1 else "")
        bias = rf", \quad {to_latex(biases[f])} = {number(values['b1'][f])}" if biases else ""
        parts.append(f"{name} = {values_latex(W[f])}{bias}")
    return r" \qquad ".join(parts)


def _notes(notes) -> str:
    return "; ".join(f"${n}$" for n in notes) + "." if notes else ""


def _answer_format(variant: Variant, net) -> str:
    """How to write the answer: one matrix, or one matrix per filter of a 2D layer."""
    shape = net.spec.layers[0].out_shape
    name = tensor_latex(variant.of)
    maps, spatial = shape[0], shape[1:]
    if len(spatial) == 2 and maps > 1:
        return (f"Answer in LaTeX with one ${shape_latex(spatial)}$ matrix per filter, one line each: "
                f"${name}_{{1}} = \\begin{{bmatrix}} \\dots \\end{{bmatrix}}$, then ${name}_{{2}} = \\dots$ "
                "(exact numbers).")
    form = (f"a ${shape_latex(spatial)}$ matrix" if len(spatial) == 2 else f"a row of {spatial[0]} numbers"
            if maps == 1 else f"a ${maps} \\times {spatial[0]}$ matrix, one row per filter")
    return (f"Answer in LaTeX with {form}: ${name} = \\begin{{bmatrix}} \\dots \\end{{bmatrix}}$ "
            "(exact numbers).")
