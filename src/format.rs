//! Module `format` (placeholder until its first implementation lands).
