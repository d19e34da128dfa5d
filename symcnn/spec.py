"""Network specs: TOML files, dicts or a builder -> one frozen, validated :class:`Spec`.

This module knows the shape arithmetic and nothing of SymPy.  Shapes are written
``(channels, *spatial)``: ``(1, 5)`` for the seed's 5x1 input, ``(C, H, W)`` in 2D.  A dense
layer's shape is ``(units,)``.  Per axis, a convolution or pooling window of size ``k``,
stride ``s`` and zero padding ``p`` maps an input of length ``n`` to

    n_out = floor((n + 2p - k) / s) + 1        (pooling: p = 0)

Layers are numbered ``l = 1..L`` in spec order, as in the notation ``W^l, Z^l, A^l``.  Every
error is a :class:`~symcnn.errors.SpecError` whose one-line message names the source and key.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .activations import ACTIVATIONS, LOSSES
from .errors import SpecError
LAYER_KEYS = {
    "conv": ("type", "filters", "size", "stride", "padding", "bias", "activation"),
    "maxpool": ("type", "size", "stride"),
    "dense": ("type", "units", "bias", "activation"),
}
TOP_KEYS = ("title", "input", "dims", "loss", "layers", "values")


@dataclass(frozen=True)
class Conv:
    """Convolution (cross-correlation) with ``filters`` output channels.

    ``in_shape = (C, *n)`` and ``out_shape = (filters, *n_out)``; the weights have shape
    ``(filters, C, *size)`` and the bias ``W_0^l`` shape ``(filters,)``.
    """

    filters: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    bias: bool
    activation: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    type: str = field(default="conv", init=False)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.filters, self.in_shape[0], *self.size)


@dataclass(frozen=True)
class MaxPool:
    """Max pooling of each channel separately, with no weights and no padding."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    type: str = field(default="maxpool", init=False)
    activation: str = field(default="none", init=False)
    bias: bool = field(default=False, init=False)


@dataclass(frozen=True)
class Dense:
    """Fully connected layer ``Z = (W^l)^T A^{l-1} + W_0^l`` on the flattened input.

    The weights have shape ``(inputs, units)`` and the bias shape ``(units,)``.
    """

    units: int
    bias: bool
    activation: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    type: str = field(default="dense", init=False)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (math.prod(self.in_shape), self.units)


Layer = Conv | MaxPool | Dense


@dataclass(frozen=True)
class Spec:
    """A validated network: input shape, layers with their shapes, loss and optional values.

    ``input_shape`` is ``(C, *spatial)``; ``loss`` is ``"squared"``, ``"cross_entropy"`` or
    ``None`` (a forward-only network, such as a worked example).  ``values`` maps tensor
    names (``"X"``, ``"W1"``, ``"b1"``, ``"y"``) to arrays in their :meth:`shapes`.
    """

    input_shape: tuple[int, ...]
    dims: int
    layers: tuple[Layer, ...]
    loss: str | None
    values: dict = field(default_factory=dict, compare=False)
    title: str = ""
    source: str = "<python>"

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{"W1": (F, C, k), "b1": (F,), ...}`` in layer order, the layout of ``params``."""
        shapes = {}
        for l, layer in enumerate(self.layers, start=1):
            if layer.type == "maxpool":
                continue
            shapes[f"W{l}"] = layer.weight_shape
            if layer.bias:
                shapes[f"b{l}"] = (layer.out_shape[0],)
        return shapes

    def parameter_counts(self) -> dict[int, int]:
        """Number of weights (biases included) of each layer ``l``; pooling layers have 0.

        A size-3 filter with bias on one channel has 4; a dense 10 -> 10 layer 110.
        """
        shapes = self.parameter_shapes()
        return {
            l: sum(math.prod(shapes[n]) for n in (f"W{l}", f"b{l}") if n in shapes)
            for l in range(1, len(self.layers) + 1)
        }

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """One sample of ``X`` as the spec file gives it: ``(5,)`` for ``input = [5]``,
        ``(C, H, W)`` with channels; ``input_shape`` always has the channel axis."""
        return self.input_shape[1:] if self.input_shape[0] == 1 else self.input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape

    @property
    def class_labels(self) -> bool:
        """Whether ``y`` holds class labels (cross entropy), as the loss's row says."""
        return self.loss is not None and LOSSES[self.loss].labels

    def target_shape(self) -> tuple[int, ...]:
        """Shape of one sample's ``y``: ``(K,)`` for squared loss, ``()`` (a class label) for
        cross entropy."""
        if self.class_labels:
            return ()
        return (math.prod(self.output_shape),)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every tensor that takes values: ``X``, the parameters and ``y``."""
        shapes = {"X": self.input_shape, **self.parameter_shapes()}
        if self.loss is not None:
            shapes["y"] = self.target_shape()
        return shapes


def read_spec(path: str | Path) -> Spec:
    """Read and validate a TOML spec file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SpecError(f"{path}: cannot read the spec file ({error.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise SpecError(f"{path}: line {line}: not UTF-8 text (byte 0x{raw[error.start]:02x}); "
                        "TOML files are UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: not valid TOML: {error}") from None
    return parse_spec(data, source=str(path))


