"""Small-cell suppression for reports that leave the organisation.

A count of 1–4 persons is shown as "<5" (primary suppression). Where a row or column would let a
reader recompute a hidden cell from its total, the smallest other visible non-zero cell in that
line is hidden too and shown as "x" (complementary suppression), repeated until nothing can be
recomputed.
Derived figures (shares, means) of a hidden count are hidden as well (None)."""

SUPPRESSED = "<5"
COMPLEMENTARY = "x"  # hidden only so that a "<5" in the same line cannot be worked out from the total
DEFAULT_THRESHOLD = 5


def is_small(value: object, threshold: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < threshold


def suppress_matrix(
    cells: dict[tuple[str, str], int], *, row_keys: list[str], col_keys: list[str], threshold: int = DEFAULT_THRESHOLD
) -> set[tuple[str, str]]:
    """The cells to hide in a table whose rows and columns each have a visible total.

    `cells` holds every count including the totals (a "total" column and/or row key)."""
    hidden = {key for key, value in cells.items() if is_small(value, threshold)}
    lines = [[(r, c) for c in col_keys] for r in row_keys] + [[(r, c) for r in row_keys] for c in col_keys]
    changed = True
    while changed:
        changed = False
        for line in lines:
            present = [key for key in line if key in cells]
            hidden_here = [key for key in present if key in hidden]
            if len(hidden_here) != 1:
                continue
            candidates = [key for key in present if key not in hidden and cells[key] > 0]
            if not candidates:
                continue
            smallest = min(candidates, key=lambda key: (cells[key], key))
            hidden.add(smallest)
            changed = True
    return hidden


def suppress_group(values: dict[str, int], *, threshold: int = DEFAULT_THRESHOLD) -> dict[str, int | str]:
    """One line of counts with its total (key "total"): hidden counts become "<5"."""
    keys = list(values)
    hidden = suppress_matrix(
        {("row", k): v for k, v in values.items()}, row_keys=["row"], col_keys=keys, threshold=threshold
    )
    return {k: hidden_label(v, threshold) if ("row", k) in hidden else v for k, v in values.items()}


def hidden_label(value: int, threshold: int = DEFAULT_THRESHOLD) -> str:
    """ "<5" for a small count, "x" for a larger one hidden to protect a small one."""
    return SUPPRESSED if is_small(value, threshold) else COMPLEMENTARY
