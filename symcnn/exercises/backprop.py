r"""Backpropagation exercises, asked and checked symbolically: ``dZ^l/dW^l``, ``delta^l`` and
``dloss/dW^l``, as on the seed's last slide.

The network is the seed's pattern at sizes and options drawn from the settings: a convolution
(1D or 2D, padding, stride, an activation), optionally a max pooling, a dense layer to one
output and the squared loss.  What is right comes from symcnn's derivation; answers are
checked by :func:`symcnn.verify.verify`, in any notation it reads.  The forms:

- ``matrix``: the whole Jacobian (the seed's 3 x 5 ``dZ^1/dW^1`` with ``X_0`` and ``X_6``)
  or the column ``delta^l``, in the course's layout;
- ``product``: ``dloss/dW^l`` as the chain rule's factors written out and multiplied;
- ``index``: the general formula for one entry, every named gradient it uses defined too
  (``delta^2 = 2 (A^2 - y)``, ``delta^1_i = ...``, ``dloss/dW^1_k = \sum_i ...``).

The form asked for is kept when it can be: a matrix larger than :data:`WRITTEN` rows or columns
is asked in index form instead, and an index form that would need a flattened tensor
(``vec(A^1)_i``, which answers cannot write) as the whole matrix or column, entry by entry.
Every variant's right answer is checked to read back as right before it is handed out.
"""

from __future__ import annotations

import sympy

from ..derive.display import shown
from ..indexed import base_name
from ..latex import NotationPrinter, chain_latex, formula_parts, forward_latex, jacobian_matrix, partial
from ..errors import SymcnnError
from ..network import Network
from ..notation import named_gradient
from ..spec import parse_spec
from ..verify import verify
from ..verify.mistakes import chain, mutations, product_of
from .kind import Kind, Redraw, draw_input, input_words
from .sheet import entry_labels, expressions_latex, heading, math, text
from .variant import Grading

WRITTEN = 12  # the most rows or columns of a matrix asked for (or shown) entry by entry


def draw_network(rng, ranges, loss: bool) -> dict:
    """A convolution (then a max pooling and a dense layer to one output, with ``loss``)."""
    dims, shape = draw_input(rng, ranges)
    layers = [{"type": "conv", "filters": ranges.draw("filters", rng), "size": ranges.draw("filter", rng),
               "stride": ranges.draw("stride", rng), "padding": ranges.draw("padding", rng)}]
    if loss:  # dZ/dW depends on neither
        layers[0].update(bias=ranges.draw("bias", rng), activation=ranges.draw("activation", rng))
    else:
        layers[0].update(bias=False)
    spec = {"input": shape, "dims": dims, "layers": layers}
    if loss:
        if ranges.draw("pool", rng):
            layers.append({"type": "maxpool", "size": 2})
        layers.append({"type": "dense", "units": 1, "bias": False})
        spec["loss"] = "squared"
    return spec


def equation_latex(formula) -> str:
    r"""A general formula as an answer writes it: ``\delta^{1}_{i} = ...`` for a named gradient
    (the derivative itself left out: an answer may not use what it defines), else
    ``\frac{\partial ...}{\partial ...} = ...``."""
    view = shown(formula)
    if view.named is None:
        return formula_parts(formula)[0]
    printer = NotationPrinter()
    return f"{printer.doprint(view.named)} = {printer.doprint(sympy.factor_terms(view.expression))}"


def definitions(net, formula) -> list:
    """The named gradients (``delta^l``, ``dloss/dA^l``) that ``formula`` uses, each after the
    ones it uses itself: from the loss down, as backpropagation computes them."""
    found = []

    def visit(f):
        names = sorted({base_name(e) for e in f.expression.atoms(sympy.Indexed)
                        if named_gradient(base_name(e))}, key=lambda n: -named_gradient(n).layer)
        for name in names:
            used = net.formula("L", named_gradient(name))
            visit(used)
            if used not in found:
                found.append(used)
    visit(formula)
    return found


