"""Part 1: backpropagation by hand on a 2-2-2 sigmoid network.

network.py  the forward and backward pass with the chain rule written out (the reference)
workbook.py asgmt_backpropagation.xlsx: the same network in live spreadsheet formulas
figures.py  the derivation images in images/

Nothing here imports Part 2 (the MNIST models); both share only s6.files and S6Error.
"""
