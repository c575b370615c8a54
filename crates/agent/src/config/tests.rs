//! Unit tests for config loading.