def _fits(net, names) -> bool:
    return all(name == "L" or net.symbol_array(name).size <= WRITTEN for name in names)


class _Backprop(Kind):
    """What the three kinds share: the form, the answer from the derivation, the solution's
    pieces, and the self-test's wrong answers from the verify stage's mistake catalogue."""

    loss = True

    def draw(self, rng, ranges):
        spec = draw_network(rng, ranges, self.loss)
        of, wrt = self.quantity(sum(layer["type"] == "conv" for layer in spec["layers"]))
        asked = ranges.draw("form", rng)
        net = Network(parse_spec(spec, "draw"))
        if asked != "index" and self.fits(net, of, wrt):
            return spec, of, wrt, asked
        readable = not any(f.flat[1] for f in definitions(net, net.formula(of, wrt)))
        return spec, of, wrt, "index" if readable else "matrix"

    def check(self, variant):
        """The right answer must read back as right (verify reads every form it is written in)."""
        try:
            report = verify(variant.network, self.answer(variant), wrt=variant.wrt, of=variant.of)
        except SymcnnError as error:
            raise Redraw(f"the right answer does not read back: {error}") from None
        if not report.correct:
            raise Redraw(f"the right answer does not check as right:\n{report}")

    def fits(self, net, of, wrt) -> bool:
        """Whether the matrices of the written form fit :data:`WRITTEN`."""
        return _fits(net, [of, wrt])

    def column(self, variant, shift: bool = False) -> str:
        """The whole matrix (or column), entry by entry; ``shift``: 1 added to every entry."""
        net, of, wrt = variant.network, variant.of, variant.wrt
        matrix = net.jacobian(of, wrt) if of != "L" else net.gradient(wrt)
        return f"{self.lhs(variant)} = {expressions_latex(matrix.applyfunc(lambda e: e + 1) if shift else matrix)}"

    def lhs(self, variant) -> str:
        return partial(variant.of, variant.wrt)

    def placeholder(self, variant) -> str:
        if variant.form == "index":
            return equation_latex(variant.network.formula(variant.of, variant.wrt)).split(" = ")[0] + " = ..."
        return f"{self.lhs(variant)} = \\begin{{bmatrix}} ... \\end{{bmatrix}}" + (
            r" \cdot ..." if variant.form == "product" else "")

    def shifted_answer(self, variant) -> str:
        """Index form: the last line's right side plus 1; else the matrix with 1 added to every entry."""
        return self.index_answer(variant, shift=True) if variant.form == "index" else self.column(variant, shift=True)

    def wrong_answers(self, variant):
        net, of, wrt = variant.network, variant.of, variant.wrt
        factors = chain(net, of, wrt)
        if factors is None:
            return []
        zeros = {s: sympy.S.Zero for s in net.padding_symbols()}
        expected = product_of(factors).xreplace(zeros if of == "L" else {})
        found = {}
        for mistake, mutated in mutations(net, factors):
            matrix = product_of(mutated).xreplace(zeros if of == "L" else {})
            if mistake.key in found or mistake.key in _no_change(net) or (matrix.shape == expected.shape and (matrix - expected).expand().is_zero_matrix):
                continue
            found[mistake.key] = f"{self.lhs(variant)} = {expressions_latex(matrix)}"
        if expected.rows != expected.cols:
            found["transposed"] = f"{self.lhs(variant)} = {expressions_latex(expected.T)}"
        return list(found.items())

    def forward_blocks(self, net) -> list:
        return [heading("The forward pass")] + [math(rf"{eq} \qquad {note}") for _, eq, note in forward_latex(net)]

    def formula_blocks(self, formulas) -> list:
        blocks = []
        for formula in formulas:
            equation, notes = formula_parts(formula)
            blocks.append(math(equation))
            if notes:
                blocks.append(text("where " + "; ".join(f"${n}$" for n in notes) + "."))
        return blocks

    def index_answer(self, variant, shift: bool = False) -> str:
        """The general formula, after the named gradients it uses; ``shift``: its right side plus 1."""
        formula = variant.network.formula(variant.of, variant.wrt)
        lines = [equation_latex(f) for f in definitions(variant.network, formula)] + [equation_latex(formula)]
        if shift:
            lhs, rhs = lines[-1].split(" = ", 1)
            lines[-1] = f"{lhs} = 1 + {rhs}"
        return lines[0] if len(lines) == 1 else r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


