//! Readers for the four input formats, validation and the row accounting.
