//! Module `reference` (placeholder until its first implementation lands).