def parse_spec(data: dict, source: str = "<python>") -> Spec:
    """Validate a spec given as a dict (the TOML file's structure) and work out every shape."""
    where = _Where(source)
    if not isinstance(data, dict):
        raise where.error("", f"a spec is a table of keys (input, layers, ...), got {data!r}")
    _reject_unknown(data, TOP_KEYS, where, "")
    if "input" not in data:
        raise where.error("input", "missing key (the input shape, e.g. input = [5])")
    given = _int_list(data["input"], where, "input", lengths=(1, 2, 3))
    dims = data.get("dims", 1 if len(given) == 1 else 2)
    if dims not in (1, 2) or isinstance(dims, bool):
        raise where.error("dims", f"must be 1 or 2, got {dims!r}")
    if len(given) not in (dims, dims + 1):
        raise where.error("input", f"{list(given)} does not fit dims = {dims}: "
                          f"expected {'[n] or [channels, n]' if dims == 1 else '[h, w] or [channels, h, w]'}")
    input_shape = given if len(given) == dims + 1 else (1, *given)

    loss = data.get("loss")
    if loss is not None and loss not in tuple(LOSSES):  # a tuple: the TOML value may be unhashable
        raise where.error("loss", f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}"
                          + _suggest(loss, LOSSES))
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise where.error("layers", "missing or empty: a network needs at least one [[layers]] table")

    layers, shape = [], input_shape
    for l, raw in enumerate(raw_layers, start=1):
        layer = _parse_layer(raw, shape, dims, where.layer(l, raw))
        layers.append(layer)
        shape = layer.out_shape
    if loss is not None and LOSSES[loss].labels and math.prod(shape) < 2:
        raise where.error("loss", f"{loss} needs at least 2 outputs (classes), "
                          f"the last layer has {math.prod(shape)}")
    spec = Spec(tuple(input_shape), dims, tuple(layers), loss,
                title=str(data.get("title", "")), source=source)
    return Spec(spec.input_shape, dims, spec.layers, loss, _parse_value_table(data.get("values"), spec, where),
                spec.title, source)


class Sequential:
    """Build a spec in Python, layer by layer, with the same checks as a spec file.

    >>> spec = (Sequential(input=[5]).conv(size=3, padding=1, bias=False, activation="relu")
    ...         .dense(units=1, bias=False).loss("squared").spec())
    """

    def __init__(self, input, dims: int | None = None, title: str = ""):
        self._data = {"input": list(input), "layers": [], "title": title}
        if dims is not None:
            self._data["dims"] = dims

    def conv(self, **keys) -> Sequential:
        return self._add("conv", keys)

    def maxpool(self, **keys) -> Sequential:
        return self._add("maxpool", keys)

    def dense(self, **keys) -> Sequential:
        return self._add("dense", keys)

    def loss(self, name: str) -> Sequential:
        self._data["loss"] = name
        return self

    def values(self, **arrays) -> Sequential:
        self._data.setdefault("values", {}).update(arrays)
        return self

    def spec(self) -> Spec:
        return parse_spec(self._data)

    def _add(self, kind: str, keys: dict) -> Sequential:
        if "loss" in self._data:
            l = len(self._data["layers"]) + 1
            raise SpecError(f"<python>: layer {l} ({kind}): added after the loss "
                            f"{self._data['loss']!r}; the loss must come last")
        self._data["layers"].append({"type": kind, **keys})
        return self


