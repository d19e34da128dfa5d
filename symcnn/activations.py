r"""Every activation and every loss as one row: what each stage of the pipeline needs to know of it.

A row says, side by side, the SymPy rule (its derivative is SymPy's, so that the conventions of
:mod:`symcnn.functions` hold, ``ReLU'(0) = 0``), the same derivative written in the output
``a = f(z)`` (what the numba kernels compute), the NumPy code the compiled backends print, the
numba kernel's branch, the LaTeX and plain-text names, the words of the spec's summary, the
names the answer parser reads and the words of verify's mistakes.  Adding an activation is
adding a row (and, when SymPy has no such function, its class in :mod:`symcnn.functions`, an
``ActivationBase`` that the printers write from its row, and a branch of the numba kernels in
:mod:`symcnn.compile.loops`); ``tests/test_activations.py`` checks that every stage agrees with
every row.  The losses likewise: the rule, the forward pass's LaTeX line, the numba kernel,
whether ``y`` holds class labels and whether the output is read through a softmax.

=========  ==============  =======================  ========================  =============
name       rule ``f(z)``   ``f'`` in ``a = f(z)``   LaTeX                     words
=========  ==============  =======================  ========================  =============
none       ``z``           ``1``                                              no activation
relu       ``ReLU(z)``     ``1[a > 0]``             ``\operatorname{ReLU}``   ReLU
sigmoid    ``Sigmoid(z)``  ``a (1 - a)``            ``\sigma``                sigmoid
tanh       ``tanh(z)``     ``1 - a^2``              ``\tanh``                 tanh
=========  ==============  =======================  ========================  =============

The rules are written as SymPy code and read when first used: :mod:`symcnn.spec` reads the
names and words of this table without loading SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Activation:
    """One activation ``A^l = f(Z^l)``, entry by entry.

    ``rule`` and ``slope_in_output`` are SymPy code in ``z`` and ``a`` (:mod:`symcnn.functions`'
    names and SymPy's); ``numpy`` is NumPy code with ``{z}`` for the argument; ``slope_latex`` is
    LaTeX with ``{z}``; ``latex`` and ``text`` are the function's name (empty for the identity).
    """

    name: str                  # the spec's key
    words: str                 # the spec's summary and the worked example's headings
    rule: str                  # f(z), SymPy
    slope_in_output: str       # f'(z) written in a = f(z), SymPy: the numba kernels' formula
    latex: str                 # \operatorname{ReLU}
    text: str                  # ReLU, as ``symcnn show`` prints it
    slope_latex: str           # f'(z) as verify's mistakes name it
    output_slope_words: str    # f' in A, as the mistake "derivative taken at A" explains it ("" if none)
    numpy: str                 # f(z), NumPy
    kernel: int                # the branch of :mod:`symcnn.compile.loops` that computes it
    commands: tuple[str, ...] = ()  # LaTeX commands an answer may write it with
    letters: tuple[str, ...] = ()   # plain names an answer may write it with (any case)
    exact: bool = True         # rational at rational points: answers are compared exactly
    kink: bool = False         # f' jumps at 0: the compiled model measures how close a point comes to it

    def function(self, z):
        """``f(z)`` for a SymPy expression (or a number) ``z``."""
        return _lambda(self.rule, "z")(z)

    def slope(self, z):
        """``f'(z)``: SymPy's derivative of the rule."""
        return _slope(self.rule)(z)

    def slope_of_output(self, a):
        """``f'`` at the point whose output is ``a``."""
        return _lambda(self.slope_in_output, "a")(a)

    def numpy_slope(self, z):
        """``f'(z)`` on a NumPy array: :attr:`slope_in_output` at ``a = f(z)`` (:attr:`numpy`)."""
        return _numpy_slope(self.numpy, self.slope_in_output)(z)


@dataclass(frozen=True)
class Loss:
    r"""The loss ``L(A^L, y)`` of one sample.

    ``rule`` is SymPy code in ``a`` and ``y`` (the entries ``vec(A^L)_k`` and ``y_k``), ``k``
    and ``K`` (the sum's index and the number of outputs); ``latex`` is the forward pass's
    line with ``{A}`` (the output), ``{probability}`` (the softmax's entry ``k``, as the course
    writes it) and ``{K}``, and ``latex_single`` the same for one output (``None``: as ``latex``).
    """

    name: str
    rule: str
    latex: str
    latex_single: str | None
    kernel: str                # the function of :mod:`symcnn.compile.loops` that computes it
    labels: bool               # targets are class labels: integer ``y``, predictions by argmax, accuracy
    softmax: bool              # the output's gradient is softmax(Z^L) - y, written so
    metric: str                # what training reports on the test set
    exact: bool = True         # rational at rational points

    def expression(self, a, y, k, K):
        """The rule with ``a``, ``y`` the indexed entries, ``k`` the bound index, ``K`` its end."""
        import sympy

        from .indexed import LogSumExpOver
        return sympy.sympify(self.rule, locals={"a": a, "y": y, "k": k, "K": K, "LogSumExpOver": LogSumExpOver})


ACTIVATIONS = {row.name: row for row in (
    Activation("none", "no activation", rule="z", slope_in_output="1", latex="", text="", slope_latex="1",
               output_slope_words="", numpy="{z}", kernel=0),
    Activation("relu", "ReLU", rule="ReLU(z)", slope_in_output="Heaviside(a, 0)", latex=r"\operatorname{ReLU}",
               text="ReLU", slope_latex=r"\mathbb{{1}}[{z} > 0]", output_slope_words="", numpy="numpy.maximum({z}, 0)",
               kernel=1, commands=(r"\relu", r"\ReLU"), letters=("relu",), kink=True),
    Activation("sigmoid", "sigmoid", rule="Sigmoid(z)", slope_in_output="a*(1 - a)", latex=r"\sigma", text="sigma",
               slope_latex=r"\sigma'({z})", output_slope_words="A(1 - A)",
               numpy="(0.5 * (1 + numpy.tanh(0.5 * ({z}))))", kernel=2, commands=(r"\sigma",),
               letters=("sigmoid", "sigma"), exact=False),
    Activation("tanh", "tanh", rule="tanh(z)", slope_in_output="1 - a**2", latex=r"\tanh", text="tanh",
               slope_latex=r"1 - \tanh^2({z})", output_slope_words="1 - A^2", numpy="numpy.tanh({z})", kernel=3,
               commands=(r"\tanh",), letters=("tanh",), exact=False),
)}

LOSSES = {row.name: row for row in (
    Loss("squared", rule="Sum((a - y)**2, (k, 1, K))",
         latex=r"\sum_{{k=1}}^{{{K}}} \left({A}_{{k}} - y_{{k}}\right)^{{2}}",
         latex_single=r"\left({A} - y\right)^{{2}}", kernel="squared", labels=False, softmax=False,
         metric="squared error"),
    Loss("cross_entropy", rule="LogSumExpOver(a, (k, 1, K)) - Sum(y*a, (k, 1, K))",
         latex=r"-\sum_{{k=1}}^{{{K}}} y_{{k}} \log {probability}",
         latex_single=None, kernel="cross_entropy", labels=True, softmax=True, metric="accuracy", exact=False),
)}


def activation_of(function) -> Activation:
    """The row whose rule applies ``function``, a SymPy function class (``ReLU``, ``tanh``)."""
    return _by_function()[function]


@cache
def _by_function() -> dict:
    """The rows by the SymPy function their rule applies (the identity applies none)."""
    return {_lambda(row.rule, "z").expr.func: row for row in ACTIVATIONS.values() if row.rule != "z"}


@cache
def _lambda(code: str, variable: str):
    """``code`` as a SymPy ``Lambda`` of ``variable``, read once."""
    import sympy

    from . import functions
    x = sympy.Symbol(variable)
    return sympy.Lambda(x, sympy.sympify(code, locals={**vars(functions), variable: x}))


@cache
def _numpy_slope(function: str, slope_in_output: str):
    """``z -> f'(z)`` in NumPy from ``f``'s NumPy code and ``f'`` written in ``a = f(z)``."""
    import numpy
    import sympy
    a = sympy.Symbol("a")
    slope = sympy.lambdify(a, sympy.sympify(slope_in_output, locals={"a": a}), "numpy")
    f = eval("lambda z: " + function.format(z="z"), {"numpy": numpy})  # the row's own code, as the engine prints it
    return lambda z: slope(f(z)) * numpy.ones_like(z)


@cache
def _slope(code: str):
    import sympy
    z = _lambda(code, "z").variables[0]
    return sympy.Lambda(z, sympy.diff(_lambda(code, "z").expr, z))
