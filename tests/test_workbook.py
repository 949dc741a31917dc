"""asgmt_backpropagation.xlsx, recalculated by LibreOffice, against torch autograd."""

import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from autograd_reference import autograd_run
from conftest import ROOT, run_cli, run_main
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from s6.backprop.network import COLUMNS, LEARNING_RATES, WEIGHTS, Inputs
from s6.backprop.workbook import HEADER_ROW, build_workbook, inputs_cells, lr_sheet_title, workbook_bytes

TOL = 1e-9


def table(sheet: list[list[str]]) -> list[dict[str, float]]:
    """The LR sheet's iteration rows as {header: value}, the header read from the sheet itself."""
    header = sheet[HEADER_ROW - 1][: len(COLUMNS)]
    assert header == list(COLUMNS)
    return [{k: float(v) for k, v in zip(header, row)} for row in sheet[HEADER_ROW:] if row and row[0]]


def assert_matches_autograd(sheets: dict, inputs: Inputs, iterations: int = 100, learning_rates=LEARNING_RATES) -> None:
    for lr in learning_rates:
        rows = table(sheets[lr_sheet_title(lr)])
        assert len(rows) == iterations
        for row, (w, e_total, grad) in zip(rows, autograd_run(inputs, lr, iterations)):
            where = f"{lr_sheet_title(lr)} iteration {row['iteration']:.0f}"
            assert abs(row["E_total"] - e_total) < TOL, where
            for i, name in enumerate(WEIGHTS):
                assert abs(row[name] - w[i]) < TOL, f"{where} {name}"
                assert abs(row[f"dE/d{name}"] - grad[i]) < TOL, f"{where} dE/d{name}"


@pytest.mark.slow
def test_committed_workbook_recalculates_to_autograd_values(recalculate):
    assert_matches_autograd(recalculate(ROOT / "asgmt_backpropagation.xlsx"), Inputs())


@pytest.mark.slow
def test_first_row_w3_w4_gradients_equal_autograd_where_the_template_is_wrong(recalculate):
    first = table(recalculate(ROOT / "asgmt_backpropagation.xlsx")["LR=0.1"])[0]
    _, _, grad = autograd_run(Inputs(), 0.1, 1)[0]
    assert abs(first["dE/dw3"] - grad[2]) < 1e-12
    assert abs(first["dE/dw4"] - grad[3]) < 1e-12
    template_w3 = grad[2] / (first["a_h2"] * (1 - first["a_h2"])) * first["a_h1"] * (1 - first["a_h1"])
    assert abs(template_w3 - grad[2]) > 10 * TOL  # the test tolerance would catch the template's bug


def template_slip(row: int) -> tuple[str, str]:
    """The formula of ∂E/∂w3 in an LR-sheet row, and the widely copied template's version of it: a_h1's sigmoid
    slope where a_h2's belongs."""
    cell = {name: f"{get_column_letter(i)}{row}" for i, name in enumerate(COLUMNS, start=1)}
    right = build_workbook(iterations=row - HEADER_ROW)["LR=0.1"][cell["dE/dw3"]].value
    slope = "*{0}*(1-{0})"
    wrong = right.replace(slope.format(cell["a_h2"]), slope.format(cell["a_h1"]))
    assert wrong != right
    return right, wrong


def plant_formula(book: Path, sheet: str, right: str, wrong: str, copy: Path) -> Path:
    """A copy of ``book`` with the formula ``right`` of ``sheet`` replaced by ``wrong``, its stored value kept."""
    index = [lr_sheet_title(lr) for lr in LEARNING_RATES].index(sheet) + 2  # sheet1.xml is Inputs
    part = f"xl/worksheets/sheet{index}.xml"
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                old, new = f"<f>{right[1:]}</f><v>".encode(), f"<f>{wrong[1:]}</f><v>".encode()
                assert data.count(old) == 1, f"{part} has {data.count(old)} cells with {right}"
                data = data.replace(old, new)
            target.writestr(item, data)
    return copy


