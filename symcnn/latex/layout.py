"""Page layout without shrinking: what fits is shown at normal size, the rest in another form.

Two mechanisms, both leaving every glyph at its normal size:

- TeX measures: ``\\bestfit{height}{math}{otherwise}`` (defined in :data:`MACROS`) displays the
  math where it is no wider than the line and no taller than ``height``, and typesets
  ``otherwise`` (a compact form, a line-broken form) where it is not;
- Python estimates a formula's width (:func:`estimated_width`, deliberately on the wide side)
  to decide where a long formula is broken into lines and how many chain-rule factors go on
  one line.

``\\keepwith{length}`` starts a new page unless ``length`` is left on this one, so that a
heading never stays alone at the bottom of a page.
"""

from __future__ import annotations

import re

MACROS = r"""% \bestfit[intro]{height}{math}{otherwise}: the intro and the math, displayed at normal size, where the
% math fits the line and is at most height tall; otherwise the other form (nothing is ever scaled down)
\newsavebox{\symcnnbox}
\newdimen\symcnntall
\newcommand{\bestfit}[4][]{\sbox{\symcnnbox}{$\displaystyle #3$}%
  \symcnntall=\ht\symcnnbox \advance\symcnntall by \dp\symcnnbox
  \ifdim\wd\symcnnbox>\linewidth #4\else\ifdim\symcnntall>#2\relax #4\else
  #1\[ \usebox{\symcnnbox} \]\fi\fi}
% \keepwith{length}: a new page here unless length is left on this one (a heading stays with its text)
\newcommand{\keepwith}[1]{\par\penalty-100\begingroup\dimen0=\pagegoal\advance\dimen0 by -\pagetotal
  \ifdim\dimen0<#1\relax\newpage\fi\endgroup}
"""

EM = 11.0  # points per em at the documents' 11pt
# A matrix's column labels (the seed's Z^1_i over dZ^1/dW^1) sit in script style: on paper their
# indices are 6 pt.  Slides set them in \small text, so that the indices are 7 pt, readable projected.
SLIDE_LABELS = r"\small"
_COMMAND = re.compile(r"\\([A-Za-z]+)\*?|\\(.)")
_WIDE_COMMANDS = {"sum": 1.4, "max": 1.8, "log": 1.5, "cdots": 1.2, "ldots": 1.2, "dots": 1.2, "quad": 1.0,
                  "qquad": 2.0, "le": 1.3, "geq": 1.3, "leq": 1.3, "ge": 1.3, "times": 1.0, "cdot": 0.8,
                  "partial": 0.6, "delta": 0.5, "sigma": 0.6, "tanh": 2.0, "top": 0.8, "in": 1.2}
_DROPPED = {"left", "right", "operatorname", "mathbf", "text", "boxed", "vphantom", "begin", "end",
            "displaystyle", "scriptstyle", "mathrm", "overset", "underset", "frac", "bmatrix", "matrix", "aligned"}


def estimated_width(latex: str) -> float:
    """A rough width in points of one line of display math at 11pt, on the wide side: glyphs
    about 0.55 em, sub- and superscripts at 70 %, relations and operators with their spacing,
    a fraction as wide as its wider part, a sum or max as wide as its limits."""
    return _width(latex, 1.0)


