//! Runs the built `segment-airship` binary on files and standard input.

mod dead_letters;
mod map;
mod send;
mod support;
