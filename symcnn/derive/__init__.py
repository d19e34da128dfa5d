"""Derivation, in the two forms the course uses.

- :mod:`~symcnn.derive.entries`: entry by entry at the spec's sizes (the slides' view): sparse
  local Jacobians, chain factors, back-propagated gradients.
- :mod:`~symcnn.derive.general`: general formulas in index form, valid for every size (the
  notes' view): every layer's rule differentiated once, Kronecker deltas resolved
  (:mod:`~symcnn.derive.deltas`), ``delta^l`` named and reused.
"""

from .entries import Chain, Derivation, Factor, Sparse
from .general import Formula, GeneralDerivation

__all__ = ["Chain", "Derivation", "Factor", "Formula", "GeneralDerivation", "Sparse"]
