//! Module `set` (placeholder until its first implementation lands).
