//! What an ingest needs to know besides its inputs.

use crate::indicator::Timestamp;

/// What an [`Ingester`](super::Ingester) needs to know besides its inputs.
///
/// Built from the compile time, then adjusted:
///
/// ```
/// use indset::ingest::Options;
/// use indset::Timestamp;
///
/// let opts = Options::at(Timestamp(1_767_225_600)).device_group("Sales");
/// assert_eq!(opts.time(), Timestamp(1_767_225_600));
/// assert_eq!(opts.group(), Some("Sales"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    now: Timestamp,
    device_group: Option<String>,
}

impl Options {
    /// Options for compiling at `now`, for all device groups.
    ///
    /// An indicator expiring at or before `now` is skipped as `expired`;
    /// giving the time (rather than reading the clock) keeps tests and
    /// `--now` reproducible.
    pub fn at(now: Timestamp) -> Options {
        Options {
            now,
            device_group: None,
        }
    }

    /// Options for compiling at the current system time, for all device
    /// groups.
    pub fn now() -> Options {
        Options::at(Timestamp::now())
    }

    /// The same options, compiling for device group `group`: indicators
    /// naming only other groups are skipped as `other-group`
    /// (case-insensitive; an indicator with no group applies to all).
    /// Without it (the default) every group is kept.
    pub fn device_group(mut self, group: impl Into<String>) -> Options {
        self.device_group = Some(group.into());
        self
    }

    /// The compile time: an indicator expiring at or before it is skipped
    /// as `expired`.
    pub fn time(&self) -> Timestamp {
        self.now
    }

    /// The device group compiled for, or `None` for all groups.
    pub fn group(&self) -> Option<&str> {
        self.device_group.as_deref()
    }
}
