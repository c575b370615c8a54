//! praetor-raft
