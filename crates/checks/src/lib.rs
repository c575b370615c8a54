//! praetor-checks
