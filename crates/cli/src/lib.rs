//! praetor-cli
