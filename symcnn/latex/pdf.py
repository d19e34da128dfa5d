"""A ``.tex`` file compiled by a real TeX engine, beside itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import SymcnnError


def build_pdf(tex_path: str | Path) -> Path:
    """Compile a ``.tex`` file beside itself with latexmk (or pdflatex) and return the PDF.

    Raises :class:`~symcnn.errors.SymcnnError` with TeX's first error line when it fails,
    or when no TeX engine is installed.
    """
    tex_path = Path(tex_path).resolve()
    if shutil.which("latexmk"):
        command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet",
                   f"-outdir={tex_path.parent}", tex_path.name]
    elif shutil.which("pdflatex"):
        command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex_path.name]
    else:
        raise SymcnnError("no TeX engine found (latexmk or pdflatex): install TeX Live, e.g. `make tex`")
    result = subprocess.run(command, cwd=tex_path.parent, capture_output=True, text=True)
    pdf = tex_path.with_suffix(".pdf")
    if result.returncode != 0 or not pdf.exists():
        log = tex_path.with_suffix(".log")
        text = log.read_text(errors="replace") if log.exists() else result.stdout
        first = next((line for line in text.splitlines() if line.startswith("!")), "see the log")
        raise SymcnnError(f"{tex_path}: LaTeX failed: {first.lstrip('! ')} (log: {log})")
    for suffix in (".aux", ".fls", ".fdb_latexmk", ".log", ".nav", ".out", ".snm", ".toc"):
        tex_path.with_suffix(suffix).unlink(missing_ok=True)
    return pdf
