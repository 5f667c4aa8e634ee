"""Numbers as a Swedish reader expects them, in one place for pages, charts, PDFs and CSV files:
a space between thousands (1 903 500), a decimal comma (11,75) and a true minus sign (−2,5; a
leading hyphen is a formula to a spreadsheet)."""

THOUSANDS = "\u00a0"  # a no-break space, so that 1 903 500 never breaks over two lines
MINUS = "\u2212"


def swedish_number(value: float | int, decimals: int | None = None) -> str:
    """1 903 500, 11,75, −2,5. With decimals=None a float keeps up to two decimals and drops
    trailing zeros (66,7; 100); with decimals=n it always shows n (66,70)."""
    if isinstance(value, bool):
        raise TypeError("a truth value is not a number")
    if isinstance(value, int) or (decimals is None and float(value).is_integer()):
        text = f"{round(value):,}"
    elif decimals is None:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{decimals}f}"
    return text.replace(",", THOUSANDS).replace(".", ",").replace("-", MINUS)
