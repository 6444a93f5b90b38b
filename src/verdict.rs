//! Module `verdict` (placeholder until its first implementation lands).
