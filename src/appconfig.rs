//! Module `appconfig` (placeholder until its first implementation lands).
