r"""Large networks: an answer checked at every entry at once, in extended-precision floats.

Entry by entry (:mod:`.compare`), the exact value of one LeNet-5 gradient entry reaches
through the whole network (``\delta^1`` sums over every path to the loss): the 2400 entries of
``dloss/dW^3`` took minutes.  From :data:`LARGE` entries on (or with ``exact=False``), verify

1. reads the named gradients an answer writes (``\delta^l``, ``dloss/dA^l``) as entries of
   their own, as the general formulas do (:meth:`Formula.at(named=True)
   <symcnn.derive.general.Formula.at>`);
2. draws a point and evaluates the network there layer by layer from the general formulas,
   every tensor and every named gradient one array (:class:`PointValues`): ``X`` and ``y``
   (a one-hot class) at random, weights of variance ``1/fan-in`` so that no layer saturates;
   ReLU kinks and pooling ties between positive values have probability 0;
3. evaluates the expected formula and the answer on the whole grid of the answer's free
   indices at once (:mod:`.evaluate`: an entry is a gather, a sum a loop over its variable),
   and compares them entry by entry.

Values are ``numpy.longdouble`` (a 64-bit mantissa on x86-64; float64 where it is not
wider).  An entry differs where ``|expected - given| > TOLERANCE * scale``, ``scale`` the
largest absolute value of either over the grid at that point and ``TOLERANCE`` 10^4 machine
epsilons (1.1e-15 on x86-64): rounding of LeNet-5's sums stays below 1e-17 of it, while a
mistake (a term missing, an index shifted, a factor forgotten) moves entries by a sizeable
part of it.  A difference below the tolerance is not seen; this is the one place
where a verdict rests on floats, and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..activations import LOSSES
from ..errors import LatexError, SymcnnError
from ..indexed import base_name, tensor
from ..notation import parse_symbol
from ..parse.indexed import Entry
from ..parse.tables import canonical_index, layer_formula
from .compare import Counterexample
from .evaluate import FLOAT, GridEvaluation, gather, index_values
from .report import Deferred, EntryResult, LazyEntries

LARGE = 5000        # entries of Z^l, A^l together from which a network is checked here
MANY = 10000        # entries of one answer from which it is checked here, whatever the network's size
TOLERANCE = float(1e4 * np.finfo(FLOAT).eps)  # of the largest value over the grid: 1.1e-15 on x86-64 (2.2e-12 in float64)
GRID_POINTS = 4     # points drawn at most (``--points`` lower still)


class PointValues:
    """The network at one random point: every tensor and named gradient as an array of its
    full-rank shape (see the module doc), evaluated from the general formulas."""

    def __init__(self, net, rng: np.random.Generator, course_output: str | None):
        self.net, self.general = net, net.general
        self.course_output = course_output  # "A<L>" read as softmax(Z^L) in the answer
        self.probabilities: np.ndarray | None = None  # softmax(Z^L), the answer's A^L then
        self.arrays: dict[str, np.ndarray] = {}
        self.shown: dict[str, np.ndarray] = {}  # the drawn inputs, for a counterexample
        self.tables: _AnswerTables | None = None  # the answer's tables at this point (GridChecker sets them)
        self._draw(rng)
        self.formulas = GridEvaluation(self._read_formula, self._symbol)
        self.answers = GridEvaluation(self._read_answer, self._symbol)
        flow = [name for name in net.flow[1:] if name != "L"]
        for name in flow:
            formula = self.general.own(name)
            self.arrays[name] = self.on_grid(formula.expression, formula.of_indices, net.shape(name))
        for name in reversed(flow):
            named = self.general.named(name)
            if named is not None and "L" in net.flow:
                formula = self.general.own("L", name)
                sizes = self.general.index_sizes(name, formula.flat[1])
                self.arrays[named] = self.on_grid(formula.expression, formula.wrt_indices, sizes).reshape(
                    net.shape(name))
        if course_output:
            self.probabilities = _softmax(self.arrays[course_output])

    def _draw(self, rng):
        net, shapes = self.net, self.net.spec.shapes()
        for name, shape in shapes.items():
            full = net.shape(name)
            if name == "y" and shape == ():  # a class label, one-hot
                label = int(rng.integers(math.prod(full)))
                values = np.zeros(full, dtype=FLOAT)
                values.flat[label] = 1
                self.shown[name] = np.array(label)  # a class, 0-based as the exact route shows it
            else:
                values = rng.standard_normal(full).astype(FLOAT) / math.sqrt(_fan_in(net, name))
                self.shown[name] = values.astype(float)
            self.arrays[name] = values

    def on_grid(self, expression, indices, sizes) -> np.ndarray:
        grid = np.indices(tuple(sizes)) + 1
        values = self.formulas(expression, dict(zip(indices, grid)))
        return np.broadcast_to(np.asarray(values, dtype=FLOAT), tuple(sizes)).copy()

    # -- reading entries -------------------------------------------------------------------------

    def _read_formula(self, e, subscripts):
        """A formula's ``Indexed`` entry: the derivation's own values (``A^L`` the logits)."""
        name = base_name(e)
        if name.startswith("vec("):
            return gather(self.arrays[name[4:-1]].reshape(-1), subscripts)
        return gather(self.arrays[name], subscripts)

    def _read_answer(self, e, subscripts):
        if isinstance(e, sympy.Indexed):  # a named gradient written with numbers
            return self._read_formula(e, subscripts)
        return self.tables.read(e.args[0].name, subscripts, self.answers.within)

    def _symbol(self, symbol):
        """A network entry written with numbers (padding: 0); ``A^L`` the logits, as after the
        answer's softmax convention was applied (:mod:`.softmax`)."""
        ref = parse_symbol(symbol.name)
        if ref is None or ref.tensor not in self.arrays:
            raise SymcnnError(f"the answer kept a symbol the network does not have: {symbol}")
        return gather(self.arrays[ref.tensor], self.full(ref.tensor, [np.asarray(i) for i in ref.index]))

    def full(self, name: str, written: list) -> list:
        """Written subscripts (the kept axes) -> full-rank ones (1 on the others)."""
        kept, written = self.general.kept(name), iter(written)
        return [next(written) if k else 1 for k in kept]

    def tensor(self, name: str, answer: bool) -> np.ndarray:
        """A tensor's values; in the answer's reading (``answer``) ``A^L`` may be the softmax."""
        return self.probabilities if answer and name == self.course_output else self.arrays[name]