@pytest.mark.slow
def test_a_formula_slip_under_a_right_stored_value_fails_the_recalculated_check(recalculate, tmp_path):
    """The committed workbook's tests see its formulas, not its stored values: the template's slip planted in one
    cell, the cell's right value kept, is caught (LibreOffice would show that value if it were left in the file)."""
    right, wrong = template_slip(HEADER_ROW + 1)
    slipped = plant_formula(ROOT / "asgmt_backpropagation.xlsx", "LR=0.1", right, wrong, tmp_path / "slipped.xlsx")
    stored = load_workbook(slipped, data_only=True)["LR=0.1"].cell(HEADER_ROW + 1, COLUMNS.index("dE/dw3") + 1)
    assert abs(stored.value - autograd_run(Inputs(), 0.1, 1)[0][2][2]) < 1e-15  # the stored value is still right
    with pytest.raises(AssertionError, match="LR=0.1 iteration 1 dE/dw3"):
        assert_matches_autograd(recalculate(slipped), Inputs())


@pytest.mark.slow
def test_edited_inputs_recompute_every_sheet(recalculate, tmp_path):
    edited = Inputs(t1=0.01, t2=0.99, w=(0.3, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55))
    book = load_workbook(ROOT / "asgmt_backpropagation.xlsx")
    cells = inputs_cells()
    for name, value in {"t1": 0.01, "t2": 0.99, "w1": 0.3}.items():
        book["Inputs"][cells[name].split("!")[1].replace("$", "")] = value
    book.save(tmp_path / "edited.xlsx")
    sheets = recalculate(tmp_path / "edited.xlsx")
    assert_matches_autograd(sheets, edited)
    summary = sheets["Summary"]
    e_total_k100 = [float(row[-1]) for row in summary[2:8]]
    assert e_total_k100 == pytest.approx([table(sheets[lr_sheet_title(lr)])[99]["E_total"] for lr in LEARNING_RATES])


# A formula's pieces: all the LR sheets' formulas use (cell references, numbers, + - * / ^ and EXP), nothing else.
TOKEN = re.compile(r"(?P<ref>(?:(?P<sheet>\w+)!)?\$?(?P<col>[A-Z]+)\$?(?P<row>\d+))|(?P<exp>EXP\()"
                   r"|(?P<number>\d+(?:\.\d+)?)|(?P<op>[-+*/()])|(?P<power>\^)")


def formula_values(book, title: str) -> dict[str, float]:
    """Every cell of an LR sheet, its formulas evaluated in Python: what a spreadsheet app computes from them, without
    one (a formula with anything but the pieces in TOKEN fails here, rather than being misread)."""
    values: dict[str, float] = {}

    def value(sheet: str, cell: str) -> float:
        key = f"{sheet}!{cell}"
        if key not in values:
            content = book[sheet][cell].value
            if isinstance(content, str) and content.startswith("="):
                values[key] = evaluate_formula(content[1:], sheet, value)
            else:
                values[key] = float(content)
        return values[key]

    rows = book[title].iter_rows(min_row=HEADER_ROW + 1, max_col=len(COLUMNS))
    return {cell.coordinate: value(title, cell.coordinate) for row in rows for cell in row}


def evaluate_formula(formula: str, sheet: str, value) -> float:
    """``formula`` (without its "=") as Python arithmetic, each reference read through ``value(sheet, cell)``.
    Excel's ^ is Python's **; the formulas never put a unary minus before ^, where the two would differ."""
    python, at = [], 0
    while at < len(formula):
        token = TOKEN.match(formula, at)
        assert token, f"{sheet}: cannot read {formula[at:]!r} in ={formula}"
        if token["ref"]:
            python.append(repr(value(token["sheet"] or sheet, token["col"] + token["row"])))
        else:
            python.append({"exp": "math.exp(", "power": "**"}.get(token.lastgroup, token[0]))
        at = token.end()
    return eval("".join(python), {"math": math})  # only numbers, operators and math.exp, as built above


@pytest.mark.parametrize("inputs", [Inputs(), Inputs(t1=0.01, t2=0.99, w=(0.3, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55))])
def test_the_generators_formulas_evaluated_in_python_equal_autograd(inputs):
    """The quick loop's check of the formulas themselves: those the generator writes, evaluated cell by cell, give
    autograd's values on every LR sheet (LibreOffice recalculates the committed file in the slow tests)."""
    iterations = 3
    book = build_workbook(inputs, iterations=iterations)
    sheets = {}
    for lr in LEARNING_RATES:
        values = formula_values(book, lr_sheet_title(lr))
        rows = [[repr(values[f"{get_column_letter(col)}{row}"]) for col in range(1, len(COLUMNS) + 1)]
                for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + iterations)]
        sheets[lr_sheet_title(lr)] = [[]] * (HEADER_ROW - 1) + [list(COLUMNS)] + rows
    assert_matches_autograd(sheets, inputs, iterations=iterations)


