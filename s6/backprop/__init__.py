"""Part 1: backpropagation by hand on a 2-2-2 sigmoid network.

network.py  the forward and backward pass with the chain rule written out (the reference)
workbook.py asgmt_backpropagation.xlsx: the same network in live spreadsheet formulas
figures.py  the derivation images in images/

Nothing here imports Part 2 (the MNIST models); both share only S6Error and the atomic file writes of
s6/__init__.py.
"""

# The workbook's size, here rather than in workbook.py so that the command line reads them without importing
# openpyxl (0.17 s of every command, training included).
WORKBOOK = "asgmt_backpropagation.xlsx"  # the committed workbook: the default inputs, ITERATIONS rows
ITERATIONS = 100  # rows per LR sheet of the committed workbook
MAX_ITERATIONS = 1000  # rows per LR sheet; 1,000 already means 192,000 formulas, and spreadsheet apps slow down
