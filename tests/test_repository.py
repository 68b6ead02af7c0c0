"""Properties of the code base as a whole: import structure, start-up cost, references to the docs."""

import pytest
import re
import subprocess
import sys
from pathlib import Path

from nnqft import params

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "nnqft"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the nnqft modules it imports anywhere (deferred imports inside functions included)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {m for m in params._imported_modules(path.read_text(), package) if m != name}
    return graph


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.slow
def test_no_import_cycles_between_modules():
    graph = import_graph()
    # A package's __init__ is imported by its own modules implicitly; only explicit imports count.
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
    # The graph is real: the engine is imported by the ensemble, not the other way round.
    assert "nnqft.blocks" in graph["nnqft.ensemble"] and "nnqft.ensemble" not in graph["nnqft.blocks"]


def imported_modules(statement: str) -> set[str]:
    """Every module a fresh interpreter imports for a statement."""
    run = subprocess.run([sys.executable, "-c", statement + "; import sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(run.stdout.split())


def imported_top_level(statement: str) -> set[str]:
    """Top-level packages a fresh interpreter imports for a statement."""
    return {name.split(".")[0] for name in imported_modules(statement)}


@pytest.mark.slow
def test_plotting_and_the_package_import_neither_jax_nor_scikit_learn():
    for statement in ("import nnqft", "import nnqft.plots", "import nnqft.params", "import nnqft.golden"):
        mods = imported_top_level(statement)
        assert "jax" not in mods and "sklearn" not in mods, statement
    assert "jax" in imported_top_level("import nnqft.ensemble")  # the check sees JAX where it is imported


@pytest.mark.slow
def test_config_validation_imports_neither_scipy_stats_nor_the_quadrature_stack():
    # Every Snakemake start (a run, a dry run, --report) validates the config first.
    mods = imported_modules("import nnqft.config")
    assert not {"scipy.stats", "nnqft.exact", "nnqft.symmetry.invariance", "nnqft.symmetry.training"} & mods
    assert "scipy.stats" in imported_modules("import nnqft.symmetry.invariance")  # the check sees it where it is


@pytest.mark.slow
def test_jax_runs_in_float64_whichever_is_imported_first():
    for statement in ("import nnqft, jax.numpy as jnp", "import jax.numpy as jnp, nnqft"):
        run = subprocess.run([sys.executable, "-c", statement + "; print(jnp.zeros(1).dtype)"], capture_output=True,
                             text=True, check=True)
        assert run.stdout.strip() == "float64", statement


def test_references_to_the_physics_docs_exist():
    sections = set(re.findall(r"^## (\d+)\.", (ROOT / "docs" / "physics.md").read_text(), re.M))
    files = [p for d in ("src", "workflow", "config", "tests") for p in (ROOT / d).rglob("*") if p.is_file()
             and p.suffix in {".py", ".smk", ".yaml", ".rst", ".md"}] + [ROOT / "README.md"]
    cited = set()
    for path in files:
        text = path.read_text()
        assert "science" ".md" not in text, path  # the spec's old name, outside the repository
        for group in re.findall(r"physics\.md,? secs?\. ([\d, -]+\d)", text):
            for part in re.split(r",\s*", group):
                lo, _, hi = part.partition("-")
                cited.update(str(n) for n in range(int(lo), int(hi or lo) + 1))
    assert cited and cited <= sections, sorted(cited - sections)


def test_report_captions_are_valid_restructured_text():
    """A caption with, e.g., an unescaped |x| renders as a docutils "System Message" in report.html."""
    import io

    from docutils.core import publish_doctree

    problems = {}
    for caption in sorted((ROOT / "workflow" / "report").glob("*.rst")):
        messages = io.StringIO()
        publish_doctree(caption.read_text(), settings_overrides={"warning_stream": messages, "report_level": 2})
        if messages.getvalue():
            problems[caption.name] = messages.getvalue()
    assert not problems, problems
