//! praetor-http
