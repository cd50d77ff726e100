//! Airship connection flags and the TOML config file, shared by every front end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use airship_client::{
    AirshipConfig, AirshipError, DataCenter, LiveClient, Secret, DEFAULT_TIMEOUT,
};
use airship_mapping::{Settings, SettingsError};
use serde::Deserialize;

/// Failure to load the config file or to build the Airship client from the flags.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("failed to read config file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML, or a key is unknown or has the wrong type.
    #[error("invalid config file {}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    /// The config file contains the access token, which is only accepted from a flag or the
    /// environment.
    #[error(
        "config file {} sets `airship.access_token`, which is not allowed in a file; remove it and \
         pass the token with --access-token or the AIRSHIP_ACCESS_TOKEN environment variable",
        path.display()
    )]
    TokenInFile { path: PathBuf },
    /// `airship.data_center` in the config file is neither `us` nor `eu`.
    #[error("invalid `airship.data_center` in config file {}", path.display())]
    DataCenter {
        path: PathBuf,
        #[source]
        source: airship_client::ParseDataCenterError,
    },
    /// The `[mapping]` table parsed but breaks an Airship limit.
    #[error("invalid `[mapping]` table in config file {}", path.display())]
    Settings {
        path: PathBuf,
        #[source]
        source: SettingsError,
    },
    /// The app key, the access token or both are missing.
    #[error("missing Airship credentials: {missing}")]
    MissingCredentials { missing: String },
    /// The live client could not be built from the resolved settings.
    #[error("failed to set up the Airship client")]
    Client(#[source] Box<AirshipError>),
}

/// Flags selecting the Airship project to write to and the connection settings.
///
/// Each value comes from the flag, else its environment variable, else the `[airship]` table of
/// the config file, else the default. The access token never comes from the file.
#[derive(Debug, Clone, clap::Args)]
pub struct AirshipArgs {
    /// Airship project app key, sent as `X-UA-Appkey`.
    #[arg(long, env = "AIRSHIP_APP_KEY", value_name = "KEY")]
    pub app_key: Option<String>,

    /// Airship bearer token with write access to named users and custom events.
    #[arg(
        long,
        env = "AIRSHIP_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub access_token: Option<Secret>,

    /// Airship cloud site of the project: `us` or `eu` [default: us].
    #[arg(long, env = "AIRSHIP_DATA_CENTER", value_name = "us|eu")]
    pub data_center: Option<DataCenter>,

    /// Base URL of the Airship API, replacing the data center's host (for a proxy or a mock).
    #[arg(long, env = "AIRSHIP_URL", value_name = "URL")]
    pub airship_url: Option<String>,

    /// TOML config file with a `[mapping]` table and an optional `[airship]` table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Time limit in seconds for one Airship request, from connect to the end of the response.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout_secs: u64,
}

impl Default for AirshipArgs {
    /// No flags given: every value from the file or the defaults, and the default timeout.
    fn default() -> AirshipArgs {
        AirshipArgs {
            app_key: None,
            access_token: None,
            data_center: None,
            airship_url: None,
            config: None,
            timeout_secs: DEFAULT_TIMEOUT.as_secs(),
        }
    }
}

/// The contents of a config file; every table and key is optional.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Mapping settings, already validated.
    pub mapping: Settings,
    /// Connection settings that the flags override.
    pub airship: AirshipSection,
}

/// The `[airship]` table: connection settings that are not secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AirshipSection {
    pub app_key: Option<String>,
    pub data_center: Option<DataCenter>,
    /// Base URL replacing the data center's host.
    pub url: Option<String>,
}

/// The file as written, before the data center is parsed.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfigFile {
    mapping: Settings,
    airship: RawAirshipSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAirshipSection {
    app_key: Option<String>,
    data_center: Option<String>,
    url: Option<String>,
}

/// Reads and validates a config file.
///
/// Parse errors carry the line, column and key as reported by the `toml` crate, and the error
/// names the file.
pub fn load_config_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_config(&text, path)
}

fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    let parse_error = |source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    };

    // Checked before the typed parse so the error explains where the token belongs instead of
    // calling it an unknown field.
    let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
    if table
        .get("airship")
        .and_then(toml::Value::as_table)
        .is_some_and(|airship| airship.contains_key("access_token"))
    {
        return Err(ConfigError::TokenInFile {
            path: path.to_owned(),
        });
    }

    let raw: RawConfigFile = toml::from_str(text).map_err(parse_error)?;

    let data_center = raw
        .airship
        .data_center
        .as_deref()
        .map(str::parse::<DataCenter>)
        .transpose()
        .map_err(|source| ConfigError::DataCenter {
            path: path.to_owned(),
            source,
        })?;

    raw.mapping
        .validate()
        .map_err(|source| ConfigError::Settings {
            path: path.to_owned(),
            source,
        })?;

    Ok(ConfigFile {
        mapping: raw.mapping,
        airship: AirshipSection {
            app_key: raw.airship.app_key,
            data_center,
            url: raw.airship.url,
        },
    })
}