class _Where:
    """Where in the spec we are, for error messages: ``file: layer 2 (dense): units: ...``."""

    def __init__(self, source: str, prefix: str = ""):
        self.source, self.prefix = source, prefix

    def layer(self, l: int, raw) -> _Where:
        kind = raw.get("type", "?") if isinstance(raw, dict) else "?"
        return _Where(self.source, f"layer {l} ({kind}): ")

    def error(self, key: str, message: str) -> SpecError:
        return SpecError(f"{self.source}: {self.prefix}{key + ': ' if key else ''}{message}")


def _parse_layer(raw, in_shape, dims, where: _Where) -> Layer:
    if not isinstance(raw, dict):
        raise where.error("", f"must be a table of keys, got {raw!r}")
    kind = raw.get("type")
    if kind is None:
        raise where.error("type", "missing key; expected one of conv, maxpool, dense")
    if not isinstance(kind, str) or kind not in LAYER_KEYS:
        raise where.error("type", f"unknown layer type {kind!r}; expected one of conv, maxpool, dense"
                          + _suggest(kind, tuple(LAYER_KEYS)))
    _reject_unknown(raw, LAYER_KEYS[kind], where, "")
    if kind != "dense" and len(in_shape) == 1:
        raise where.error("", f"a {kind} layer needs a spatial input, but it follows a dense layer")
    if kind == "dense":
        units = _positive_int(_required(raw, "units", where), where, "units")
        return Dense(units, _bool(raw.get("bias", True), where, "bias"),
                     _activation(raw, where), tuple(in_shape), (units,))

    size = _per_axis(_required(raw, "size", where), dims, where, "size")
    spatial = in_shape[1:]
    if kind == "maxpool":
        stride = _per_axis(raw.get("stride", list(size)), dims, where, "stride")
        _check_window(size, spatial, (0,) * dims, where, "window")
        out = _out_size(spatial, size, stride, (0,) * dims)
        return MaxPool(size, stride, tuple(in_shape), (in_shape[0], *out))

    filters = _positive_int(raw.get("filters", 1), where, "filters")
    stride = _per_axis(raw.get("stride", 1), dims, where, "stride")
    padding = _per_axis(raw.get("padding", 0), dims, where, "padding", minimum=0)
    _check_window(size, spatial, padding, where, "filter")
    out = _out_size(spatial, size, stride, padding)
    return Conv(filters, size, stride, padding, _bool(raw.get("bias", True), where, "bias"),
                _activation(raw, where), tuple(in_shape), (filters, *out))


def _out_size(spatial, size, stride, padding) -> tuple[int, ...]:
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(spatial, size, stride, padding))


def _check_window(size, spatial, padding, where, what):
    padded = tuple(n + 2 * p for n, p in zip(spatial, padding))
    if any(k > n for k, n in zip(size, padded)):
        adjective = "padded input" if any(padding) else "input"
        raise where.error("size", f"{what} {format_shape(size)} is larger than the {adjective} {format_shape(padded)}")


def format_shape(sizes) -> str:
    """``(3, 3) -> "3x3"``."""
    return "x".join(map(str, sizes))


