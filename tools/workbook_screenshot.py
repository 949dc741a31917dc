"""README's pictures of Part 1's workbook, as headless LibreOffice renders the committed asgmt_backpropagation.xlsx
(its own recalculation of the live formulas, not numbers written by Python): the Summary sheet with its own loss
chart; one learning-rate sheet in three views that each fit GitHub's column at their own size (the weights, the
forward pass, the gradients), with gridlines between the numbers; and a fourth that shows the formulas behind a
few cells beside every column they read, the column letters and η's row printed with them.

    python tools/workbook_screenshot.py [--sheet LR=0.5] [--rows 12] [--out-dir images]

A view is the sheet with the other columns hidden, printed at 100% and rendered at 96 dots per inch, so its text is
as large as on a screen; each is at most MAX_WIDTH pixels wide. Each picture records the SHA-256 of the workbook it
shows (a PNG text chunk), so a test fails when the workbook changes and the pictures do not. Needs LibreOffice
(``soffice``) and poppler's ``pdftoppm``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image, ImageChops
from PIL.PngImagePlugin import PngInfo

from s6 import S6Error, atomic_write_bytes, writable_dir
from s6.backprop.network import COLUMNS, WEIGHTS
from s6.backprop.workbook import HEADER_ROW, LR_CELL
from s6.cli import positive_int

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK = ROOT / "asgmt_backpropagation.xlsx"
SHA_KEY = "s6-workbook-sha256"  # the PNG text chunk that names the workbook shown
MAX_WIDTH = 1000  # pixels: wider, and GitHub's column (about 880 px) shrinks the text past reading
DPI = 96  # a screen's: 10-point text is 13 pixels high
# Each view's file (images/workbook_<sheet>_<view>.png) and the columns it shows of the LR sheet's table.
VIEWS = {
    "weights": ("iteration", *WEIGHTS),
    "forward": ("iteration", "h1", "a_h1", "h2", "a_h2", "o1", "a_o1", "o2", "a_o2"),
    "gradients": ("iteration", "E_total", *(f"dE/d{w}" for w in WEIGHTS)),
    # The update, a sigmoid, and the gradient the template slips on, beside every column their formulas read, so
    # that each letter in a formula can be checked against its column's name in the picture.
    "formulas": ("i1", "t1", "t2", "w3", "w6", "w8", "h2", "a_h2", "a_o1", "a_o2", "dE/dw3"),
}
FORMULAS = ("w3", "a_h2", "dE/dw3")  # the formulas view's columns shown as formulas; the others show values
FORMULA_ROWS = 2  # the first row reads Inputs, the second the row above: every kind of formula the sheet has
FORMULA_WIDTH = 20  # characters: the longest formula wraps inside this, so the view stays within MAX_WIDTH
WIDTH = 10  # characters a column, the workbook's 11 less one, so nine fit: LibreOffice shows a digit less
NARROW = 6  # characters a value column of the formulas view, its values to three decimals: they are there so the
# column can be told by its name, not to be read (the three other views show them in full)
LINE = 15  # points: a 10-point line's height in a row
SUMMARY = "Summary"  # the sheet with the workbook's own chart of E_total against iteration


def workbook_sha256(path: Path = WORKBOOK) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def view_path(folder: Path, sheet: str, view: str) -> Path:
    return folder / f"workbook_{sheet.replace('=', '').lower()}_{view}.png"  # LR=0.5 -> workbook_lr0.5_weights.png


def summary_path(folder: Path) -> Path:
    return folder / "workbook_summary_chart.png"


def only_sheet(book: openpyxl.Workbook, sheet: str) -> Worksheet:
    """``sheet``, the others hidden (not deleted: the formulas read them), so LibreOffice prints it alone."""
    if sheet not in book.sheetnames:
        raise S6Error(f"no sheet {sheet!r} in the workbook; it has: {', '.join(book.sheetnames)}")
    ws = book[sheet]
    for other in book.worksheets:
        if other is not ws:
            other.sheet_state = "hidden"
    book.active = book.sheetnames.index(sheet)
    return ws


def one_page_at_100(ws: Worksheet, area: str, gridlines: bool = True, headings: bool = False) -> None:
    """Print ``area`` at 100% on one landscape page, with gridlines between the cells (without them, LibreOffice
    runs neighbouring numbers together)."""
    ws.print_area = area
    ws.print_options.gridLines, ws.print_options.headings = gridlines, headings
    ws.page_setup.orientation = "landscape"
    ws.page_margins.left = ws.page_margins.right = 0.25  # inches: the widest view needs the page's width
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100


def one_sheet_copy(source: Path, sheet: str, rows: int, columns: tuple[str, ...], out: Path,
                   formulas: tuple[str, ...] = ()) -> None:
    """A copy that prints only ``sheet``'s ``columns`` of its header and first ``rows`` iterations. The other
    columns are hidden (not deleted: the formulas read them).

    ``formulas``: these columns' cells hold their formula's text instead (LibreOffice prints values even when the
    sheet is set to show formulas), wrapped within FORMULA_WIDTH; the other columns are narrow and hold the values
    the committed file stores (to three decimals); the column letters the formulas name are printed, and so is
    row 1, where η ($B$1) is."""
    book = openpyxl.load_workbook(source)
    ws = only_sheet(book, sheet)
    stored = openpyxl.load_workbook(source, data_only=True)[sheet]  # the values the committed file carries
    for i, name in enumerate(COLUMNS, start=1):
        column = ws.column_dimensions[get_column_letter(i)]
        column.hidden, column.width = name not in columns, (NARROW if formulas else WIDTH)
        if formulas and name in columns and name not in formulas:
            for row in (1, *range(HEADER_ROW + 1, HEADER_ROW + 1 + rows)):
                # The stored value, not the formula: a formula here would read the text the formulas became.
                cell = ws.cell(row, i)
                cell.value, cell.number_format = stored.cell(row, i).value, "0.000"
                cell.alignment = Alignment(vertical="top")  # level with the formulas' first line
        if name in formulas:
            cells = [ws.cell(row, i) for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + rows)]
            for cell in cells:
                cell.value, cell.data_type = str(cell.value), "s"  # the formula as text: shown, not computed
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            column.width = min(FORMULA_WIDTH, max(WIDTH, *(len(cell.value) + 1 for cell in cells)))
            for cell in cells:  # LibreOffice keeps the stored row height: give the wrapped lines theirs
                lines = math.ceil(len(cell.value) / (column.width - 1))
                ws.row_dimensions[cell.row].height = max(ws.row_dimensions[cell.row].height or 0, LINE * lines)
    if formulas:
        for row in range(2, HEADER_ROW):  # the sentence in row 2 would run across the shown columns
            ws.row_dimensions[row].hidden = True
        # η's cell says what it is: its label in A1 is hidden with column A (so is the table's iteration column).
        ws[LR_CELL.replace("$", "")].number_format = '"η = "0.0##'
        ws.column_dimensions["B"].width = NARROW + 2
    first = 1 if formulas else HEADER_ROW  # without row 1, column B starts at i1, not at η
    one_page_at_100(ws, f"A{first}:{get_column_letter(len(COLUMNS))}{HEADER_ROW + rows}", headings=bool(formulas))
    book.save(out)


def summary_copy(source: Path, out: Path) -> None:
    """A copy that prints only the Summary sheet: its table and the workbook's own chart, as a user sees them."""
    book = openpyxl.load_workbook(source)
    ws = only_sheet(book, SUMMARY)
    ws.sheet_properties.pageSetUpPr.fitToPage = False  # no print area: LibreOffice prints the table and the chart
    ws.page_setup.scale = 100
    ws.print_options.gridLines = False
    book.save(out)


