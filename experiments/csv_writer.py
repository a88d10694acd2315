"""A result table as CSV text, formatted column by column in Arrow (issue 15).

The bytes are exactly those ``pandas.DataFrame.to_csv(index=False, lineterminator="\\n")``
wrote for these tables before, with floats as Python's shortest ``repr`` and NaN empty
(``csv_ready``): integers and booleans as Python prints them, missing values empty, text quoted
(as the csv module's QUOTE_MINIMAL does) only when it holds a comma, a double quote or a
newline. Pandas formats and quotes every cell in Python; here Arrow's compute kernels do it for a
whole column at once, several times faster (benchmarks/README.md). A column of a type not
listed here makes ``csv_text`` return None, and the caller writes the table with pandas.

Floats: Arrow casts a double to its shortest round-trip digits, as ``repr`` does, but writes
whole numbers without ``.0`` and chooses between positional and exponent notation by other
rules. Whole numbers below 1e15 get their ``.0`` here; every other cell where the two could
differ (Arrow wrote an exponent, the value is below 1e-4, or it is -0.0) is formatted by
``repr`` itself. tests/test_csv_writer.py compares the
two on random floats of every magnitude and on every table of a run.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _characters_quoted() -> str:
    """The characters for which this Python's csv module (what pandas writes with) quotes a
    field, with a newline as line ending: the comma, the double quote and the newline (and
    the carriage return, in the Pythons that quote it)."""
    quoted = []
    for char in ',"\n\r':
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([f"a{char}", "b"])
        if line.getvalue().startswith('"'):
            quoted.append(char)
    return "".join(quoted)


_QUOTED = _characters_quoted()
_NEEDS_QUOTES = "[" + _QUOTED + "]"
"""A field holding any of these is quoted (QUOTE_MINIMAL)."""


def csv_text(table: pd.DataFrame) -> str | None:
    """The table as CSV text (header, then one line per row, each ending in a newline), or
    None if a column's type is not one this writer formats (the caller uses pandas)."""
    if len(table.columns) < 2:  # the csv module writes a lone empty field as "": pandas
        return None
    columns = []
    for name in table.columns:
        text = column_text(table[name])
        if text is None:
            return None
        columns.append(text)
    header = ",".join(_quoted_text(str(name)) for name in table.columns)
    if len(table) == 0:
        return header + "\n"
    rows = pc.binary_join_element_wise(*columns, ",")
    return header + "\n" + "\n".join(rows.to_pylist()) + "\n"


def column_text(column: pd.Series) -> pa.StringArray | None:
    """One column's cells as CSV fields (None: a type this writer does not format)."""
    dtype = column.dtype
    if dtype.kind == "f" and isinstance(dtype, np.dtype):
        return float_text(column.to_numpy())
    if dtype.kind in "iu" and isinstance(dtype, np.dtype):
        return pc.cast(pa.array(column.to_numpy()), pa.string())
    if dtype.kind == "b" and isinstance(dtype, np.dtype):
        return _bool_text(pa.array(column.to_numpy()))
    if isinstance(dtype, pd.Int64Dtype):
        return pc.fill_null(pc.cast(pa.array(column.array), pa.string()), "")
    if isinstance(dtype, pd.StringDtype):
        return _quoted(pc.fill_null(pa.array(column.array, type=pa.string()), ""))
    if dtype == np.dtype(object):
        values = column.tolist()
        if all(v is None or type(v) is bool for v in values):  # e.g. a judgement not yet made
            return _bool_text(pa.array(values, type=pa.bool_()))
    return None


def float_text(values: np.ndarray) -> pa.StringArray:
    """Floats as ``repr`` writes them, NaN empty (see the module's docstring)."""
    values = np.asarray(values, dtype=np.float64)
    text = pc.cast(pa.array(values), pa.string())
    finite = np.isfinite(values)
    magnitude = np.abs(values)
    whole = finite & (values == np.floor(values)) & (magnitude < 1e15)
    if whole.any():
        as_int = pc.cast(pa.array(np.where(whole, values, 0.0).astype(np.int64)), pa.string())
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(as_int, ".0", ""), text)
    by_repr = finite & ~whole & (magnitude < 1e-4)
    by_repr |= finite & ~whole & pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    by_repr |= (values == 0) & np.signbit(values)  # -0.0
    if by_repr.any():
        reprs = [repr(v) for v in values[by_repr].tolist()]
        text = pc.replace_with_mask(text, pa.array(by_repr), pa.array(reprs, type=pa.string()))
    missing = np.isnan(values)
    if missing.any():
        text = pc.if_else(pa.array(missing), "", text)
    return text


def _bool_text(values: pa.BooleanArray) -> pa.StringArray:
    return pc.fill_null(pc.if_else(values, "True", "False"), "")


def _quoted(text: pa.StringArray) -> pa.StringArray:
    """Fields with a comma, double quote or line break in double quotes (quotes doubled)."""
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    return pc.if_else(needs, pc.binary_join_element_wise('"', doubled, '"', ""), text)


def _quoted_text(value: str) -> str:
    if any(c in value for c in _QUOTED):
        return '"' + value.replace('"', '""') + '"'
    return value
