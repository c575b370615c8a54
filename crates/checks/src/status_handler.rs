//! Consul's status handler: the consecutive-result counters between a check's raw results and
//! the status the agent records.

use crate::HealthStatus;

/// Holds back status changes until enough consecutive results agree.
///
/// Passing and warning results count as successes; critical results count as failures.
#[derive(Debug)]
pub(crate) struct StatusHandler {
    success_before_passing: u32,
    failures_before_warning: u32,
    failures_before_critical: u32,
    successes: u32,
    failures: u32,
}

impl StatusHandler {
    /// `failures_before_warning` of 0 means "same as `failures_before_critical`", Consul's
    /// default, so a check with only `failures_before_critical` set skips warning.
    pub(crate) fn new(
        success_before_passing: u32,
        failures_before_warning: u32,
        failures_before_critical: u32,
    ) -> Self {
        let failures_before_warning = if failures_before_warning == 0 {
            failures_before_critical
        } else {
            failures_before_warning
        };
        StatusHandler {
            success_before_passing,
            failures_before_warning,
            failures_before_critical,
            successes: 0,
            failures: 0,
        }
    }

    /// Feeds one raw result; returns the status to record, or `None` to keep the current one.
    pub(crate) fn observe(&mut self, status: HealthStatus) -> Option<HealthStatus> {
        match status {
            HealthStatus::Passing | HealthStatus::Warning => {
                self.successes = self.successes.saturating_add(1);
                self.failures = 0;
                (self.successes >= self.success_before_passing).then_some(status)
            }
            HealthStatus::Critical => {
                self.failures = self.failures.saturating_add(1);
                self.successes = 0;
                if self.failures >= self.failures_before_critical {
                    Some(HealthStatus::Critical)
                } else if self.failures >= self.failures_before_warning {
                    Some(HealthStatus::Warning)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthStatus::{Critical, Passing, Warning};

    fn feed(handler: &mut StatusHandler, results: &[HealthStatus]) -> Vec<Option<HealthStatus>> {
        results.iter().map(|s| handler.observe(*s)).collect()
    }

    #[test]
    fn zero_counters_pass_every_result_through() {
        let mut h = StatusHandler::new(0, 0, 0);
        assert_eq!(
            feed(&mut h, &[Passing, Critical, Warning]),
            [Some(Passing), Some(Critical), Some(Warning)]
        );
    }

    #[test]
    fn success_before_passing_holds_until_enough_successes() {
        let mut h = StatusHandler::new(3, 0, 0);
        assert_eq!(
            feed(
                &mut h,
                &[Passing, Passing, Critical, Passing, Passing, Passing]
            ),
            [None, None, Some(Critical), None, None, Some(Passing)]
        );
    }

    #[test]
    fn failures_before_critical_counts_consecutive_failures() {
        let mut h = StatusHandler::new(0, 0, 3);
        assert_eq!(
            feed(
                &mut h,
                &[Critical, Critical, Passing, Critical, Critical, Critical]
            ),
            [None, None, Some(Passing), None, None, Some(Critical)]
        );
    }

    #[test]
    fn failures_before_warning_degrades_to_warning_first() {
        let mut h = StatusHandler::new(0, 1, 3);
        assert_eq!(
            feed(&mut h, &[Critical, Critical, Critical, Critical]),
            [Some(Warning), Some(Warning), Some(Critical), Some(Critical)]
        );
    }

    #[test]
    fn warning_results_count_as_successes() {
        let mut h = StatusHandler::new(2, 0, 2);
        assert_eq!(
            feed(&mut h, &[Critical, Warning, Critical, Warning, Warning]),
            [None, None, None, None, Some(Warning)]
        );
    }
}