def _softmax(logits: np.ndarray) -> np.ndarray:
    exps = np.exp(logits - logits.max())
    return exps / exps.sum()


def _fan_in(net, name: str) -> int:
    """How many terms a weight's product meets in a sum (1 for ``X``, ``y`` and biases)."""
    if name in ("X", "y") or name.startswith("b"):
        return 1
    shape = net.shape(name)
    layer = net.spec.layers[net.layer_of(name) - 1]
    return math.prod(shape[1:]) if layer.type == "conv" else shape[0]


@dataclass
class GridResult:
    """Whether each entry agrees at every point; where one first did not, and the two values there."""

    right: np.ndarray      # per entry
    point: np.ndarray      # the first point where it differs (-1: none)
    expected: np.ndarray   # the values at that point
    given: np.ndarray
    points: list

    def counterexample(self, k: int) -> Counterexample | None:
        if self.right[k]:
            return None
        return Counterexample(self.points[self.point[k]].shown, sympy.Float(str(self.expected[k]), 19),
                              sympy.Float(str(self.given[k]), 19))


class GridChecker:
    """Points drawn once and kept for every step of an answer (see the module doc)."""

    def __init__(self, net, reader, points: int, seed: int, deadline, course_output: str | None):
        self.net, self.reader, self.deadline = net, reader, deadline
        self.limit = min(points, GRID_POINTS)
        self.rng = np.random.default_rng(seed)
        self.course_output = course_output
        self.points: list[PointValues] = []

    def point(self, k: int) -> PointValues:
        while len(self.points) <= k:
            self.deadline.doing = "evaluating the network at a random point"
            point = PointValues(self.net, self.rng, self.course_output)
            point.tables = _AnswerTables(self.net, self.reader, point)
            self.points.append(point)
        return self.points[k]

    def compare(self, expected, given, count: int) -> GridResult:
        """``expected(point)``, ``given(point)``: arrays of ``count`` values each."""
        right, first = np.ones(count, dtype=bool), np.full(count, -1)
        at_expected, at_given = np.zeros(count, dtype=FLOAT), np.zeros(count, dtype=FLOAT)
        for k in range(self.limit):
            self.deadline.check()
            point = self.point(k)
            with np.errstate(all="ignore"):  # an answer's log(-1) or 1/0 is a wrong value, not a warning
                e = np.broadcast_to(np.asarray(expected(point), dtype=FLOAT), (count,))
                g = np.broadcast_to(np.asarray(given(point), dtype=FLOAT), (count,))
            if not np.all(np.isfinite(e)):
                raise SymcnnError("the expected values overflowed at a random point; check this answer with "
                                  "exact=True (the Python API)")
            finite = np.isfinite(g)  # an answer that overflows or divides by 0 where the expected does not is wrong
            scale = max(float(np.max(np.abs(e), initial=0)), float(np.max(np.abs(np.where(finite, g, 0)), initial=0)))
            differ = ~finite | (np.abs(e - np.where(finite, g, 0)) > TOLERANCE * scale)
            new = differ & right
            first[new], at_expected[new], at_given[new] = k, e[new], g[new]
            right &= ~differ
            if not right.any():
                break
        return GridResult(right, first, at_expected, at_given, self.points)

    def check_entries(self, target, step, value, variables: list, ranges: dict, of_index: tuple, wrt_index: tuple,
                      shown_given) -> LazyEntries:
        """An answer's entry (``value``, free in ``variables``) at every value of its indices at
        once; each :class:`EntryResult` is made when the report asks (``shown_given(assignment)``
        writes an entry out where :func:`shown_answer` cannot)."""
        of, wrt, net = target.of, target.wrt, self.net
        of_index = of_index if of in (None, "L") or self.reader.tables.axes(of) else ()  # A^2_1 is A^2
        wrt_index = wrt_index if wrt in (None, "L") or self.reader.tables.axes(wrt) else ()
        axes = [np.arange(ranges[v][0], ranges[v][1] + 1) for v in variables]
        grid = [a.reshape(-1) for a in np.meshgrid(*axes, indexing="ij")] if axes else []
        values = dict(zip(variables, grid))
        count = len(grid[0]) if grid else 1
        subscripts = [np.broadcast_to(index_values(i, values), (count,)) for i in (*of_index, *wrt_index)]
        split = len(of_index)
        cell = lambda k: (tuple(int(s[k]) for s in subscripts[:split]), tuple(int(s[k]) for s in subscripts[split:]))
        missing = self._missing(of, subscripts[:split]) | self._missing(wrt, subscripts[split:])
        if np.any(missing):
            raise self.reader.error(step.at, f"the left-hand side names {target.label(*cell(np.argmax(missing)))}, "
                                             "which the network does not have")
        formula = layer_formula(net, of, wrt)

        def given(point):
            try:
                return point.answers(value, values)
            except LatexError as error:
                raise self.reader.error(step.at, str(error)) from None
        found = self.compare(lambda point: point.tables.derivative(of, wrt, subscripts), given, count)

        def shown(assignment):
            written = shown_answer(value.xreplace({v: sympy.Integer(k) for v, k in assignment.items()}), net)
            return shown_given(assignment) if written is None else written

        def make(k):
            oi, wi = cell(k)
            assignment = {v: int(a[k]) for v, a in values.items()}
            return EntryResult(target.label(oi, wi), bool(found.right[k]),
                               Deferred(lambda: shown_formula(net, formula, oi, wi)), Deferred(lambda: shown(assignment)),
                               found.counterexample(k))
        return LazyEntries(found.right, make)

    def check_cells(self, target, cells: list) -> list[EntryResult]:
        """The entries of a whole matrix, ``(of index, wrt index, given, label)`` each: the
        expected ones at once from the tables, the given ones one by one."""
        split = len(cells[0][0])
        subscripts = [np.array([c[0] for c in cells], dtype=int).reshape(len(cells), -1)[:, a] for a in range(split)]
        subscripts += [np.array([c[1] for c in cells], dtype=int).reshape(len(cells), -1)[:, a]
                       for a in range(len(cells[0][1]))]
        formula = layer_formula(self.net, target.of, target.wrt)
        found = self.compare(lambda point: point.tables.derivative(target.of, target.wrt, subscripts),
                             lambda point: [point.answers(given, {}) for _, _, given, _ in cells], len(cells))
        return [EntryResult(label, bool(found.right[k]), Deferred(lambda oi=oi, wi=wi: shown_formula(self.net, formula, oi, wi)),
                            given, found.counterexample(k)) for k, (oi, wi, given, label) in enumerate(cells)]

    def _missing(self, tensor, subscripts) -> np.ndarray:
        """Where written subscripts name no entry of ``tensor``."""
        if tensor in (None, "L") or not subscripts:
            return np.zeros((), dtype=bool)
        ranges = self.reader.tables.ranges(tensor)
        if len(ranges) != len(subscripts):  # a single entry written with index 1
            return np.asarray([not (len(subscripts) == 1 and int(s) == 1) for s in subscripts[0]])
        missing = np.zeros(len(subscripts[0]), dtype=bool)
        for s, (low, high) in zip(subscripts, ranges):
            missing |= (s < low) | (s > high)
        return missing