class Jacobian(_Backprop):
    name = "jacobian"
    title = "A convolution's Jacobian with respect to its weights"
    loss = False
    forms = ("matrix", "index")
    defaults = {"dims": "1", "size": "4..7", "side": "3..4", "filter": "2..3", "padding": "0..1",
                "stride": "1..2", "filters": "1", "form": "matrix"}

    def quantity(self, layer):
        return f"Z{layer}", f"W{layer}"

    def answer(self, variant):
        return self.index_answer(variant) if variant.form == "index" else self.column(variant)

    def question(self, variant):
        net, layer = variant.network, variant.network.spec.layers[0]
        rows, cols = net.symbol_array(variant.wrt).size, net.symbol_array(variant.of).size
        asked = (rf"Write $\frac{{\partial Z^{{1}}}}{{\partial W^{{1}}}}$ as a ${rows} \times {cols}$ matrix in the "
                 "course's layout (a row per weight, a column per output). Padding entries may be written "
                 r"as their symbols ($X_0$, ...) or as $0$."
                 if variant.form == "matrix" else
                 "Write the general entry of $\\partial Z^{1}/\\partial W^{1}$ in index form, "
                 "valid for every index, e.g. $\\frac{\\partial Z^1_i}{\\partial W^1_k} = \\dots$")
        return [text(f"A convolution reads the input $X$ ({_words(net)}) with {layer.filters} filter(s) "
                     f"of size {'x'.join(map(str, layer.size))}, stride {layer.stride[0]} and zero padding "
                     f"{layer.padding[0]}:"),
                math(equation_latex(net.formula(variant.of))), text(asked + " Answer in LaTeX.")]

    def solution(self, variant):
        net, of, wrt = variant.network, variant.of, variant.wrt
        blocks = [heading("The forward rule")] + self.formula_blocks([net.formula(of)])
        blocks += [text("Differentiating by a weight leaves the input entry that the weight multiplies:")]
        blocks += self.formula_blocks([net.formula(of, wrt)])
        if _fits(net, [of, wrt]):
            blocks += [text("As a matrix, a row per weight and a column per output (padding boxed):"),
                       math(f"{partial(of, wrt)} = {jacobian_matrix(net, of, wrt)}")]
        return blocks


class Delta(_Backprop):
    name = "delta"
    title = "Backpropagation: delta of a convolution"
    forms = ("matrix", "index")
    defaults = {"dims": "1", "size": "4..6", "side": "3", "filter": "2..3", "padding": "0..1", "stride": "1..2",
                "filters": "1", "bias": "false,true", "activation": "relu", "pool": "false", "form": "matrix"}

    def quantity(self, layer):
        return "L", f"Z{layer}"

    def fits(self, net, of, wrt):
        return _fits(net, [wrt])

    def grading(self, variant):
        """``delta^l`` may be written in terms of the next layer's named gradient."""
        formula = variant.network.formula(variant.of, variant.wrt)
        used = definitions(variant.network, formula)
        return Grading(allowed_derivatives=tuple(("L", f.wrt) for f in used[-1:]))

    def answer(self, variant):
        return self.index_answer(variant) if variant.form == "index" else self.column(variant)

    def question(self, variant):
        net = variant.network
        l = variant.wrt[1:]
        asked = (rf"Write $\delta^{{{l}}} = \partial\,\mathrm{{loss}}/\partial Z^{{{l}}}$ as a column "
                 f"({net.symbol_array(variant.wrt).size} entries)" if variant.form == "matrix" else
                 rf"Write $\delta^{{{l}}}_i = \partial\,\mathrm{{loss}}/\partial Z^{{{l}}}_i$ in index form")
        return ([text(f"The network reads $X$ ({_words(net)}):")] + self.forward_blocks(net)[1:]
                + [text(asked + ", in the network's symbols (X, W, Z, A, y); you may use the next layer's "
                        "delta if you define it. Answer in LaTeX.")])

    def solution(self, variant):
        net = variant.network
        formula = net.formula(variant.of, variant.wrt)
        blocks = self.forward_blocks(net) + [heading("Backpropagation, from the loss down")]
        blocks += self.formula_blocks(definitions(net, formula) + [formula])
        if _fits(net, [variant.wrt]):
            column = expressions_latex(net.gradient(variant.wrt), entry_labels(net, variant.wrt), WRITTEN)
            blocks += [text("Written out:"), math(f"{partial('L', variant.wrt)} = {column}")]
        return blocks


