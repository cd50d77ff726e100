//! Runs the built `segment-airship` binary on files and standard input.

mod map;
mod send;
mod support;
