//! What an ingest needs to know besides its inputs.

use crate::indicator::Timestamp;

/// What an [`Ingester`](super::Ingester) needs to know besides its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The compile time: an indicator expiring at or before it is skipped
    /// as `expired`. Injectable so that tests and `--now` are reproducible.
    pub now: Timestamp,
    /// Compile for this device group: indicators naming only other groups
    /// are skipped as `other-group` (case-insensitive; an indicator with no
    /// group applies to all). `None` (the default) keeps every group.
    pub device_group: Option<String>,
}

impl Options {
    /// Options for compiling at `now`, for all device groups.
    pub fn at(now: Timestamp) -> Options {
        Options {
            now,
            device_group: None,
        }
    }

    /// Options for compiling at the current system time, for all device
    /// groups.
    pub fn now() -> Options {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Options::at(Timestamp(secs))
    }

    /// The same options, compiling for device group `group`.
    pub fn device_group(mut self, group: impl Into<String>) -> Options {
        self.device_group = Some(group.into());
        self
    }
}