class Gradient(_Backprop):
    name = "gradient"
    title = "Backpropagation: the gradient of the loss"
    forms = ("product", "index")
    defaults = {**Delta.defaults, "form": "product"}

    def quantity(self, layer):
        return "L", f"W{layer}"

    def fits(self, net, of, wrt):
        return _fits(net, [n for step in net.derivation.chain_steps(wrt) for n in step])

    def answer(self, variant):
        if variant.form != "product":
            return self.index_answer(variant) if variant.form == "index" else self.column(variant)
        factors = variant.network.chain(variant.wrt).factors
        return f"{self.lhs(variant)} = " + r" \cdot ".join(expressions_latex(f.matrix, max_size=WRITTEN) for f in factors)

    def question(self, variant):
        net = variant.network
        steps = net.derivation.chain_steps(variant.wrt)
        asked = {"product": "Write the gradient of the loss by the chain rule, each factor as a matrix in the "
                            "course's layout, multiplied as on the slides:",
                 "index": "Write the gradient of the loss for one weight in index form, with every delta you "
                          "use defined too:",
                 "matrix": "Write the gradient of the loss as a column, one entry per weight:"}[variant.form]
        return ([text(f"The network reads $X$ ({_words(net)}):")] + self.forward_blocks(net)[1:]
                + [text(asked), math(chain_latex(net, variant.wrt, steps)),
                   text("In the network's symbols (X, W, Z, A, y); padding entries may be written as their "
                        "symbols or as 0. Answer in LaTeX.")])

    def solution(self, variant):
        net, wrt = variant.network, variant.wrt
        steps = net.derivation.chain_steps(wrt)
        blocks = self.forward_blocks(net) + [heading("The chain rule"), math(chain_latex(net, wrt, steps))]
        if _fits(net, [n for step in steps for n in step]):
            factors = r" \cdot ".join(jacobian_matrix(net, f.of, f.wrt) for f in net.chain(wrt).factors)
            column = expressions_latex(net.gradient(wrt), entry_labels(net, wrt), WRITTEN)
            blocks += [text("Each factor written out (padding boxed):"), math(f"{partial('L', wrt)} = {factors}"),
                       text("Multiplied, with the padding set to 0:"), math(f"{partial('L', wrt)} = {column}")]
        formula = net.formula("L", wrt)
        blocks += [heading("In index form, for every size")] + self.formula_blocks(definitions(net, formula) + [formula])
        return blocks


def _no_change(net) -> set[str]:
    """The catalogue's mistakes that are no mistake in this network: a ReLU followed by a max
    pooling passes gradient only to window maxima, positive away from ties (where answers are
    checked), so ReLU' = 1 wherever it matters and leaving it out changes nothing."""
    layers = net.spec.layers
    relu_then_pool = any(a.activation == "relu" and b.type == "maxpool" for a, b in zip(layers, layers[1:]))
    return {"activation-derivative-dropped"} if relu_then_pool else set()


def _words(net) -> str:
    return input_words(net.spec.input_shape, net.spec.dims)
