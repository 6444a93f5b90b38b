//! Module `build` (placeholder until its first implementation lands).
