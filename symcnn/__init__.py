"""symcnn: derive the gradients of convolutional networks symbolically, in the course's notation.

The pipeline, one module per stage: :mod:`~symcnn.spec` (spec files) -> :mod:`~symcnn.graph`
(the symbolic network, from the index-form rules of :mod:`~symcnn.layers`) -> :mod:`~symcnn.derive`
(entry by entry and general formulas: Jacobians, chain rule, gradients) ->
{:mod:`~symcnn.latex` (documents, slides, fragments), :mod:`~symcnn.compile`} ->
{:mod:`~symcnn.verify`, :mod:`~symcnn.gradcheck` and :mod:`~symcnn.train` (:mod:`~symcnn.runs`)}.
"""

from .derive import Chain, Factor, Formula
from .errors import LatexError, ShapeError, SpecError, SymcnnError, TensorNameError
from .functions import LogSumExp, PoolMax, ReLU, Sigmoid
from .network import Network, load
from .spec import Sequential, Spec, parse_spec, read_spec
from .train import TrainingError, TrainingInterrupted, train
from .runs import load_params
from .data import load_data
from .gradcheck import check_gradient

__all__ = [
    "Chain", "Factor", "Formula", "LatexError", "LogSumExp", "Network", "PoolMax", "ReLU", "Sequential", "ShapeError",
    "Sigmoid", "Spec", "SpecError", "SymcnnError", "TensorNameError", "load", "parse_spec",
    "read_spec", "TrainingError", "TrainingInterrupted", "load_params", "train", "load_data", "check_gradient",
]