def shown_answer(value, net):
    """An answer's value at one entry as written, its sums kept: each entry of a tensor or a
    named gradient as an ``Indexed`` (``A^2_{1,i,j}``, ``\\delta^3_{1,i,j}``) for printing;
    None when it reads another table (then it is shown written out)."""
    mapping = {}
    for entry in value.atoms(Entry):
        key = entry.args[0].name
        if key.startswith("T"):
            name = key[1:]
        elif key.startswith("DL/") and net.general.named(key[3:]) is not None:
            name = net.general.named(key[3:])
        else:
            return None
        mapping[entry] = tensor(name)[entry.args[1:]]
    return value.xreplace(mapping)


def shown_formula(net, formula, of_index: tuple, wrt_index: tuple):
    """The general formula at one entry, its sums kept (``sum_{i,j} A^2_{1,i,j} delta^3_{1,i,j}``)."""
    written = canonical_index(net, formula.of, of_index) + canonical_index(net, formula.wrt, wrt_index)
    full = net.general.full_index(formula.of, written, formula.flat[0], formula.wrt, formula.flat[1])
    return formula.expression.xreplace({i: sympy.Integer(v) for i, v in zip(formula.indices, full)})


class _AnswerTables:
    """The values of an answer's tables (``scope.tables``, by key) at one point, vectorised:
    tensors, derivatives (their general formulas on the grid; a named gradient its array) and
    the prediction; indices outside a tensor read 0 and are noted, as entry by entry."""

    def __init__(self, net, reader, point: PointValues):
        self.net, self.reader, self.point = net, reader, point
        self._padded: dict = {}
        self._gradients: dict = {}

    def read(self, key: str, subscripts: list, within=True):
        """The entries at ``subscripts``; ``within``: where the sums around them count (a sum
        whose limits depend on an index is evaluated over its widest range), the only points
        whose indices outside the tensor are noted."""
        table = self.reader.scope.tables[key]
        subscripts = np.broadcast_arrays(*[np.asarray(s) for s in subscripts]) if subscripts else []
        inside = np.ones(subscripts[0].shape if subscripts else (), dtype=bool)
        for s, (low, high) in zip(subscripts, self._ranges(key, table)):
            inside &= (low <= s) & (s <= high)
        missing = ~inside & np.asarray(within)
        if np.any(missing):
            self._note_outside(table, [np.broadcast_to(s, missing.shape) for s in subscripts], missing)
        point = self.point
        if key.startswith("T"):
            name = key[1:]
            values = gather(point.tensor(name, answer=True), point.full(name, subscripts))
        elif key.startswith("D"):
            of, wrt = key[1:].split("/")
            values = self.derivative(of, None if wrt == "None" else wrt, subscripts)
        else:  # the prediction
            values = self._prediction(subscripts)
        return np.where(inside, values, FLOAT(0))

    def _ranges(self, key: str, table):
        """The table's written ranges; a tensor's grown by its padding (0 there, not outside)."""
        if key not in self._padded:  # once per table: padding_symbols takes 20 ms on LeNet-5's A^4
            if not key.startswith("T") or not self.net.padding_symbols(key[1:]):
                self._padded[key] = table.ranges
            else:
                written = [parse_symbol(s.name).index for s in self.net.symbol_array(key[1:], padded=True).flat]
                self._padded[key] = [(min(i[a] for i in written), max(i[a] for i in written))
                                     for a in range(len(table.ranges))]
        return self._padded[key]

    def derivative(self, of: str, wrt: str | None, subscripts):
        """``d(of)/d(wrt)`` at written subscripts (``of``'s, then ``wrt``'s): a named gradient's
        array, else the general formula evaluated on them."""
        general, point = self.net.general, self.point
        if of == "L" and wrt is not None:  # a gradient: the whole tensor once per point, then gathered
            return gather(self._gradient(wrt), point.full(wrt, subscripts))
        split = general.kept(of).count(True) if of != "L" else 0
        formula = layer_formula(self.net, of, wrt)
        full = []
        for name, flat, written in ((of, formula.flat[0], subscripts[:split]), (wrt, formula.flat[1], subscripts[split:])):
            if name in (None, "L"):
                continue
            entry = point.full(name, written)
            if flat:
                steps = [math.prod(self.net.shape(name)[a + 1:]) for a in range(len(entry))]
                entry = [sum((np.clip(i, 1, None) - 1) * s for i, s in zip(entry, steps)) + 1]
            full += [np.clip(i, 1, None) for i in entry]
        return point.formulas(formula.expression, dict(zip(formula.indices, full)))

    def _gradient(self, wrt: str) -> np.ndarray:
        """``dloss/d(wrt)`` in ``wrt``'s shape: its named gradient, or its general formula."""
        if wrt not in self._gradients:
            named = self.net.general.named(wrt)
            if named is not None:
                self._gradients[wrt] = self.point.arrays[named]
            else:
                formula = layer_formula(self.net, "L", wrt)
                sizes = self.net.general.index_sizes(wrt, formula.flat[1])
                self._gradients[wrt] = self.point.on_grid(formula.expression, formula.wrt_indices, sizes).reshape(
                    self.net.shape(wrt))
        return self._gradients[wrt]

    def _prediction(self, subscripts):
        point, last = self.point, f"A{len(self.net.spec.layers)}"
        output = point.arrays[last]
        if self.net.spec.loss is not None and LOSSES[self.net.spec.loss].softmax:
            output = _softmax(output)
        return gather(output, point.full("y", subscripts))

    def _note_outside(self, table, subscripts, missing):
        for position in np.argwhere(missing)[:8]:
            at = ",".join(str(int(s[tuple(position)])) for s in subscripts)
            self.reader.scope.outside.add(f"{table.latex}_{{{at}}}")
