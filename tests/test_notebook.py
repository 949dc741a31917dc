"""S6.ipynb runs top to bottom in a fresh kernel (quick mode), and its committed form renders on GitHub."""

import json

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOK = ROOT / "S6.ipynb"


def test_notebook_runs_top_to_bottom_in_quick_mode(data_dir, monkeypatch):
    monkeypatch.setenv("S6_QUICK", "1")
    monkeypatch.setenv("S6_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    before = NOTEBOOK.read_bytes()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 6
    assert NOTEBOOK.read_bytes() == before  # executed in memory; the committed file is untouched


def committed_outputs() -> list[dict]:
    notebook = json.loads(NOTEBOOK.read_text())
    return [o for cell in notebook["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])]


def test_committed_notebook_has_every_output_and_renders_on_github():
    notebook = json.loads(NOTEBOOK.read_text())
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code_cells), "run all cells before committing"
    outputs = committed_outputs()
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 6
    assert NOTEBOOK.stat().st_size < 2_000_000


@pytest.mark.parametrize("needle", ["final: ", "quick mode: False"])
def test_committed_notebook_comes_from_a_full_run(needle):
    text = "".join("".join(o.get("text", "")) for o in committed_outputs())
    assert needle in text