impl AirshipArgs {
    /// Loads the `--config` file, or the defaults when no file is given.
    pub fn load_config(&self) -> Result<ConfigFile, ConfigError> {
        match &self.config {
            Some(path) => load_config_file(path),
            None => Ok(ConfigFile::default()),
        }
    }

    /// Returns the data center from the flag, else the file, else `us`.
    pub fn data_center(&self, file: &ConfigFile) -> DataCenter {
        self.data_center
            .or(file.airship.data_center)
            .unwrap_or(DataCenter::Us)
    }

    /// Returns the request time limit from `--timeout-secs`.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Resolves the live client's settings; fails when the app key or the access token is missing.
    pub fn airship_config(&self, file: &ConfigFile) -> Result<AirshipConfig, ConfigError> {
        let app_key = non_empty(self.app_key.as_deref())
            .or_else(|| non_empty(file.airship.app_key.as_deref()));
        let access_token = self
            .access_token
            .as_ref()
            .filter(|token| !token.expose().is_empty());

        let (app_key, access_token) = match (app_key, access_token) {
            (Some(app_key), Some(access_token)) => (app_key, access_token.clone()),
            (app_key, access_token) => {
                return Err(missing_credentials(
                    app_key.is_none(),
                    access_token.is_none(),
                ))
            }
        };

        let mut config = AirshipConfig::new(self.data_center(file), app_key, access_token)
            .with_timeout(self.timeout());
        if let Some(url) = self.airship_url.as_deref().or(file.airship.url.as_deref()) {
            config = config.with_base_url(url);
        }
        Ok(config)
    }

