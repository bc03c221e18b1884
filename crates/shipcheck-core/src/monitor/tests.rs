//! Tests of the watch.