def render(workbook: Path, folder: Path) -> Image.Image:
    """The first page of LibreOffice's PDF of ``workbook``, as an image, cropped to what is printed."""
    pdf = folder / f"{workbook.stem}.pdf"
    for command in (["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(workbook)],
                    ["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                     str(folder / "page")]):
        try:
            subprocess.run(command, check=True, capture_output=True, text=True, timeout=180)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
            said = (getattr(e, "stderr", None) or "").strip().splitlines()
            raise S6Error(f"{command[0]} failed ({said[-1] if said else e})") from None
    page = Image.open(folder / "page.png").convert("RGB")
    box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
    margin = 12
    return page.crop((box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheet", default="LR=0.5", help="the sheet to show (default: %(default)s)")
    parser.add_argument("--rows", type=positive_int, default=12, help="iterations shown (default: %(default)s)")
    parser.add_argument("--out-dir", default=str(ROOT / "images"),
                        help="where the PNGs go (default: the repository's images/)")
    args = parser.parse_args()
    try:
        for tool in ("soffice", "pdftoppm"):
            if shutil.which(tool) is None:
                raise S6Error(f"{tool} not found (apt-get install libreoffice-calc-nogui poppler-utils)")
        folder = writable_dir(args.out_dir, "--out-dir")  # before LibreOffice's seconds, not after
        images = {}
        with tempfile.TemporaryDirectory() as tmp:
            for view, columns in VIEWS.items():
                copy = Path(tmp) / f"{view}.xlsx"
                formulas = FORMULAS if view == "formulas" else ()
                one_sheet_copy(WORKBOOK, args.sheet, FORMULA_ROWS if formulas else args.rows, columns, copy, formulas)
                images[view_path(folder, args.sheet, view)] = render(copy, Path(tmp))
            copy = Path(tmp) / "summary.xlsx"
            summary_copy(WORKBOOK, copy)
            images[summary_path(folder)] = render(copy, Path(tmp))
        for path, image in images.items():
            if image.width > MAX_WIDTH:
                raise S6Error(f"{path.name} is {image.width} px wide, over {MAX_WIDTH}: show fewer columns")
    except S6Error as e:
        sys.exit(f"error: {e}")
    info = PngInfo()
    info.add_text(SHA_KEY, workbook_sha256())
    for out, image in images.items():
        png = io.BytesIO()
        image.save(png, format="PNG", pnginfo=info, optimize=True)
        atomic_write_bytes(out, png.getvalue())  # whole or not at all
        print(f"wrote {out} ({image.width}x{image.height}) of {WORKBOOK.name}")


if __name__ == "__main__":
    main()
