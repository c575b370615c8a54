//! praetor-filter