    /// Builds the live client; fails when the app key or the access token is missing.
    pub fn live_client(&self, file: &ConfigFile) -> Result<LiveClient, ConfigError> {
        let config = self.airship_config(file)?;
        LiveClient::new(config).map_err(|error| ConfigError::Client(Box::new(error)))
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

fn missing_credentials(app_key: bool, access_token: bool) -> ConfigError {
    const APP_KEY: &str =
        "set the app key with --app-key, the AIRSHIP_APP_KEY environment variable or `airship.app_key` in the config file";
    const ACCESS_TOKEN: &str =
        "set the access token with --access-token or the AIRSHIP_ACCESS_TOKEN environment variable";
    let missing = match (app_key, access_token) {
        (true, true) => format!("{APP_KEY}, and {ACCESS_TOKEN}"),
        (true, false) => APP_KEY.to_owned(),
        (false, true) => ACCESS_TOKEN.to_owned(),
        (false, false) => unreachable!("called only when a credential is missing"),
    };
    ConfigError::MissingCredentials { missing }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use airship_mapping::AttributeType;

    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        parse_config(text, Path::new("airship.toml"))
    }

    fn error_chain(error: &dyn Error) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    fn args_with_credentials() -> AirshipArgs {
        AirshipArgs {
            app_key: Some("app-key".into()),
            access_token: Some(Secret::new("token".into())),
            ..AirshipArgs::default()
        }
    }

    #[test]
    fn empty_file_gives_defaults() {
        let file = parse("").unwrap();

        assert_eq!(file.mapping, Settings::default());
        assert_eq!(file.airship, AirshipSection::default());
    }

    #[test]
    fn mapping_and_airship_tables_are_read() {
        let file = parse(
            r#"
            [mapping]
            tag_group = "crm"
            max_properties = 30
            attributes = { plan = "text", seats = "number" }

            [airship]
            app_key = "from-file"
            data_center = "eu"
            url = "http://127.0.0.1:9000"
            "#,
        )
        .unwrap();

        assert_eq!(file.mapping.tag_group, "crm");
        assert_eq!(file.mapping.max_properties, 30);
        assert_eq!(
            file.mapping.attributes.get("seats"),
            Some(&AttributeType::Number)
        );
        assert_eq!(file.mapping.group_tag_group, "segment-integration-group");
        assert_eq!(file.airship.app_key.as_deref(), Some("from-file"));
        assert_eq!(file.airship.data_center, Some(DataCenter::Eu));
        assert_eq!(file.airship.url.as_deref(), Some("http://127.0.0.1:9000"));
    }

    #[test]
    fn unknown_mapping_key_is_named_with_file() {
        let error = parse("[mapping]\ntag_grup = \"crm\"\n").unwrap_err();

        let text = error_chain(&error);
        assert!(
            text.starts_with("invalid config file airship.toml: "),
            "{text}"
        );
        assert!(text.contains("unknown field `tag_grup`"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn access_token_in_file_is_rejected() {
        let error = parse("[airship]\naccess_token = \"secret-value\"\n").unwrap_err();

        assert!(matches!(error, ConfigError::TokenInFile { .. }));
        let text = error.to_string();
        assert!(text.contains("--access-token"), "{text}");
        assert!(text.contains("AIRSHIP_ACCESS_TOKEN"), "{text}");
        assert!(!text.contains("secret-value"), "{text}");
    }

    #[test]
    fn invalid_data_center_in_file_is_named() {
        let error = parse("[airship]\ndata_center = \"de\"\n").unwrap_err();

        assert_eq!(
            error_chain(&error),
            "invalid `airship.data_center` in config file airship.toml: \
             invalid data center `de`: expected `us` or `eu`"
        );
    }

    #[test]
    fn settings_are_validated_after_load() {
        let error = parse("[mapping]\ntag_group = \"ua_reserved\"\n").unwrap_err();

        assert!(matches!(error, ConfigError::Settings { .. }));
        let text = error_chain(&error);
        assert!(text.contains("`tag_group`"), "{text}");
    }

    #[test]
    fn missing_file_is_named() {
        let error = load_config_file(Path::new("/nonexistent/airship.toml")).unwrap_err();

        assert!(
            error
                .to_string()
                .starts_with("failed to read config file /nonexistent/airship.toml"),
            "{error}"
        );
    }

    #[test]
    fn missing_credentials_name_flags_and_variables() {
        let args = AirshipArgs::default();

        let text = args
            .airship_config(&ConfigFile::default())
            .unwrap_err()
            .to_string();

        for name in [
            "--app-key",
            "AIRSHIP_APP_KEY",
            "--access-token",
            "AIRSHIP_ACCESS_TOKEN",
        ] {
            assert!(text.contains(name), "{name} missing from: {text}");
        }
    }

    #[test]
    fn missing_token_alone_is_named() {
        let args = AirshipArgs {
            app_key: Some("key".into()),
            ..AirshipArgs::default()
        };

        let text = args
            .airship_config(&ConfigFile::default())
            .unwrap_err()
            .to_string();

        assert!(text.contains("--access-token"), "{text}");
        assert!(!text.contains("--app-key"), "{text}");
    }

    #[test]
    fn flags_override_file() {
        let file = parse(
            "[airship]\napp_key = \"from-file\"\ndata_center = \"eu\"\nurl = \"http://file\"\n",
        )
        .unwrap();
        let args = AirshipArgs {
            data_center: Some(DataCenter::Us),
            airship_url: Some("http://flag".into()),
            ..args_with_credentials()
        };

        let config = args.airship_config(&file).unwrap();

        assert_eq!(config.app_key, "app-key");
        assert_eq!(config.data_center, DataCenter::Us);
        assert_eq!(config.base_url, "http://flag");
    }

    #[test]
    fn file_fills_in_missing_flags() {
        let file = parse("[airship]\napp_key = \"from-file\"\ndata_center = \"eu\"\n").unwrap();
        let args = AirshipArgs {
            app_key: None,
            ..args_with_credentials()
        };

        let config = args.airship_config(&file).unwrap();

        assert_eq!(config.app_key, "from-file");
        assert_eq!(config.base_url, "https://go.airship.eu");
    }

    #[test]
    fn default_data_center_is_us() {
        let config = args_with_credentials()
            .airship_config(&ConfigFile::default())
            .unwrap();

        assert_eq!(config.data_center, DataCenter::Us);
        assert_eq!(config.base_url, "https://go.urbanairship.com");
        assert_eq!(config.timeout, Duration::from_secs(30));
    }

    #[derive(Debug, clap::Parser)]
    struct Command {
        #[command(flatten)]
        airship: AirshipArgs,
    }

    fn parse_args(args: &[&str]) -> Result<AirshipArgs, clap::Error> {
        use clap::Parser as _;

        Command::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .map(|command| command.airship)
    }

    #[test]
    fn flags_are_parsed() {
        let args = parse_args(&[
            "--app-key",
            "flag-key",
            "--access-token",
            "flag-token",
            "--data-center",
            "EU",
            "--airship-url",
            "http://127.0.0.1:9",
            "--timeout-secs",
            "5",
        ])
        .unwrap();

        assert_eq!(args.app_key.as_deref(), Some("flag-key"));
        assert_eq!(args.access_token.as_ref().unwrap().expose(), "flag-token");
        assert_eq!(args.data_center, Some(DataCenter::Eu));
        assert_eq!(args.airship_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(args.timeout(), Duration::from_secs(5));
    }

    #[test]
    fn invalid_data_center_flag_names_allowed_values() {
        let error = parse_args(&["--data-center", "de"]).unwrap_err();

        let text = error.to_string();
        assert!(text.contains("--data-center"), "{text}");
        assert!(text.contains("expected `us` or `eu`"), "{text}");
    }

    #[test]
    fn args_debug_hides_token() {
        let args = AirshipArgs {
            access_token: Some(Secret::new("tok-very-secret".into())),
            ..AirshipArgs::default()
        };

        let debug = format!("{args:?}");

        assert!(!debug.contains("tok-very-secret"), "{debug}");
    }
}
