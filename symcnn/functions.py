"""The SymPy functions of a network whose derivatives follow the course's conventions.

SymPy's own ``Max(0, z)`` differentiates to ``Heaviside(z)``, which is 1/2 at the kink, and
``Max`` sorts its arguments, which loses the row-major order a pooling tie is broken by.
These functions keep the conventions of the contract (and of PyTorch) visible in the
symbolic results:

- ``ReLU(z)``, with ``ReLU'(z) = Heaviside(z, 0)``, the step ``1[z > 0]`` (so ``ReLU'(0) = 0``);
- ``PoolMax(a_1, ..., a_m)``, the maximum of a pooling window in row-major order, with
  ``dPoolMax/da_k = prod_{j<k} 1[a_k > a_j] * prod_{j>k} 1[a_k >= a_j]``: the gradient goes to
  the first maximal element;
- ``Sigmoid(z) = 1 / (1 + e^{-z})`` with ``Sigmoid' = Sigmoid (1 - Sigmoid)``;
- ``LogSumExp(z_1, ..., z_K) = log sum_k e^{z_k}`` with ``dLogSumExp/dz_k = e^{z_k - LogSumExp}``,
  the softmax, so that cross entropy ``LogSumExp(z) - sum_k y_k z_k`` evaluates stably.

Each evaluates itself on numbers (exactly on exact numbers) and stays unevaluated on symbols.
"""

import sympy
from sympy import Function, Heaviside


class ActivationBase(Function):
    """An activation of :mod:`symcnn.activations` that SymPy does not have; the printers
    write it from its row (:func:`symcnn.activations.activation_of`).  SymPy's printers
    dispatch on a ``Function``'s base classes only when their names end in ``Base``."""


class ReLU(ActivationBase):
    """``ReLU(z) = max(z, 0)``."""

    @classmethod
    def eval(cls, z):
        if z.is_extended_nonnegative:
            return z
        if z.is_extended_negative:
            return sympy.S.Zero
        return None

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 0)


class PoolMax(Function):
    """Maximum of a pooling window, its arguments kept in row-major order."""

    @classmethod
    def eval(cls, *args):
        if all(a.is_number and a.is_comparable for a in args):
            return sympy.Max(*args)
        return None

    def fdiff(self, argindex=1):
        k = argindex - 1
        chosen = self.args[k]
        before = [Heaviside(chosen - a, 0) for a in self.args[:k]]
        after = [Heaviside(chosen - a, 1) for a in self.args[k + 1:]]
        return sympy.Mul(*before, *after)


class Sigmoid(ActivationBase):
    """The logistic function ``1 / (1 + e^{-z})``."""

    @classmethod
    def eval(cls, z):
        if z.is_number:
            return 1 / (1 + sympy.exp(-z))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)


class LogSumExp(Function):
    """``log sum_k e^{z_k}``; its gradient is the softmax ``e^{z_k - LogSumExp(z)}``."""

    @classmethod
    def eval(cls, *args):
        if all(a.is_number for a in args):
            return sympy.log(sympy.Add(*[sympy.exp(a) for a in args]))
        return None

    def fdiff(self, argindex=1):
        return sympy.exp(self.args[argindex - 1] - self)

