"""Writes asgmt_backpropagation.xlsx: Part 1's network in live spreadsheet formulas.

Every number outside the Inputs sheet is a formula, so editing an input or a starting
weight recomputes every iteration, every learning rate and the chart.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.data_source import StrData, StrRef, StrVal
from openpyxl.chart.series import SeriesLabel
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from s6.backprop import ITERATIONS, MAX_ITERATIONS
from s6.backprop.derivation import FORWARD, NOTE, STEPS, gradient
from s6.backprop.network import COLUMNS, LEARNING_RATES, WEIGHTS, Inputs, train

HEADER_ROW = 4  # the LR sheets' table header; iteration 1 is the row below
LR_CELL = "$B$1"  # where each LR sheet holds its learning rate
LABEL_CELL = "$C$1"  # "η = 0.1", computed from LR_CELL: the chart's legend reads it, so it follows an edited η
SHEET_NAMES_NOTE = ("Sheet names (LR=0.1 ...) are fixed when the workbook is written: edit η in cell B1 of an LR "
                    "sheet and its table, the Summary and the chart's legend follow; the sheet's name does not (a "
                    "spreadsheet cannot compute a sheet's name).")
EDITABLE = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
NUMBERS_HEADER = Alignment(horizontal="right")  # over its column's numbers, which a spreadsheet right-aligns

# Cell comments on the LR tables' headers: each column's formula in symbols (the chain rule: s6.backprop.derivation).
DOC = {
    "iteration": "Iteration k: the weights after k - 1 gradient-descent updates.",
    "i1": "Input i1, from the Inputs sheet.",
    "i2": "Input i2, from the Inputs sheet.",
    "t1": "Target t1 for output a_o1, from the Inputs sheet.",
    "t2": "Target t2 for output a_o2, from the Inputs sheet.",
    **{w: f"{w}: Inputs at iteration 1; then {w} ← {w} − η·∂E_total/∂{w} of the row above." for w in WEIGHTS},
    **{name: f"{name} = {formula}" for name, formula in FORWARD.items()},
    "a_h1": f"a_h1 = {FORWARD['a_h1']} = 1 / (1 + e^(−h1))",
    "a_h2": f"a_h2 = {FORWARD['a_h2']} = 1 / (1 + e^(−h2))",
    "E1": "E1 = ½·(t1 − a_o1)²",
    "E2": "E2 = ½·(t2 − a_o2)²",
    "E_total": "E_total = E1 + E2",
    **{f"dE/d{w}": f"∂E_total/∂{w} = {gradient(w)}{NOTE.get(w, '')}" for w in WEIGHTS},
}

SUMMARY_ITERATIONS = (1, 10, 50, 100)
FIXED_TIME = datetime(2026, 1, 1)  # the document's created/modified stamp: regenerating must not change the file
STAMP = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()


def inputs_cells() -> dict[str, str]:
    """Absolute reference of each editable input on the Inputs sheet."""
    names = ["i1", "i2", "t1", "t2", *WEIGHTS]
    return {name: f"Inputs!$B${row}" for row, name in enumerate(names, start=2)}


def lr_sheet_title(lr: float) -> str:
    return f"LR={lr}"


def _row_formulas(row: int) -> dict[str, str]:
    """The formula of every column in one LR-sheet row (row > HEADER_ROW)."""
    col = {name: get_column_letter(i) for i, name in enumerate(COLUMNS, start=1)}
    c = {name: f"{col[name]}{row}" for name in COLUMNS}  # this row's cells
    first = row == HEADER_ROW + 1
    src = inputs_cells()
    f = {"iteration": "1" if first else f"={col['iteration']}{row - 1}+1"}
    for name in ("i1", "i2", "t1", "t2"):
        f[name] = f"={src[name]}"
    for w in WEIGHTS:
        f[w] = f"={src[w]}" if first else f"={col[w]}{row - 1}-{LR_CELL}*{col['dE/d' + w]}{row - 1}"
    f["h1"] = f"={c['w1']}*{c['i1']}+{c['w2']}*{c['i2']}"
    f["a_h1"] = f"=1/(1+EXP(-{c['h1']}))"
    f["h2"] = f"={c['w3']}*{c['i1']}+{c['w4']}*{c['i2']}"
    f["a_h2"] = f"=1/(1+EXP(-{c['h2']}))"
    f["o1"] = f"={c['w5']}*{c['a_h1']}+{c['w6']}*{c['a_h2']}"
    f["a_o1"] = f"=1/(1+EXP(-{c['o1']}))"
    f["o2"] = f"={c['w7']}*{c['a_h1']}+{c['w8']}*{c['a_h2']}"
    f["a_o2"] = f"=1/(1+EXP(-{c['o2']}))"
    f["E1"] = f"=0.5*({c['t1']}-{c['a_o1']})^2"
    f["E2"] = f"=0.5*({c['t2']}-{c['a_o2']})^2"
    f["E_total"] = f"={c['E1']}+{c['E2']}"
    delta_o1 = f"({c['a_o1']}-{c['t1']})*{c['a_o1']}*(1-{c['a_o1']})"  # dE/do1
    delta_o2 = f"({c['a_o2']}-{c['t2']})*{c['a_o2']}*(1-{c['a_o2']})"  # dE/do2
    f["dE/dw5"] = f"={delta_o1}*{c['a_h1']}"
    f["dE/dw6"] = f"={delta_o1}*{c['a_h2']}"
    f["dE/dw7"] = f"={delta_o2}*{c['a_h1']}"
    f["dE/dw8"] = f"={delta_o2}*{c['a_h2']}"
    d_a_h1 = f"({delta_o1}*{c['w5']}+{delta_o2}*{c['w7']})"  # dE/da_h1
    d_a_h2 = f"({delta_o1}*{c['w6']}+{delta_o2}*{c['w8']})"  # dE/da_h2
    f["dE/dw1"] = f"={d_a_h1}*{c['a_h1']}*(1-{c['a_h1']})*{c['i1']}"
    f["dE/dw2"] = f"={d_a_h1}*{c['a_h1']}*(1-{c['a_h1']})*{c['i2']}"
    f["dE/dw3"] = f"={d_a_h2}*{c['a_h2']}*(1-{c['a_h2']})*{c['i1']}"
    f["dE/dw4"] = f"={d_a_h2}*{c['a_h2']}*(1-{c['a_h2']})*{c['i2']}"
    return f


def _write_inputs(wb: Workbook, inputs: Inputs) -> None:
    ws = wb.active
    ws.title = "Inputs"
    ws.append(["name", "value", "meaning (edit the blue cells; every other sheet follows)"])
    meaning = {"i1": "input 1", "i2": "input 2", "t1": "target of output 1", "t2": "target of output 2"}
    values = {"i1": inputs.i1, "i2": inputs.i2, "t1": inputs.t1, "t2": inputs.t2, **dict(zip(WEIGHTS, inputs.w))}
    for name, ref in inputs_cells().items():
        row = int(ref.rsplit("$", 1)[1])
        ws.cell(row, 1, name)
        ws.cell(row, 2, values[name]).fill = EDITABLE
        ws.cell(row, 3, meaning.get(name, f"starting weight {name}"))
    for cell in ws[1]:
        cell.font = BOLD
    ws.column_dimensions["C"].width = 52
    ws.cell(len(inputs_cells()) + 3, 1, SHEET_NAMES_NOTE)


def _write_lr_sheet(wb: Workbook, lr: float, iterations: int) -> None:
    ws = wb.create_sheet(lr_sheet_title(lr))
    ws["A1"] = "η (learning rate)"
    ws["B1"] = lr
    ws["B1"].fill = EDITABLE
    ws[LABEL_CELL.replace("$", "")] = f'="η = "&{LR_CELL}'  # the legend's name for this sheet's line
    ws["A2"] = "Each row: forward pass, error and gradients; the next row's weights are w − η·∂E_total/∂w."
    for i, name in enumerate(COLUMNS, start=1):
        cell = ws.cell(HEADER_ROW, i, name)
        cell.font, cell.alignment = BOLD, NUMBERS_HEADER
        cell.comment = Comment(DOC[name], "s6")
        ws.column_dimensions[get_column_letter(i)].width = 11
    ws.column_dimensions["A"].width = 17  # "η (learning rate)" in A1, uncut on screen and on paper
    for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + iterations):
        formulas = _row_formulas(row)
        for i, name in enumerate(COLUMNS, start=1):
            ws.cell(row, i, formulas[name] if formulas[name].startswith("=") else int(formulas[name]))
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2)


def _write_summary(wb: Workbook, iterations: int) -> None:
    ws = wb.create_sheet("Summary")
    ws["A1"] = "E_total at iteration k (row k of each LR sheet: the weights after k − 1 updates)"
    ws["A1"].font = BOLD
    shown = [k for k in SUMMARY_ITERATIONS if k <= iterations]
    ws.append(["η", *(f"k = {k}" for k in shown)])
    e_col = COLUMNS.index("E_total") + 1
    for lr in LEARNING_RATES:
        title = lr_sheet_title(lr)
        ws.append([f"='{title}'!{LR_CELL}", *(f"='{title}'!{get_column_letter(e_col)}{HEADER_ROW + k}" for k in shown)])
    chart = LineChart()
    chart.title = "E_total against iteration, one line per learning rate"
    chart.x_axis.title = "iteration"
    chart.y_axis.title = "E_total"
    chart.height, chart.width = 10, 20
    first, last = HEADER_ROW + 1, HEADER_ROW + iterations
    for lr in LEARNING_RATES:
        sheet = wb[lr_sheet_title(lr)]
        chart.add_data(Reference(sheet, min_col=e_col, min_row=first, max_row=last))
        cached = StrData(ptCount=1, pt=[StrVal(idx=0, v=f"η = {lr}")])  # shown until a reader recalculates
        label = StrRef(f=f"'{sheet.title}'!{LABEL_CELL}", strCache=cached)
        chart.series[-1].tx = SeriesLabel(strRef=label)  # the sheet's own label cell, so an edited η shows
        chart.series[-1].smooth = False
    iteration_col = COLUMNS.index("iteration") + 1
    chart.set_categories(Reference(wb[lr_sheet_title(LEARNING_RATES[0])], min_col=iteration_col,
                                   min_row=first, max_row=last))
    chart.x_axis.delete = False  # openpyxl >= 3.1 hides both axes unless told otherwise
    chart.y_axis.delete = False
    chart.x_axis.tickLblSkip = 10
    ws.add_chart(chart, "A10")


def _write_derivation(wb: Workbook) -> None:
    ws = wb.create_sheet("Derivation")
    ws.append(["step", "for", "chain rule"])
    for cell in ws[1]:
        cell.font = BOLD
    for step, (target, text) in enumerate(STEPS, start=1):
        ws.append([step, target, text])
    ws.column_dimensions["C"].width = 110


def _print_layout(wb: Workbook) -> None:
    """Landscape pages, each sheet as wide as one page (long LR tables run on down further pages, their
    header row repeated), and the Summary's table and chart, legend included, on a single page."""
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1 if ws.title == "Summary" else 0  # 0: as many pages down as needed
    for lr in LEARNING_RATES:
        wb[lr_sheet_title(lr)].print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def build_workbook(inputs: Inputs = Inputs(), iterations: int = ITERATIONS) -> Workbook:
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be 1 to {MAX_ITERATIONS}, got {iterations}")
    wb = Workbook()
    _write_inputs(wb, inputs)
    for lr in LEARNING_RATES:
        _write_lr_sheet(wb, lr, iterations)
    _write_summary(wb, iterations)
    _write_derivation(wb)
    _print_layout(wb)
    wb.calculation.fullCalcOnLoad = True  # spreadsheet apps recompute on open; the cached values are for the rest
    wb.properties.created = FIXED_TIME
    return wb


