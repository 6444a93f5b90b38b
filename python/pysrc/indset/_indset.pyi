"""Typed stubs of the `indset` extension module."""

from os import PathLike
from typing import Literal, Optional, Tuple, Union, overload

import pyarrow as pa

Mode = Literal["full", "domain"]
Decision = Literal["block", "warn", "allow", "audit", "none"]

#: The decisions, strongest first: allow, warn, block, audit, none.
DECISIONS: list[Decision]

class Verdict:
    """The answer for one query."""

    #: What to do.
    decision: Decision
    #: The id of the deciding indicator (the portal's id, else FILE:LINE).
    indicator: Optional[str]
    #: The id of the most specific matching audit indicator.
    audit: Optional[str]
    #: The query could not be parsed (the decision is then "none").
    invalid: bool

class Set:
    """A compiled indicator set, verified when opened; thread-safe."""

    @staticmethod
    def open(path: Union[str, PathLike[str]]) -> "Set":
        """Maps the file; OSError if unreadable, ValueError if not a valid set."""
    @staticmethod
    def from_bytes(data: bytes) -> "Set":
        """Copies and verifies the bytes; ValueError if not a valid set."""
    def __len__(self) -> int:
        """The number of indicators."""
    def check(self, query: str, mode: Mode = "full", now: Optional[int] = None) -> Verdict:
        """The verdict for a URL (full mode) or host name (domain mode).

        `now` (Unix seconds) fixes the time for expiring indicators."""
    @overload
    def check_batch(
        self, array: pa.Array, mode: Mode = "full", now: Optional[int] = None
    ) -> Tuple[pa.StringArray, pa.StringArray]: ...
    @overload
    def check_batch(
        self, array: pa.ChunkedArray, mode: Mode = "full", now: Optional[int] = None
    ) -> Tuple[pa.ChunkedArray, pa.ChunkedArray]:
        """Checks a pyarrow string array (or a ChunkedArray, such as a
        table's column) without the GIL.

        Returns (decision, indicator id) arrays of the same length (for a
        ChunkedArray, ChunkedArrays of the same chunks); the id is the
        deciding indicator's, else the audit indicator's, else null. A null
        query gives nulls. TypeError for an array that is not strings."""
