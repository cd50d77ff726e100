//! Tests of the `segment-airship-batch` binary against an in-process Airship mock on loopback.

mod delivery;
mod dry_run;
mod resume;
mod support;