def test_every_number_outside_inputs_is_a_formula():
    book = build_workbook(iterations=3)
    for lr in LEARNING_RATES:
        ws = book[lr_sheet_title(lr)]
        for row in ws.iter_rows(min_row=HEADER_ROW + 1):
            for cell in row[1:]:
                assert isinstance(cell.value, str) and cell.value.startswith("="), cell.coordinate


def test_every_lr_header_carries_its_formula_as_a_comment():
    ws = build_workbook(iterations=1)["LR=0.5"]
    for cell in ws[HEADER_ROW]:
        assert cell.comment is not None and cell.comment.text, cell.value
    assert "a_h2·(1 − a_h2)" in ws.cell(HEADER_ROW, COLUMNS.index("dE/dw3") + 1).comment.text


def test_summary_has_a_chart_of_all_six_learning_rates():
    with zipfile.ZipFile(ROOT / "asgmt_backpropagation.xlsx") as book:
        charts = [name for name in book.namelist() if name.startswith("xl/charts/chart")]
        assert len(charts) == 1
        chart = book.read(charts[0]).decode()
    assert len(re.findall(r"<(?:c:)?ser>", chart)) == len(LEARNING_RATES)
    assert all(f"η = {lr}" in chart for lr in LEARNING_RATES)  # the cached legend, for readers that do not recalculate
    # each line's name is its sheet's label cell, which a spreadsheet computes from that sheet's η
    assert re.findall(r"<(?:c:)?tx><(?:c:)?strRef><(?:c:)?f>([^<]+)</", chart) == [
        f"'{lr_sheet_title(lr)}'!$C$1" for lr in LEARNING_RATES]


@pytest.mark.slow
def test_an_edited_learning_rate_renames_its_line_in_the_chart_legend(recalculate, tmp_path):
    book = load_workbook(ROOT / "asgmt_backpropagation.xlsx")
    book["LR=0.5"]["B1"] = 0.7
    book.save(tmp_path / "edited.xlsx")
    sheets = recalculate(tmp_path / "edited.xlsx")
    assert sheets["LR=0.5"][0][:3] == ["η (learning rate)", "0.7", "η = 0.7"]  # the cell the legend reads
    assert "Sheet names" in " ".join(cell for row in sheets["Inputs"] for cell in row)  # says the name stays


def test_every_formula_carries_its_value_for_readers_that_do_not_recalculate():
    """openpyxl with data_only=True reads cached values only, like pandas and file previews."""
    book = load_workbook(ROOT / "asgmt_backpropagation.xlsx", data_only=True)
    for lr in LEARNING_RATES:
        ws = book[lr_sheet_title(lr)]
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=len(COLUMNS))]
        sheet = [[]] * (HEADER_ROW - 1) + [list(COLUMNS)] + [[str(v) for v in row] for row in rows]
        assert_matches_autograd({lr_sheet_title(lr): sheet}, Inputs(), learning_rates=[lr])
    summary = book["Summary"]
    assert [summary.cell(r, 1).value for r in range(3, 9)] == list(LEARNING_RATES)
    assert all(isinstance(c.value, float) for row in summary.iter_rows(min_row=3, max_row=8) for c in row)


@pytest.mark.slow
def test_cached_values_equal_libreoffice_recalculation(recalculate):
    recalculated = recalculate(ROOT / "asgmt_backpropagation.xlsx")
    cached = load_workbook(ROOT / "asgmt_backpropagation.xlsx", data_only=True)
    for title in [lr_sheet_title(lr) for lr in LEARNING_RATES] + ["Summary"]:
        for r, row in enumerate(recalculated[title][2:], start=3):
            for c, text in enumerate(row, start=1):
                value = cached[title].cell(r, c).value
                if isinstance(value, float):
                    assert float(text) == pytest.approx(value, rel=1e-12, abs=1e-15), f"{title} {r},{c}"