def _width(text: str, scale: float) -> float:
    total, i = 0.0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            match = _COMMAND.match(text, i)
            name = match.group(1) or match.group(2)
            i = match.end()
            if name == "frac":
                numerator, i = _group(text, i)
                denominator, i = _group(text, i)
                total += max(_width(numerator, scale), _width(denominator, scale)) + 0.3 * EM * scale
            elif name in ("overset", "underset"):
                label, i = _group(text, i)
                body, i = _group(text, i)
                total += max(_width(label, 0.7 * scale), _width(body, scale))
            elif name == "begin":
                environment, i = _group(text, i)
                body, i = _environment(text, i, environment)
                total += _grid_width(body, scale)
            elif name in ("vphantom", "end"):
                _, i = _group(text, i)
            elif name == "boxed":
                total += 0.8 * EM * scale
            elif name not in _DROPPED:
                total += _WIDE_COMMANDS.get(name, len(name) * 0.5) * EM * scale
            continue
        if ch in "_^":
            script, i = _group(text, i + 1)
            total += _width(script, 0.7 * scale)
            continue
        i += 1
        if ch in "{} ":
            continue
        if ch in "=<>":
            total += 1.3 * EM * scale
        elif ch in "+-":  # a sign (after an opening, a column break or a relation) has no spaces round it
            before = text[:i - 1].rstrip()[-1:]
            total += (0.75 if not before or before in "{(&=,[" else 1.2) * EM * scale
        elif ch in ",;":
            total += 0.45 * EM * scale
        elif ch in "()[]":
            total += 0.45 * EM * scale
        elif ch == "&":
            total += 0.5 * EM * scale
        else:
            total += 0.6 * EM * scale
    return total


def _environment(text: str, i: int, name: str) -> tuple[str, int]:
    """The body of the environment ``name`` begun just before ``i``, and the index after its end."""
    begin, end, depth = rf"\begin{{{name}}}", rf"\end{{{name}}}", 1
    j = i
    while depth:
        next_begin, next_end = text.find(begin, j), text.find(end, j)
        if next_end < 0:
            return text[i:], len(text)
        if 0 <= next_begin < next_end:
            depth, j = depth + 1, next_begin + len(begin)
        else:
            depth, j = depth - 1, next_end + len(end)
    return text[i:j - len(end)], j


def _grid_width(body: str, scale: float) -> float:
    """A matrix (or ``aligned``) body: its widest cell per column, plus the space between."""
    body = re.sub(r"^\{[^{}]*\}", "", body.strip())  # an array's column spec
    rows = [row.split("&") for row in re.split(r"\\\\", body)]
    columns = max(len(row) for row in rows)
    widths = [max((_width(row[c], scale) for row in rows if c < len(row)), default=0.0) for c in range(columns)]
    return sum(widths) + (columns + 0.5) * 0.9 * EM * scale


