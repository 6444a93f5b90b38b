//! Module `swap` (placeholder until its first implementation lands).
