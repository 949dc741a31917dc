"""README's picture of Part 1's workbook: one learning-rate sheet of the committed asgmt_backpropagation.xlsx, as
headless LibreOffice renders it (its own recalculation of the live formulas, not numbers written by Python).

    python tools/workbook_screenshot.py [--sheet LR=0.5] [--rows 20] [--out images/workbook_lr0.5.png]

The picture records the SHA-256 of the workbook it shows (a PNG text chunk), so a test fails when the workbook
changes and the picture does not. Needs LibreOffice (``soffice``) and poppler's ``pdftoppm``.
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
from s6.cli import positive_int
from s6.files import atomic_write_bytes, writable_file

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK = ROOT / "asgmt_backpropagation.xlsx"
SHA_KEY = "s6-workbook-sha256"  # the PNG text chunk that names the workbook shown


def workbook_sha256(path: Path = WORKBOOK) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_sheet_copy(source: Path, sheet: str, rows: int, out: Path) -> None:
    """A copy that prints only ``sheet``'s header and first ``rows`` iterations, on one landscape page. The other
    sheets stay (the formulas read Inputs) but are hidden, so LibreOffice prints none of them."""
    book = openpyxl.load_workbook(source)
    if sheet not in book.sheetnames:
        raise S6Error(f"no sheet {sheet!r} in {source.name}; it has: {', '.join(book.sheetnames)}")
    ws = book[sheet]
    for other in book.worksheets:
        if other is not ws:
            other.sheet_state = "hidden"
    book.active = book.sheetnames.index(sheet)
    ws.print_area = f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{4 + rows}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    book.save(out)


def render(workbook: Path, folder: Path) -> Image.Image:
    """The first page of LibreOffice's PDF of ``workbook``, as an image, cropped to what is printed."""
    pdf = folder / f"{workbook.stem}.pdf"
    for command in (["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(workbook)],
                    ["pdftoppm", "-png", "-r", "220", "-f", "1", "-l", "1", "-singlefile", str(pdf),
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
    parser.add_argument("--out", default=str(ROOT / "images" / "workbook_lr0.5.png"),
                        help="where the PNG goes (default: images/workbook_lr0.5.png)")
    args = parser.parse_args()
    try:
        for tool in ("soffice", "pdftoppm"):
            if shutil.which(tool) is None:
                raise S6Error(f"{tool} not found (apt-get install libreoffice-calc-nogui poppler-utils)")
        out = writable_file(args.out, "--out")  # before LibreOffice's seconds, not after
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "sheet.xlsx"
            one_sheet_copy(WORKBOOK, args.sheet, args.rows, copy)
            image = render(copy, Path(tmp))
    except S6Error as e:
        sys.exit(f"error: {e}")
    info = PngInfo()
    info.add_text(SHA_KEY, workbook_sha256())
    png = io.BytesIO()
    image.save(png, format="PNG", pnginfo=info, optimize=True)
    atomic_write_bytes(out, png.getvalue())  # whole or not at all
    print(f"wrote {out} ({image.width}x{image.height}) of {WORKBOOK.name}'s sheet {args.sheet}")


if __name__ == "__main__":
    main()
