r"""Counting weights, as on the seed's slides ("How many weights (including bias)? 4"; a dense
layer with 10 inputs and 10 outputs has ``10 x 11 = 110``).

A small network of convolutions, max poolings and dense layers; the answer is one number per
layer, biases included:

    conv:     F (C k_1 ... k_d + 1)     F filters of size k_1 x ... x k_d over C channels
    dense:    (n + 1) m                 n inputs (the previous output flattened), m units
    max pool: 0

(``+ 1`` only with a bias).  The counts are computed here from these formulas and checked
against symcnn's own (:meth:`~symcnn.spec.Spec.parameter_counts`) in the tests.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from ..latex import shape_latex
from ..verify.mistakes import Mistake
from .kind import Kind, Redraw, draw_input, input_words
from .sheet import expressions_latex, heading, math as display, text


def count(layer, bias=None, channels=None, filters=None) -> int:
    """The weights of one layer (spec layer), with what a mistake forgets overridden."""
    bias = layer.bias if bias is None else bias
    if layer.type == "maxpool":
        return 0
    if layer.type == "dense":
        return (math.prod(layer.in_shape) + bias) * layer.units
    channels = layer.in_shape[0] if channels is None else channels
    filters = layer.filters if filters is None else filters
    return filters * (channels * math.prod(layer.size) + bias)


class WeightCount(Kind):
    name = "weight-count"
    title = "Counting weights"
    numeric = True
    defaults = {"dims": "1,2", "size": "8..16", "side": "6..10", "channels": "1..3", "filter": "2..5",
                "padding": "0..1", "filters": "1..6", "window": "2", "units": "2..12", "layers": "2..3",
                "bias": "true,false"}

    def draw(self, rng, ranges):
        dims, shape = draw_input(rng, ranges, ranges.draw("channels", rng))
        total = ranges.draw("layers", rng)
        types = ["conv"] + [None] * (total - 2) + (["dense"] if total > 1 else [])
        for l in range(1, total - 1):
            types[l] = "conv" if types[l - 1] == "maxpool" else ["conv", "maxpool"][int(rng.integers(2))]
        layers = []
        for kind in types:
            if kind == "conv":
                layers.append({"type": "conv", "filters": ranges.draw("filters", rng), "size": ranges.draw("filter", rng),
                               "padding": ranges.draw("padding", rng), "bias": ranges.draw("bias", rng)})
            elif kind == "maxpool":
                layers.append({"type": "maxpool", "size": ranges.draw("window", rng)})
            else:
                layers.append({"type": "dense", "units": ranges.draw("units", rng), "bias": ranges.draw("bias", rng)})
        if not any(layer.get("bias") for layer in layers) and total > 1:
            raise Redraw("no layer has a bias: the bias would not be asked about")
        return {"input": shape, "dims": dims, "layers": layers}, "weights", None, None

    def expected(self, variant):
        return np.array([[sympy.Integer(count(layer)) for layer in variant.network.spec.layers]], dtype=object)

    def labels(self, variant):
        return [f"layer {l} ({layer.type})" for l, layer in enumerate(variant.network.spec.layers, start=1)]

    def placeholder(self, variant):
        return "(" + ", ".join("..." for _ in variant.spec["layers"]) + "): one count per layer"

    def numbers_latex(self, variant, values):
        values = np.ravel(values)
        return str(values[0]) if len(values) == 1 else expressions_latex(sympy.Matrix(list(values)))

    def answer(self, variant):
        return self.numbers_latex(variant, self.expected(variant))

    def mistakes(self, variant):
        layers = variant.network.spec.layers
        convs = [layer for layer in layers if layer.type == "conv"]
        found = []

        def counts(rule):
            return np.array([[sympy.Integer(rule(layer)) for layer in layers]], dtype=object)
        if any(layer.bias for layer in layers):
            found.append((Mistake("bias-forgotten", "the biases are not counted",
                                  "each filter and each unit has its own bias $W_0$: count it"),
                          counts(lambda layer: count(layer, bias=False))))
        if any(layer.in_shape[0] > 1 for layer in convs):
            found.append((Mistake("channels-forgotten", "a filter is counted over one channel only",
                                  r"a filter spans every input channel: $C k_1 \cdots k_d$ weights"),
                          counts(lambda layer: count(layer, channels=1) if layer.type == "conv" else count(layer))))
        if any(layer.filters > 1 for layer in convs):
            found.append((Mistake("filters-forgotten", "only one filter is counted",
                                  "every filter of the bank has its own weights and bias"),
                          counts(lambda layer: count(layer, filters=1) if layer.type == "conv" else count(layer))))
        found.append((Mistake("no-weight-sharing", "a convolution is counted as a fully connected layer",
                              "a filter's weights are shared by every output position"),
                      counts(lambda layer: _dense_count(layer) if layer.type == "conv" else count(layer))))
        if any(layer.type == "maxpool" for layer in layers):
            found.append((Mistake("pooling-weights", "the max pooling is given weights",
                                  "a max pooling has no weights: it only takes each window's largest entry"),
                          counts(lambda layer: math.prod(layer.size) if layer.type == "maxpool" else count(layer))))
        if any(layer.type == "dense" and layer.bias and math.prod(layer.in_shape) != layer.units for layer in layers):
            found.append((Mistake("bias-per-input", "a dense layer counted as $n (m + 1)$ instead of $(n + 1) m$",
                                  "one bias per output unit: $(n + 1) m$ for $n$ inputs and $m$ units"),
                          counts(lambda layer: math.prod(layer.in_shape) * (layer.units + 1)
                                 if layer.type == "dense" and layer.bias else count(layer))))
        return found

    def question(self, variant):
        spec = variant.network.spec
        lines = [f"Layer {l}: {_layer_words(layer, spec.dims)}." for l, layer in enumerate(spec.layers, start=1)]
        asked = ("How many weights (biases included) does each layer have?" if len(lines) > 1
                 else "How many weights (biases included) does the layer have?")
        form = ("Answer with one number per layer, in order (0 for a layer without weights): a list "
                r"$(n_1, n_2, \dots)$ or a column (bmatrix)."
                if len(lines) > 1 else "Answer with one number.")
        return ([text(f"A network reads an input of {input_words(spec.input_shape, spec.dims)}"
                      + (f" ({spec.input_shape[0]} channel{'s' if spec.input_shape[0] > 1 else ''})." if spec.dims == 2
                         else "."))]
                + [text(line) for line in lines] + [text(asked), text(form)])

    def solution(self, variant):
        spec = variant.network.spec
        blocks = [heading("Layer by layer")]
        for l, layer in enumerate(spec.layers, start=1):
            blocks += [text(f"Layer {l} reads ${shape_latex(layer.in_shape)}$ and outputs ${shape_latex(layer.out_shape)}$:"),
                       display(_count_latex(layer))]
        total = sum(count(layer) for layer in spec.layers)
        blocks += [text(f"In total {total} weights."), display(self.answer(variant))]
        return blocks


def _dense_count(layer) -> int:
    """A conv layer counted as if every input met every output with its own weight."""
    return math.prod(layer.in_shape) * math.prod(layer.out_shape) + layer.bias * math.prod(layer.out_shape)


def _layer_words(layer, dims: int) -> str:
    size = shape_latex(layer.size) if layer.type != "dense" else ""
    bias = "with a bias" if layer.bias else "without bias"
    if layer.type == "conv":
        return (f"a convolution with {layer.filters} filter{'s' if layer.filters > 1 else ''} of size ${size}$, "
                f"stride 1, zero padding {layer.padding[0]}, {bias}")
    if layer.type == "maxpool":
        return f"a max pooling of size ${size}$ and stride {layer.stride[0]}"
    return f"a dense layer with {layer.units} units, {bias}"


def _count_latex(layer) -> str:
    r"""The count with its numbers: ``4 \times (3 \cdot 3 \cdot 3 + 1) = 112``."""
    if layer.type == "maxpool":
        return r"0 \quad \text{(a max pooling has no weights)}"
    plus = " + 1" if layer.bias else ""
    if layer.type == "dense":
        n = math.prod(layer.in_shape)
        return (rf"({n}{plus}) \times {layer.units} = {count(layer)}" if layer.bias
                else rf"{n} \times {layer.units} = {count(layer)}")
    factors = r" \cdot ".join(map(str, (layer.in_shape[0], *layer.size)))
    return rf"{layer.filters} \times ({factors}{plus}) = {count(layer)}"
