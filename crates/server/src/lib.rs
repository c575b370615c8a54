//! praetor-server
