"""Derived gradients -> NumPy functions, vectorized over the batch, layer by layer.

Every layer is compiled from its derivation: the forward expressions and the local
vector-Jacobian products ``dL/dA^{l-1} = (dA^l/dA^{l-1}) dL/dA^l`` and
``dL/dW^l = (dA^l/dW^l) dL/dA^l`` that :mod:`symcnn.derive` differentiates, with the upstream
gradient ``dL/dA^l`` as symbols ``G_1, G_2, ...``.  Three backends share one call signature:

``"scalar"``
    ``sympy.lambdify`` (with common-subexpression elimination) of those expressions, every
    symbol standing for a ``(batch,)`` array: one NumPy call per scalar operation, the
    reference for small sizes.
``"array"``
    Compiled from the general formulas (:mod:`symcnn.derive.general`), never entry by entry:
    conv, dense and pooling layers use vectorized kernels (:mod:`symcnn.compile.kernels`) on index maps
    evaluated with NumPy from the derived general Jacobians (:mod:`symcnn.compile.indexmaps`); the
    activations, their derived derivatives and the loss and its gradient are lambdified from
    their index-form formulas, vectorized over the batch and the entries.
``"numba"`` (default)
    The array backend's index maps run as compiled loop nests (:mod:`symcnn.compile.numba_backend`),
    with activations and loss checked against the derived ones: the fastest at every size.

The loss is the mean over the batch of the per-sample loss ``L``.

The modules: :mod:`~symcnn.compile.model` (the compiled model and its input checks),
:mod:`~symcnn.compile.engine` (what the backends share), :mod:`~symcnn.compile.scalar`,
:mod:`~symcnn.compile.arrays` with :mod:`~symcnn.compile.indexmaps` and
:mod:`~symcnn.compile.kernels`, :mod:`~symcnn.compile.numba_backend` with its loop nests
:mod:`~symcnn.compile.loops` and :mod:`~symcnn.compile.conv_loops`.
"""

from .model import BACKENDS, DEFAULT_BACKEND, CompiledModel

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "CompiledModel"]