def formula_values(inputs: Inputs = Inputs(), iterations: int = ITERATIONS) -> dict[str, dict[str, float]]:
    """The value of every cell of the LR sheets, by sheet title and cell, as s6.backprop.network computes it.

    Stored in the file as each formula's cached value, so a reader that does not recalculate
    (a file preview, pandas, openpyxl with data_only=True) shows the numbers a spreadsheet app would.
    The Summary's cells only point into these sheets, so their values are looked up, not recomputed.
    """
    values: dict[str, dict[str, float]] = {}
    for lr in LEARNING_RATES:
        cells = {f"{get_column_letter(col)}{HEADER_ROW + k}": row[name]
                 for k, row in enumerate(train(inputs, lr, iterations), start=1)
                 for col, name in enumerate(COLUMNS, start=1)}
        values[lr_sheet_title(lr)] = {LR_CELL.replace("$", ""): lr, LABEL_CELL.replace("$", ""): f"η = {lr}",
                                      **cells}
    return values


FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>([^<]*)</f><v\s*/></c>')
REFERENCE = re.compile(r"'([^']+)'!\$?([A-Z]+)\$?([0-9]+)")  # a formula that is only another sheet's cell


def _fill_cached_values(xml: str, title: str, values: dict[str, dict[str, float]]) -> str:
    """Put each formula cell's value into its empty <v/> (openpyxl writes formulas without values)."""

    def fill(match: re.Match) -> str:
        cell, attributes, formula = match.groups()
        reference = REFERENCE.fullmatch(formula)
        value = values[reference[1]][reference[2] + reference[3]] if reference else values[title][cell]
        if isinstance(value, str):  # a text result is marked as one, or a reader would take it for a number
            return f'<c r="{cell}"{attributes} t="str"><f>{formula}</f><v>{escape(value)}</v></c>'
        return f'<c r="{cell}"{attributes}><f>{formula}</f><v>{value!r}</v></c>'

    return FORMULA_CELL.sub(fill, xml)


def workbook_bytes(inputs: Inputs = Inputs(), iterations: int = ITERATIONS) -> bytes:
    """The .xlsx file: live formulas with their values cached, and the same bytes for the same inputs.

    openpyxl stamps the save time into docProps/core.xml and the zip entries; both are fixed here,
    so regenerating the committed workbook changes nothing unless its content does.
    """
    wb = build_workbook(inputs, iterations)
    saved = io.BytesIO()
    wb.save(saved)
    values = formula_values(inputs, iterations)
    sheet_xml = {f"xl/worksheets/sheet{i}.xml": ws.title for i, ws in enumerate(wb.worksheets, start=1)}
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename in sheet_xml:
                data = _fill_cached_values(data.decode(), sheet_xml[item.filename], values).encode()
            elif item.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<", rb"<dcterms:modified\1>" + STAMP + rb"<", data)
            entry = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = item.external_attr
            target.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
