"""Imports run in pipeline order: the LaTeX printer is read only by what writes LaTeX for people.

The text printer (symcnn.text) and the LaTeX printer (symcnn.latex) are siblings over one shown
form (symcnn.shown, symcnn.derive.display); nothing upstream of printing reads symcnn.latex.
"""

import ast
from pathlib import Path

import symcnn

PACKAGE = Path(symcnn.__file__).parent

# who may read symcnn.latex, and why
LATEX_READERS = {
    "symcnn.network": "the public face: net.latex(), net.slides(), net.fragment()",
    "symcnn.derive.general": "Formula.latex(), imported when called",
    "symcnn.commands": "symcnn derive writes documents and PDFs",
    "symcnn.parse.tables": "the answer reader names tables in LaTeX in its messages",
}
LATEX_STAGES = ("symcnn.verify.", "symcnn.exercises.", "symcnn.grade.")  # write LaTeX feedback and sheets


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every symcnn module ``path`` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # from . import latex
    return {m for m in found if m == "symcnn" or m.startswith("symcnn.")}


def reads_latex(modules: set[str]) -> bool:
    return any(m == "symcnn.latex" or m.startswith("symcnn.latex.") for m in modules)


def test_only_the_public_face_and_the_stages_that_write_latex_import_the_latex_printer():
    readers = {module_name(p) for p in PACKAGE.rglob("*.py")
               if not module_name(p).startswith("symcnn.latex") and reads_latex(imported(p))}
    unexpected = {m for m in readers if m not in LATEX_READERS and not m.startswith(LATEX_STAGES)}
    assert not unexpected, f"import symcnn.latex though upstream of printing: {sorted(unexpected)}"
    assert "symcnn.text" not in readers and "symcnn.network" in readers  # the test sees imports at all


def test_the_import_reader_resolves_relative_imports():
    assert reads_latex(imported(PACKAGE / "network.py"))
    assert "symcnn.shown" in imported(PACKAGE / "text.py") and not reads_latex(imported(PACKAGE / "text.py"))
    assert "symcnn.activations" in imported(PACKAGE / "latex" / "printer.py")
