"""S6.ipynb where its users run it: in the repository (Jupyter after the README install), alone in an empty
folder (as uploaded to Colab), and as committed (rendered on GitHub)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, folder_bytes, require, require_module
from nbclient import NotebookClient

NOTEBOOK = ROOT / "S6.ipynb"
TRAINED_FIGURES = ["model2_curves.png", "model2_misclassified.png", "model2_confusion.png"]
FULL_RUNS, QUICK_RUNS = ROOT / "runs" / "notebook", ROOT / "runs" / "notebook-quick"  # the notebook's two folders


def execute(path: Path, monkeypatch, **env: str) -> list[dict]:
    """Run the notebook at ``path`` top to bottom in a fresh kernel started in its folder; return its outputs."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def errors(outputs: list[dict]) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]


def printed(outputs: list[dict]) -> str:
    return "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")


@pytest.fixture
def quick_runs_removed_after():
    """A quick-mode run in the repository writes runs/notebook-quick/; it goes again unless it was there before."""
    existed = QUICK_RUNS.exists()
    yield
    if not existed:
        shutil.rmtree(QUICK_RUNS, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.usefixtures("quick_runs_removed_after")
def test_notebook_runs_top_to_bottom_in_the_repository_in_quick_mode(data_dir, monkeypatch):
    before = NOTEBOOK.read_bytes()
    figures = {name: (ROOT / "images" / name).read_bytes() for name in TRAINED_FIGURES}
    students_runs = folder_bytes(FULL_RUNS)
    outputs = execute(NOTEBOOK, monkeypatch, S6_QUICK="1", S6_DATA_DIR=str(data_dir.resolve()))
    assert (QUICK_RUNS / "model2" / "metrics.json").is_file()
    assert folder_bytes(FULL_RUNS) == students_runs  # a smoke test never replaces (or creates) the real runs
    assert not errors(outputs)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 7
    assert "smoke test" in printed(outputs) and "not a result" in printed(outputs)
    assert "The draw-your-own-digit page is off here (quick mode, CI, or S6_DEMO=0)" in printed(outputs)
    assert not [o for o in outputs if "<iframe" in str(o.get("data", {}))]
    assert NOTEBOOK.read_bytes() == before  # executed in memory; the committed file is untouched
    assert figures == {name: (ROOT / "images" / name).read_bytes() for name in TRAINED_FIGURES}  # quick: not saved


@pytest.mark.slow
def test_notebook_alone_in_an_empty_folder_clones_the_repository_and_writes_figures_into_it(
    data_dir, tmp_path, monkeypatch
):
    """The Colab path: only S6.ipynb is there; the setup cell clones, changes into the clone, installs offline."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        require("a git checkout of the repository to clone")
    folder = tmp_path / "colab"
    folder.mkdir()
    shutil.copy(NOTEBOOK, folder / "S6.ipynb")
    outputs = execute(folder / "S6.ipynb", monkeypatch, S6_REPO_URL=ROOT.as_uri(), S6_QUICK="1",
                      S6_SAVE_FIGURES="1", S6_DATA_DIR=str(data_dir.resolve()))
    assert not errors(outputs)
    clone = folder / "s6-repo"
    assert "working folder: s6-repo/; s6 " in printed(outputs)
    assert "from ./s6\n" in printed(outputs)  # the clone's package, not the one the test runs from
    assert str(tmp_path) not in printed(outputs)
    changed = subprocess.run(["git", "-C", str(clone), "status", "--porcelain", "--", "images"],
                             capture_output=True, text=True, check=True).stdout
    for name in TRAINED_FIGURES:
        assert f"images/{name}" in changed, changed
    assert (clone / "runs" / "notebook-quick" / "model2" / "metrics.json").exists()
    assert not (clone / "runs" / "notebook").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["S6.ipynb", "s6-repo"]  # nothing written beside it


@pytest.mark.slow
@pytest.mark.usefixtures("quick_runs_removed_after")
def test_notebook_last_section_shows_the_draw_a_digit_page_inline_when_turned_on(data_dir, monkeypatch):
    """S6_DEMO=1 (even in quick mode): the page of the Model-2 just trained, inline, served on localhost only."""
    require_module("gradio", "Gradio (pip install -e '.[demo]')")
    outputs = execute(NOTEBOOK, monkeypatch, S6_QUICK="1", S6_DEMO="1", S6_SAVE_FIGURES="0",
                      S6_DATA_DIR=str(data_dir.resolve()), GRADIO_ANALYTICS_ENABLED="False")
    assert not errors(outputs)
    pages = [o["data"]["text/html"] for o in outputs if "<iframe" in str(o.get("data", {}).get("text/html", ""))]
    assert len(pages) == 1 and "http://127.0.0.1:" in pages[0]
    assert "gradio.live" not in printed(outputs) + pages[0]  # no public link was made


@pytest.mark.slow
def test_notebook_outside_a_clone_without_a_repository_url_says_it_is_required(tmp_path, monkeypatch):
    folder = tmp_path / "colab"
    folder.mkdir()
    shutil.copy(NOTEBOOK, folder / "S6.ipynb")
    monkeypatch.delenv("S6_REPO_URL", raising=False)
    notebook = nbformat.read(folder / "S6.ipynb", as_version=4)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    notebook.cells = [setup]
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}, allow_errors=True)
    client.execute()
    (error,) = errors(setup.outputs)
    assert error.startswith("SystemExit: REPO_URL is required here")
    assert sorted(p.name for p in folder.iterdir()) == ["S6.ipynb"]


@pytest.mark.slow  # starts Jupyter: the quick loop leaves Jupyter, LibreOffice and the browser out
@pytest.mark.parametrize("app,major", [("lab", 4), ("notebook", 7)])
def test_both_jupyter_commands_named_in_the_readme_start_after_the_readme_install(app, major):
    """`jupyter notebook S6.ipynb` is what the original exercise says; `jupyter lab S6.ipynb` is README's first."""
    assert f"jupyter {app} S6.ipynb" in (ROOT / "README.md").read_text()
    jupyter = Path(sys.executable).parent / "jupyter"
    result = subprocess.run([str(jupyter), app, "--version"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().split(".")[0]) >= major, result.stdout


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
    assert not [o for o in outputs if "<iframe" in str(o.get("data", {}))]  # no demo page: it needs a live kernel
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 7
    assert NOTEBOOK.stat().st_size < 2_000_000


ABSOLUTE_PATH = re.compile(r"""(?:^|[\s'"(=:])(/(?:home|root|work|tmp|Users|content|mnt|opt|var|private)/\S*"""
                           r"""|[A-Za-z]:\\\S+)""", re.MULTILINE)


def test_committed_notebook_shows_no_absolute_path_of_the_machine_it_ran_on():
    """GitHub renders the outputs: a path like /home/NAME/... would show the author's machine to every reader."""
    notebook = json.loads(NOTEBOOK.read_text())
    texts = ["".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
             for o in committed_outputs()] + ["".join(cell["source"]) for cell in notebook["cells"]]
    found = [m.group(1) for text in texts for m in ABSOLUTE_PATH.finditer(text)]
    assert not found, found


def test_committed_notebook_comes_from_a_full_run():
    text = "".join("".join(o.get("text", "")) for o in committed_outputs())
    assert "final: " in text and "quick mode: False" in text
    assert "smoke test" not in text


def test_the_notebooks_text_quotes_model2s_parameters_and_epochs_from_the_registry():
    """The opening cell's claims are typed by hand; here they meet the model and recipe a run gets."""
    from s6.models.registry import build_model, recipe_for
    from s6.models.summary import count_parameters

    opening = "".join(json.loads(NOTEBOOK.read_text())["cells"][0]["source"])
    params, epochs = count_parameters(build_model("model2")), recipe_for("model2").epochs
    assert f"with {params:,} parameters in {epochs} epochs" in opening
    assert f"| parameters | < 20,000: **{params:,}** |" in opening and f"| epochs | < 20: **{epochs}** |" in opening
    assert f"Model-1 for {recipe_for('model1').epochs} epochs and Model-2 for {epochs}" in opening


MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_link_in_the_notebook_is_absolute_or_within_it():
    """A relative link (README.md, docs/...) breaks on Colab and in GitHub's notebook view; #anchors and URLs work."""
    notebook = json.loads(NOTEBOOK.read_text())
    links = [m.group(1) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
             for m in MARKDOWN_LINK.finditer("".join(cell["source"]))]
    assert links, "the notebook links to its own sections"
    assert [link for link in links if not link.startswith(("#", "https://"))] == []
    headings = {line.lstrip("# ").strip().replace(" ", "-") for cell in notebook["cells"]
                if cell["cell_type"] == "markdown" for line in "".join(cell["source"]).splitlines()
                if line.startswith("#")}
    assert [link for link in links if link.startswith("#") and link[1:] not in headings] == []
