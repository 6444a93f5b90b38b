"""Check URLs and host names against a compiled indset set.

    >>> import indset, pyarrow as pa
    >>> s = indset.Set.open("set.indset")
    >>> s.check("https://ads.example.com/x").decision
    'block'
    >>> decisions, ids = s.check_batch(pa.array(["https://a.test/", "b.test"]))
"""

from indset._indset import DECISIONS, Set, Verdict

__all__ = ["DECISIONS", "Set", "Verdict"]
