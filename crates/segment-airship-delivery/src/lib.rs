//! Runtime shared by the HTTP service and the CLI: config loading and delivery of one message.
//!
//! [`config`] turns flags, environment variables and the TOML config file into mapping
//! [`Settings`](airship_mapping::Settings) and an Airship client. [`deliver`] maps a raw Segment
//! message and sends its requests, recording Airship's response to each.

pub mod config;
pub mod deliver;

pub use config::{load_config_file, AirshipArgs, AirshipSection, ConfigError, ConfigFile};
pub use deliver::{
    deliver_message, send_mapped, Delivered, DeliveryError, DeliveryReport, DeliveryStatus,
    RequestResult, RequestState,
};
