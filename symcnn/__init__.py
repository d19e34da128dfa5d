"""symcnn: derive the gradients of convolutional networks symbolically, in the course's notation.

The pipeline, one module per stage: :mod:`~symcnn.spec` (spec files) -> :mod:`~symcnn.graph`
(the symbolic network, from the index-form rules of :mod:`~symcnn.layers`) -> :mod:`~symcnn.derive`
(entry by entry and general formulas: Jacobians, chain rule, gradients) ->
{:mod:`~symcnn.latex` (documents, slides, fragments), :mod:`~symcnn.compile`} ->
{:mod:`~symcnn.verify`, :mod:`~symcnn.gradcheck` and :mod:`~symcnn.training` (:mod:`~symcnn.runs`)}.
"""

from importlib import import_module

from .errors import LatexError, ShapeError, SpecError, SymcnnError, TensorNameError

# The rest loads SymPy, NumPy and Numba: it is imported when first used (PEP 562), so that
# ``import symcnn`` and the command line start at once.
_EXPORTS = {
    "derive": ["Chain", "Factor", "Formula"],
    "functions": ["LogSumExp", "PoolMax", "ReLU", "Sigmoid"],
    "network": ["Network", "load"],
    "spec": ["Sequential", "Spec", "parse_spec", "read_spec"],
    "training": ["TrainingError", "TrainingInterrupted", "train"],
    "runs": ["load_params"],
    "data": ["load_data"],
    "gradcheck": ["check_gradient"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["LatexError", "ShapeError", "SpecError", "SymcnnError", "TensorNameError", *_MODULE_OF]


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'symcnn' has no attribute {name!r}")
    value = getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_MODULE_OF])
