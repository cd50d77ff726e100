//! Body checks, one module per endpoint, each returning the Airship error for the first problem.
//!
//! They check the basic shape only; Airship's field limits (name case, lengths, item counts per
//! group, dates) are not enforced yet.

mod custom_events;
mod named_user_attributes;
mod named_user_tags;

pub(crate) use custom_events::validate_custom_events;
pub(crate) use named_user_attributes::validate_named_user_attributes;
pub(crate) use named_user_tags::validate_named_user_tags;
