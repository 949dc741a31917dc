"""README's pictures of Part 1's workbook: one learning-rate sheet of the committed asgmt_backpropagation.xlsx, as
headless LibreOffice renders it (its own recalculation of the live formulas, not numbers written by Python), in
three views that each fit GitHub's column at their own size (the weights, the forward pass, the gradients), and
a fourth that shows the formulas behind a few cells, the column letters beside them.

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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
from PIL import Image, ImageChops
from PIL.PngImagePlugin import PngInfo

from s6 import S6Error
from s6.backprop.network import COLUMNS, WEIGHTS
from s6.backprop.workbook import HEADER_ROW
from s6.cli import positive_int
from s6.files import atomic_write_bytes, writable_dir

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
    "formulas": ("iteration", "w3", "a_h2", "dE/dw3"),  # the update, a sigmoid, and the gradient the template slips on
}
FORMULA_ROWS = 2  # the first row reads Inputs, the second the row above: every kind of formula the sheet has
WIDTH = 10  # characters a column, the workbook's 11 less one, so nine fit: LibreOffice shows a digit less


def workbook_sha256(path: Path = WORKBOOK) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def view_path(folder: Path, sheet: str, view: str) -> Path:
    return folder / f"workbook_{sheet.replace('=', '').lower()}_{view}.png"  # LR=0.5 -> workbook_lr0.5_weights.png


def one_sheet_copy(source: Path, sheet: str, rows: int, columns: tuple[str, ...], out: Path,
                   formulas: bool = False) -> None:
    """A copy that prints only ``sheet``'s ``columns`` of its header and first ``rows`` iterations, at 100% on one
    landscape page. The other sheets stay (the formulas read Inputs) but are hidden, so LibreOffice prints none of
    them; so are the other columns (hidden, not deleted: the formulas read them).

    ``formulas``: each shown cell holds its formula's text instead (LibreOffice prints values even when the sheet
    is set to show formulas), each column as wide as its longest, and the column letters the formulas name are
    printed beside them."""
    book = openpyxl.load_workbook(source)
    if sheet not in book.sheetnames:
        raise S6Error(f"no sheet {sheet!r} in {source.name}; it has: {', '.join(book.sheetnames)}")
    ws = book[sheet]
    for other in book.worksheets:
        if other is not ws:
            other.sheet_state = "hidden"
    book.active = book.sheetnames.index(sheet)
    for i, name in enumerate(COLUMNS, start=1):
        column = ws.column_dimensions[openpyxl.utils.get_column_letter(i)]
        column.hidden, column.width = name not in columns, WIDTH
        if formulas and name in columns and name != "iteration":
            cells = [ws.cell(row, i) for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + rows)]
            for cell in cells:
                cell.value, cell.data_type = str(cell.value), "s"  # the formula as text: shown, not computed
            column.width = max(WIDTH, *(len(cell.value) + 2 for cell in cells))
    ws.print_options.headings = formulas
    # From the table's header down: rows 1-2 (η, a sentence) would need column B, which holds i1 below them.
    ws.print_area = f"A{HEADER_ROW}:{openpyxl.utils.get_column_letter(len(COLUMNS))}{HEADER_ROW + rows}"
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100
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
                formulas = view == "formulas"
                one_sheet_copy(WORKBOOK, args.sheet, FORMULA_ROWS if formulas else args.rows, columns, copy, formulas)
                images[view] = render(copy, Path(tmp))
                if images[view].width > MAX_WIDTH:
                    raise S6Error(f"the {view} view is {images[view].width} px wide, over {MAX_WIDTH}: show fewer "
                                  "columns")
    except S6Error as e:
        sys.exit(f"error: {e}")
    info = PngInfo()
    info.add_text(SHA_KEY, workbook_sha256())
    for view, image in images.items():
        png = io.BytesIO()
        image.save(png, format="PNG", pnginfo=info, optimize=True)
        out = view_path(folder, args.sheet, view)
        atomic_write_bytes(out, png.getvalue())  # whole or not at all
        print(f"wrote {out} ({image.width}x{image.height}) of {WORKBOOK.name}'s sheet {args.sheet}")


if __name__ == "__main__":
    main()
