"""The errors symcnn raises for bad input.

Every message is one line that names where the problem is (file, key, tensor or entry), so
that the command line can print it as it is, without a traceback.
"""


class SymcnnError(ValueError):
    """Base class of every error symcnn raises for bad input."""


class SpecError(SymcnnError):
    """A network spec (TOML file, dict or builder call) is malformed.

    The message starts with the source (a file name or ``<python>``) and the key:
    ``seed_1d.toml: layer 1 (conv): size: filter 7 is larger than the padded input 6``.
    """


class TensorNameError(SymcnnError):
    """A tensor name that the network does not have (``net.expr("Z9")``)."""


class ShapeError(SymcnnError):
    """Values or parameters whose shape does not fit the network."""


class LatexError(SymcnnError):
    """LaTeX that symcnn cannot read; the message quotes the piece it stopped at."""
