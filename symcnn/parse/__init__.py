r"""Read LaTeX in the course's notation into SymPy (latex2sympy2 underneath, in :mod:`.reader` only).

A walk over the tokens (:mod:`.source`, :mod:`.walk`) replaces every piece of the notation by a
placeholder symbol ``\xi_{N}`` bound to its SymPy meaning; latex2sympy2 then parses the
arithmetic that is left (``+ - \cdot \frac``, powers, matrices, ``\sum``), and the
placeholders are substituted.  What the walk reads:

- tensors ``W^1_2``, ``W_2^1``, ``W^{(1)}_{2}``, ``W^{[1]}_2``, ``W^L``, bias ``W^1_0`` (``b^1``),
  ``X_{i+k-2}``, ``Z^1_{f,i,j}``, ``A^0 = X``, ``y_k``, ``\hat y`` (the prediction), ``\delta^l_i``
  (``dL/dZ^l_i``), ``\mathbf{W}``; a tensor without indices is its column (row-major), a dense
  layer's weights of several units their matrix (:meth:`.tables.NetworkTables.whole`);
- derivatives ``\frac{\partial L}{\partial W^1_k}``, ``\frac{dL}{dW^1}``, ``\partial L/\partial W^1``,
  ``\nabla_{W^1} L`` (``L``, ``\mathcal{L}``, ``\text{loss}``, ``\ell``, ``E``, ``J``): the derived value;
- sums ``\sum_{i=1}^{5}``, ``\sum_i`` (the range read from the spec), ``\sum_{i,j}``, ``\sum_{a,b=1}^{3}``,
  limits of the left-hand side's indices, ``\sum_{k=\max(1, j-3)}^{\min(3, j+1)}``;
- steps ``\mathbb{1}[Z > 0]`` (``\mathbf``, ``\mathds``, ``\mathbbm``; ``[..]``, ``\{..\}``,
  ``(..)``, ``_{..}``; ``1_{..}``, ``\chi_{..}``, Iverson's ``[Z > 0]``), ``\mathbb{1}[i = j]`` and
  ``\delta_{ij}``, ``\delta_{j,i+k-2}`` (Kronecker), the pooling argmax
  ``\mathbb{1}[X_1 = \max(X_1, X_2)]`` (the course's tie rule: the first maximum, with a note);
- a window's max and argmax with bound indices, ``\max_{1 \le a, b \le 2} A^1_{c,2i+a-2,2j+b-2}``,
  ``\mathbb{1}[(p, q) = \operatorname*{argmax}_{1 \le a, b \le 2} ..]`` (:mod:`.windows`);
- ranges after the formula, ``, \quad k = 1, 2, 3``, ``\qquad f = 1, 2,\quad i, j = 1, \dots, 4``
  (:mod:`.ranges`), and the notes symcnn prints there, each checked (:mod:`.notes`);
- names the answer gives formulas, ``e = A^2 - y``, ``g_i = 2(A^2-y) W^2_i u(Z^1_i)`` (:mod:`.names`),
  and facts about a function of one variable, ``\sigma'(z) = \sigma(z)(1 - \sigma(z))`` (:mod:`.facts`);
- a left-hand side named twice (``\delta^1_i = \frac{\partial L}{\partial Z^1_i} = ..``) and
  ``\frac{\partial L}{\partial \operatorname{vec}(A^2)_i}`` (:mod:`.answer`, :mod:`.tensors`);
- functions (see :mod:`.functions`), ``\operatorname{diag}``, tuples ``(a, b)^T``;
- ``^T``, ``^\top``; ``\left``, ``\bigl`` and friends; ``\odot``, ``\circ`` (entry by entry, also
  between matrix products, :meth:`.reader.Reader.value`, and in parentheses as one factor of a product);
  ``\boxed``, ``\overset``, ``\underbrace``, spacing.

Subscripts follow LaTeX: without braces a subscript is ONE token (``W^2_1X_0`` is
``W^2_1 X_0``, ``A^1_j`` is entry ``j``).  A digit or a non-tensor letter glued to such a
one-token script (``X_12``, ``A^1_jk``) is refused as ambiguous, never guessed.  Anything
else is a :class:`~symcnn.errors.LatexError` naming the line and column of the piece.

The stage, module by module: :mod:`.source` (text, math regions, lines, tokens with positions)
-> :mod:`.walk` (pieces: :mod:`.tensors`, :mod:`.operators`, :mod:`.windows`, :mod:`.scripts`,
:mod:`.indices`)
-> :mod:`.reader` (latex2sympy2, placeholders) -> :mod:`.answer` (equations, left-hand sides,
the range clause read by :mod:`.ranges` and :mod:`.notes`);
:mod:`.tables` are the network's tensors and derivatives as the answer indexes them and
:mod:`.indexed` instantiates index variables and sums.
"""

from .answer import Equation, Quantity, Step, parse_latex, read_answer
from .reader import Reader

__all__ = ["Equation", "Quantity", "Reader", "Step", "parse_latex", "read_answer"]
