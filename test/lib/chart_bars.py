#!/usr/bin/python3
"""The bars a screenshot shows, by colour: for each NAME=#RRGGBB given, the bars of that
colour standing on a common baseline, left to right, with their height in pixels.

    chart_bars.py SCREENSHOT.png NAME=#RRGGBB ...

prints one line per colour: NAME COUNT H1 H2 ... (heights in pixels, left to right).

The report draws its bars with crisp edges (no anti-aliasing), so a bar's pixels are its
colour exactly (within 3 per channel). The baseline is the lowest row of the colour; a bar
is a run of columns with the colour in the three rows above it (a legend patch, higher up,
is not one); its height, the rows of the colour going up from the baseline in the run's
middle column.
"""
import sys

import numpy as np
from PIL import Image


def bars(img, colour):
    c = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    mask = (np.abs(img - c) <= 3).all(axis=2)
    rows = np.where(mask.any(axis=1))[0]
    if rows.size == 0:
        return []
    base = int(rows.max())
    band = mask[max(base - 2, 0):base + 1].any(axis=0)
    out = []
    x = 0
    width = band.size
    while x < width:
        if not band[x]:
            x += 1
            continue
        start = x
        while x < width and band[x]:
            x += 1
        mid = (start + x - 1) // 2
        top = base
        y = base
        while y >= 0 and mask[y, mid]:
            top = y
            y -= 1
        out.append(base - top + 1)
    return out


def main():
    img = np.asarray(Image.open(sys.argv[1]).convert("RGB"), dtype=np.int16)
    for arg in sys.argv[2:]:
        name, colour = arg.split("=", 1)
        found = bars(img, colour)
        print(name, len(found), *found)


if __name__ == "__main__":
    main()
