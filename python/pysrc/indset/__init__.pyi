from indset._indset import DECISIONS as DECISIONS, Set as Set, Verdict as Verdict
