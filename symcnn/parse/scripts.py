"""Sub- and superscripts as LaTeX reads them, and the transpose mark ``^T``.

Without braces a script is ONE token (``W^2_1X_0`` is ``W^2_1 X_0``, ``A^1_j`` is entry ``j``);
a digit or a letter that is not a tensor glued to such a script (``X_12``, ``A^1_jk``) is
refused as ambiguous, never guessed.
"""

from __future__ import annotations

from .source import skip_group

TENSOR_LETTERS = set("WZAXy")
_TRANSPOSE = {"T", r"\top", r"\intercal", r"\mathsf", r"\mathrm", r"\text"}


def read_script(reader, tokens, i, glued_ok=False):
    """The tokens of a sub- or superscript at ``tokens[i]`` and the index after it.

    Without braces a script is one token, as in LaTeX; a digit or a letter that is not a
    tensor glued right after it (``X_12``, ``A^1_jk``) is refused as ambiguous."""
    if i >= len(tokens):
        raise reader.error(tokens[-1], "a '_' or '^' with nothing after it")
    if tokens[i].text == "{":
        end = skip_group(tokens, i)
        return tokens[i + 1:end - 1], end
    token = tokens[i]
    if token.text in ("}", ")", "]", "^", "_", "&", "="):
        raise reader.error(token, "a '_' or '^' with nothing after it")
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if not glued_ok and nxt is not None and not nxt.space and token.kind in ("digit", "letter") and (
            nxt.kind == "digit" or (nxt.kind == "letter" and nxt.text not in TENSOR_LETTERS)):
        raise reader.error(token, f"'{token.text}{nxt.text}' after '_' or '^' is ambiguous: LaTeX reads "
                         f"only '{token.text}' as the script; write {{{token.text}{nxt.text}}} or "
                         f"{{{token.text}}} \\cdot {nxt.text}")
    return [token], i + 1


def transpose_end(tokens, i):
    """The index after ``T``, ``\\top``, ``{T}``, ``{\\top}``, ``\\mathsf{T}`` at ``tokens[i]``."""
    if i >= len(tokens):
        return None
    if tokens[i].text == "{":
        end = skip_group(tokens, i)
        inner = [t.text for t in tokens[i + 1:end - 1]]
        return end if inner and all(t in _TRANSPOSE or t in "{}" for t in inner) and \
            ("T" in inner or r"\top" in inner or r"\intercal" in inner) else None
    if tokens[i].text in ("T", r"\top", r"\intercal"):
        return i + 1
    if tokens[i].text in (r"\mathsf", r"\mathrm") and i + 1 < len(tokens) and tokens[i + 1].text == "{":
        end = skip_group(tokens, i + 1)
        return end if [t.text for t in tokens[i + 2:end - 1]] == ["T"] else None
    return None