@pytest.mark.slow
def test_printed_workbook_is_a_page_a_sheet_with_column_a_whole(soffice, tmp_path):
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(ROOT / "asgmt_backpropagation.xlsx")],
                   check=True, capture_output=True, timeout=180)
    pdf = (tmp_path / "asgmt_backpropagation.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 2 + len(LEARNING_RATES) + 1  # Inputs, one per LR sheet, Summary (table, chart, legend), Derivation
    book = load_workbook(ROOT / "asgmt_backpropagation.xlsx")
    for lr in LEARNING_RATES:
        ws = book[lr_sheet_title(lr)]
        assert ws.column_dimensions["A"].width >= len(ws["A1"].value)
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage


def test_regenerating_the_workbook_reproduces_the_committed_bytes(tmp_path):
    """Twice the same bytes, and the committed file's where this openpyxl wrote it (its docProps/app.xml names the
    version: another lays out the same XML otherwise); elsewhere every cell, formulas included, is the committed
    one's, and the test says the bytes were not compared."""
    import openpyxl

    first = run_cli("sheet", "--out", str(tmp_path / "a.xlsx"))
    second = run_cli("sheet", "--out", str(tmp_path / "b.xlsx"))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    committed = ROOT / "asgmt_backpropagation.xlsx"
    writer = re.search(r"Openpyxl ([\w.]+)<", zipfile.ZipFile(committed).read("docProps/app.xml").decode())[1]
    if writer == openpyxl.__version__:
        assert (tmp_path / "a.xlsx").read_bytes() == committed.read_bytes(), "python -m s6 sheet rewrites it"
    else:
        assert cell_contents(tmp_path / "a.xlsx") == cell_contents(committed)
        pytest.skip(f"the committed workbook was written by openpyxl {writer}, this is {openpyxl.__version__}: "
                    "every cell matches, the bytes are not compared")


def cell_contents(path: Path) -> dict:
    book = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets}


def test_sheet_set_changes_the_inputs_sheet(tmp_path):
    path = tmp_path / "b.xlsx"
    path.write_bytes(workbook_bytes(Inputs(t1=0.25), iterations=2))
    assert load_workbook(path)["Inputs"]["B4"].value == 0.25
    result = run_main("sheet", "--out", str(tmp_path / "c.xlsx"), "--set", "t1=0.25", "--iterations", "2")
    assert result.returncode == 0, result.stderr
    assert cell_contents(tmp_path / "c.xlsx") == cell_contents(path)


@pytest.mark.parametrize("args", [["--iterations", "0"], ["--iterations", "-3"], ["--iterations", "ten"],
                                  ["--set", "t1=abc"], ["--set", "w9=1"], ["--set", "t1=nan"]])
def test_bad_sheet_arguments_exit_with_one_line(args, tmp_path):
    result = run_main("sheet", "--out", str(tmp_path / "x.xlsx"), *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.xlsx").exists()


def test_other_inputs_get_a_workbook_of_their_own_and_leave_the_committed_one(tmp_path):
    """`s6 sheet --set t1=0.01` (README's hint) used to overwrite asgmt_backpropagation.xlsx; it names its own file."""
    result = run_cli("sheet", "--set", "t1=0.01", "--iterations", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asgmt_backpropagation-t1=0.01-3iterations.xlsx"]
    if shutil.which("git") and (ROOT / ".git").exists():  # an experiment is not committed by mistake
        ignored = ["git", "-C", str(ROOT), "check-ignore", "-q"]
        assert subprocess.run([*ignored, "asgmt_backpropagation-t1=0.01-3iterations.xlsx"]).returncode == 0
        assert subprocess.run([*ignored, "asgmt_backpropagation.xlsx"]).returncode == 1


def test_a_workbook_edited_by_hand_is_kept_unless_overwrite_is_given(tmp_path):
    """A student fills in the committed workbook, then runs `s6 sheet` (README's command): their work stays.
    What sheet writes itself is rewritten freely (the same bytes), and --overwrite replaces the edited one."""
    book = tmp_path / "asgmt_backpropagation.xlsx"
    assert run_main("sheet", cwd=tmp_path).returncode == 0
    assert run_main("sheet", cwd=tmp_path).returncode == 0  # unchanged: rewriting it is harmless
    edited = load_workbook(book)
    edited["Inputs"]["D1"] = "my notes"
    edited.save(book)
    mine = book.read_bytes()
    refused = run_main("sheet", cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"error: {book.name} differs from what sheet writes (edited, or written by another openpyxl); keep it and "
        "write another with --out NEW.xlsx, or replace it with --overwrite"]
    assert book.read_bytes() == mine and sorted(p.name for p in tmp_path.iterdir()) == [book.name]
    assert run_main("sheet", "--overwrite", cwd=tmp_path).returncode == 0
    assert load_workbook(book)["Inputs"]["D1"].value is None
