"""Small-cell suppression for reports that leave the organisation.

A count of 1–4 persons is shown as "<5" (primary suppression). Then an audit treats every hidden
cell as an unknown in the table's sums (each line adds up to its total): while any hidden cell can be
worked out exactly from the visible cells and the sums — directly from one line, or by combining
lines, zeros included — another visible non-zero cell in one of its lines is hidden too, shown as
"x" (complementary suppression). Derived figures (shares, means) of a hidden count are hidden too."""

import numpy as np

SUPPRESSED = "<5"
COMPLEMENTARY = "x"  # hidden only so that a "<5" cannot be worked out from the sums
DEFAULT_THRESHOLD = 5


def is_small(value: object, threshold: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < threshold


def _lines(cells: dict, row_keys: list[str], col_keys: list[str], rows_add_up: bool, cols_add_up: bool) -> list:
    """Each sum in the table as (parts, total): a row adds up to its last column, a column to its last row."""
    lines = []
    if cols_add_up:
        for r in row_keys:
            parts = [(r, c) for c in col_keys[:-1] if (r, c) in cells]
            if (r, col_keys[-1]) in cells:
                lines.append((parts, (r, col_keys[-1])))
    if rows_add_up:
        for c in col_keys:
            parts = [(r, c) for r in row_keys[:-1] if (r, c) in cells]
            if (row_keys[-1], c) in cells:
                lines.append((parts, (row_keys[-1], c)))
    return lines


def _determined(hidden: list, lines: list) -> list:
    """The hidden cells whose value follows from the sums (their unit vector is in the row space)."""
    if not hidden or not lines:
        return []
    index = {key: i for i, key in enumerate(hidden)}
    matrix = np.zeros((len(lines), len(hidden)))
    for row, (parts, total) in enumerate(lines):
        for key in parts:
            if key in index:
                matrix[row, index[key]] += 1
        if total in index:
            matrix[row, index[total]] -= 1
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for key, i in index.items():
        unit = np.zeros((1, len(hidden)))
        unit[0, i] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(key)
    return found


def suppress_matrix(
    cells: dict[tuple[str, str], int],
    *,
    row_keys: list[str],
    col_keys: list[str],
    threshold: int = DEFAULT_THRESHOLD,
    rows_add_up: bool = True,
    cols_add_up: bool = True,
) -> set[tuple[str, str]]:
    """The cells to hide. The last row key and the last column key name the totals; `rows_add_up` /
    `cols_add_up` say whether the rows (per column) and the columns (per row) sum to them."""
    hidden = {key for key, value in cells.items() if is_small(value, threshold)}
    lines = _lines(cells, row_keys, col_keys, rows_add_up, cols_add_up)
    for _ in range(len(cells)):
        determined = set(_determined(sorted(hidden), lines))
        if not determined:
            break
        candidates = {
            key
            for parts, total in lines
            if determined & {*parts, total}
            for key in (*parts, total)
            if key not in hidden and cells[key] > 0
        }
        if not candidates:
            break  # nothing is left to hide next to what can be worked out
        # Hide the cell that leaves the fewest hidden cells computable, the smallest among equals.
        best = min(candidates, key=lambda key: (len(_determined(sorted(hidden | {key}), lines)), cells[key], key))
        hidden.add(best)
    return hidden


def hidden_label(value: int, threshold: int = DEFAULT_THRESHOLD) -> str:
    """ "<5" for a small count, "x" for a larger one hidden to protect a small one."""
    return SUPPRESSED if is_small(value, threshold) else COMPLEMENTARY


def suppress_group(values: dict[str, int], *, threshold: int = DEFAULT_THRESHOLD) -> dict[str, int | str]:
    """One line of counts with its total (the last key): hidden counts become "<5" or "x"."""
    keys = list(values)
    hidden = suppress_matrix(
        {("row", k): v for k, v in values.items()},
        row_keys=["row"],
        col_keys=keys,
        threshold=threshold,
        rows_add_up=False,
    )
    return {k: hidden_label(v, threshold) if ("row", k) in hidden else v for k, v in values.items()}
