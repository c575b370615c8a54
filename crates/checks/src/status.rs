//! The health of a check, in Consul's words.

use std::fmt;
use std::str::FromStr;

/// The status of a check: `passing`, `warning` or `critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthStatus {
    Passing,
    Warning,
    Critical,
}

impl HealthStatus {
    /// The lowercase name Consul uses on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Passing => "passing",
            HealthStatus::Warning => "warning",
            HealthStatus::Critical => "critical",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string that is not `passing`, `warning` or `critical`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid check status: '{0}'")]
pub struct ParseHealthStatusError(pub String);

impl FromStr for HealthStatus {
    type Err = ParseHealthStatusError;

    /// Parses Consul's lowercase names exactly, as the agent API does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "passing" => Ok(HealthStatus::Passing),
            "warning" => Ok(HealthStatus::Warning),
            "critical" => Ok(HealthStatus::Critical),
            other => Err(ParseHealthStatusError(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        for status in [
            HealthStatus::Passing,
            HealthStatus::Warning,
            HealthStatus::Critical,
        ] {
            assert_eq!(status.to_string().parse::<HealthStatus>(), Ok(status));
        }
    }

    #[test]
    fn parse_rejects_unknown_and_other_case() {
        let err = "Passing".parse::<HealthStatus>().unwrap_err();
        assert_eq!(err.to_string(), "invalid check status: 'Passing'");
        assert!("maintenance".parse::<HealthStatus>().is_err());
        assert!("".parse::<HealthStatus>().is_err());
    }
}