def _group(text: str, i: int) -> tuple[str, int]:
    """The braced group (or single character) at ``i``: ``(content, index after it)``."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return "", i
    if text[i] != "{":
        if text[i] == "\\":
            match = _COMMAND.match(text, i)
            return match.group(0), match.end()
        return text[i], i + 1
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j], j + 1
    return text[i + 1:], len(text)


def estimated_height(latex: str) -> float:
    """A rough height in points of a display (its skips included), on the tall side: a line
    with fractions or sums about 32 points, a plain line 22, a matrix 14 points a row, an
    ``aligned`` block 20 a line."""
    tallest = 32.0 if re.search(r"\\(frac|sum|max|underset|overset)", latex) else 22.0
    for match in re.finditer(r"\\begin\{(bmatrix|matrix|array|aligned)\}", latex):
        body, _ = _environment(latex, match.end(), match.group(1))
        rows = len(re.findall(r"\\\\", body)) + 1 - len(re.findall(r"\\begin\{", body))
        extra = 8.0 if r"\overset" in body else 0.0
        tallest = max(tallest, rows * (20.0 if match.group(1) == "aligned" else 14.0) + 10.0 + extra)
    return tallest + 14.0


def broken_lines(lhs: str, pieces: list[str], width: float) -> list[str]:
    """The right-hand side ``pieces`` packed greedily into lines of at most ``width`` points
    (the first line after ``lhs =``); a piece wider than a line gets a line of its own."""
    lines, current = [], []
    room = width - estimated_width(lhs + "=")
    for piece in pieces:
        if current and estimated_width(" ".join(current + [piece])) > room:
            lines.append(" ".join(current))
            current, room = [], width - 2 * EM
        current.append(piece)
    return lines + [" ".join(current)]


def display(lhs: str, pieces: list[str], width: float) -> str:
    """A display of ``lhs = pieces``: on one line where TeX finds it fits, broken into an
    ``aligned`` block (cut where :func:`broken_lines` estimates) where it does not."""
    one = f"{lhs} = " + " ".join(pieces)
    lines = broken_lines(lhs, pieces, width)
    if len(lines) == 1:
        return rf"\[ {one} \]"
    broken = r"\begin{aligned} " + f"{lhs} &= " + r" \\ &\qquad ".join(lines) + r" \end{aligned}"
    return rf"\bestfit{{\textheight}}{{{one}}}{{\[ {broken} \]}}"


def equation_chain(lhs: str, parts: list[str]) -> str:
    """``lhs = part = part = ...`` (a worked entry: its expression, its numbers, its value) on
    one line where TeX finds it fits, one ``=`` a line where it does not."""
    one = " = ".join([lhs, *parts])
    broken = r"\begin{aligned} " + f"{lhs} &= " + r" \\ &= ".join(parts) + r" \end{aligned}"
    return rf"\bestfit{{\textheight}}{{{one}}}{{\[ {broken} \]}}"


def label_latex(math: str, size: str | None = None) -> str:
    """A column label as it is (script style over its column), or at a text ``size``
    (:data:`SLIDE_LABELS` on slides)."""
    return rf"\mbox{{{size}${math}$}}" if size else math


def notes_text(notes: list[str]) -> str:
    """A formula's ranges and conventions in small type under it, breakable between notes."""
    if not notes:
        return ""
    return r"{\small\centering " + r",\quad ".join(f"${n}$" for n in notes) + r"\par}"


def escape_text(text: str) -> str:
    """Plain text (a title) for LaTeX: its special characters escaped, Greek letters and common
    symbols written as math, other characters pdfLaTeX has no glyph for replaced by ``?``."""
    special = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
               "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
    out = []
    for ch in text:
        if ch in special:
            out.append(special[ch])
        elif ord(ch) < 128 or ch in _LATIN:
            out.append(ch)
        elif ch in _MATH:
            out.append(f"${_MATH[ch]}$")
        elif _greek(ch):
            out.append(f"${_greek(ch)}$")
        else:
            out.append("?")
    return "".join(out)


# Latin-1 letters and the typographic marks that pdfLaTeX's utf8 input reads with T1 fonts
_LATIN = set("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ–—‘’“”…")
_MATH = {"×": r"\times", "·": r"\cdot", "→": r"\to", "←": r"\leftarrow", "≤": r"\le", "≥": r"\ge",
         "≠": r"\ne", "≈": r"\approx", "±": r"\pm", "∂": r"\partial", "∑": r"\sum", "∞": r"\infty",
         "∈": r"\in", "−": "-", "√": r"\surd", "∇": r"\nabla", "°": r"^\circ", "²": "^2", "³": "^3", "¹": "^1"}
_GREEK = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
          "nu", "xi", "omicron", "pi", "rho", "final sigma", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"]


def _greek(ch: str) -> str | None:
    """``σ -> \\sigma``, ``Δ -> \\Delta`` (capitals that look Latin as the Latin letter)."""
    code = ord(ch)
    lower = 0x3B1 <= code <= 0x3C9
    if not (lower or 0x391 <= code <= 0x3A9) or code == 0x3A2:
        return None
    name = _GREEK[code - (0x3B1 if lower else 0x391)]
    name = "varsigma" if name == "final sigma" else name
    if name == "omicron":
        return "o" if lower else "O"
    if lower:
        return "\\" + name
    capital = name.capitalize()
    latin = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
             "Mu": "M", "Nu": "N", "Rho": "P", "Tau": "T", "Upsilon": r"\Upsilon", "Chi": "X"}
    return latin.get(capital, "\\" + capital)