def plural(count: int, noun: str) -> str:
    """``1 filter``, ``8 filters``, ``1 unit``, ``61,706 weights``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def describe(layer: Layer, shape=format_shape) -> str:
    """A layer in words, ``shape`` formatting its sizes: ``8 filters of size 3x3, stride 1,
    padding 1, bias, ReLU``; ``1 unit, no bias, no activation``."""
    if layer.type == "maxpool":
        return f"size {shape(layer.size)}, stride {_uniform(layer.stride, shape)}"
    if layer.type == "conv":
        text = (f"{plural(layer.filters, 'filter')} of size {shape(layer.size)}, "
                f"stride {_uniform(layer.stride, shape)}, padding {_uniform(layer.padding, shape)}")
    else:
        text = plural(layer.units, "unit")
    return f"{text}, {'bias' if layer.bias else 'no bias'}, {ACTIVATIONS[layer.activation].words}"


def _uniform(sizes, shape) -> str:
    """A stride or padding the same on every axis as one number, ``1``; otherwise ``2x1``."""
    return str(sizes[0]) if len(set(sizes)) == 1 else shape(sizes)


def _required(raw, key, where):
    if key not in raw:
        raise where.error(key, "missing key")
    return raw[key]


def _reject_unknown(raw, allowed, where, key):
    for name in raw:
        if name not in allowed:
            raise where.error(key + name, "unknown key" + _suggest(name, allowed))


def _suggest(word, options) -> str:
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _activation(raw, where) -> str:
    name = raw.get("activation", "none")
    if name not in tuple(ACTIVATIONS):
        raise where.error("activation", f"unknown activation {name!r}; expected one of "
                          f"{', '.join(ACTIVATIONS)}" + _suggest(name, ACTIVATIONS))
    return name


def _bool(value, where, key) -> bool:
    if not isinstance(value, bool):
        raise where.error(key, f"must be true or false, got {value!r}")
    return value


def _positive_int(value, where, key, minimum=1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise where.error(key, f"must be {kind}, got {value!r}")
    return value


def _int_list(value, where, key, lengths) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    if len(items) not in lengths:
        raise where.error(key, f"must list {' or '.join(map(str, lengths))} sizes, got {value!r}")
    return tuple(_positive_int(v, where, key) for v in items)


def _per_axis(value, dims, where, key, minimum=1) -> tuple[int, ...]:
    """An int for every axis, or a list of ``dims`` ints, e.g. ``3`` or ``[3, 3]``."""
    if isinstance(value, list):
        if len(value) != dims:
            raise where.error(key, f"must be an integer or a list of {dims}, got {value!r}")
        return tuple(_positive_int(v, where, key, minimum) for v in value)
    return (_positive_int(value, where, key, minimum),) * dims


def _parse_value_table(table, spec: Spec, where: _Where) -> dict:
    """The ``[values]`` table: all or nothing.  A worked example pushes numbers through the whole
    network, so it needs ``X``, every parameter and (with a loss) ``y``; a partial table is
    refused here, naming what is missing, rather than by the first stage that evaluates it."""
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise where.error("values", f"must be a table of arrays ([values] with X = [...], W1 = [...], ...), "
                                    f"got {table!r}")
    values = {name: _parse_values(name, v, spec, where) for name, v in table.items()}
    missing = [name for name in spec.shapes() if name not in values]
    if values and missing:
        raise where.error("values", "missing " + ", ".join(f"{n} (shape {spec.shapes()[n]})" for n in missing)
                          + "; a worked example needs X, every parameter" + (" and y" if spec.loss else "")
                          + ", or no [values] at all")
    return values


def _parse_values(name, raw, spec: Spec, where: _Where) -> np.ndarray:
    """Values of one tensor as an object array of int / Fraction / float in its full shape.

    A shape with its size-1 axes left out is accepted too (``W1 = [-1, 1, -1]`` for a
    ``(1, 1, 3)`` filter).  A class label ``y`` is an int in ``0 .. K-1``.
    """
    shapes = spec.shapes()
    key = f"values.{name}"
    if name not in shapes:
        raise SpecError(f"{where.source}: {key}: no such tensor takes values; expected one of "
                        f"{', '.join(shapes)}" + _suggest(name, tuple(shapes)))
    shape = shapes[name]
    if name == "y" and shape == ():
        classes = math.prod(spec.output_shape)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < classes:
            raise SpecError(f"{where.source}: {key}: a class label in 0..{classes - 1}, got {raw!r}")
        return np.array(raw, dtype=object)
    try:
        array = np.array(raw, dtype=object)
    except ValueError:
        raise SpecError(f"{where.source}: {key}: rows of unequal length") from None
    if array.shape != shape and array.shape != tuple(n for n in shape if n != 1):
        raise SpecError(f"{where.source}: {key}: shape {array.shape} does not fit "
                        f"{name}'s shape {shape}")
    flat = array.reshape(-1)
    for i, v in enumerate(flat):
        flat[i] = _number(v, f"{where.source}: {key}")
    return flat.reshape(shape)


def _number(value, where: str) -> int | float | Fraction:
    """A number from a spec: an int, a float, or an exact fraction written as a string ``"1/3"``."""
    if isinstance(value, str):
        try:
            return Fraction(value)
        except (ValueError, ZeroDivisionError):
            pass
    elif isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"{where}: entries must be finite numbers, got {value!r}")
    elif not isinstance(value, bool) and isinstance(value, (int, float, Fraction)):
        return value
    raise SpecError(f"{where}: entries must be numbers (or fractions such as \"1/3\"), got {value!r}")
