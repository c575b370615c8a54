//! praetor-client
