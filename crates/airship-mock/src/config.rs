//! Settings of a mock server: credentials, the mocked project, named-user policy and clock, and
//! the TOML config file the binary reads them from.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::project::{predefined_attributes, AttributeType, Project};

/// Settings of a mock server.
#[derive(Clone)]
pub struct MockConfig {
    /// App key required in `X-UA-Appkey` on custom events, and as the user name of Basic auth.
    pub app_key: String,
    /// Token accepted as `Authorization: Bearer <token>` on every endpoint.
    pub access_token: String,
    /// Emits one `tracing` INFO event per recorded request, with method, path, status, headers
    /// (`Authorization` redacted) and body.
    pub log_requests: bool,
    /// Master secret accepted as `Basic base64(app_key:master_secret)` on the named-user
    /// endpoints. Custom events never accept Basic auth.
    pub master_secret: String,
    /// App secret accepted as `Basic base64(app_key:app_secret)` on the named-user write
    /// endpoints, but not on the `GET /api/named_users` lookup.
    pub app_secret: String,
    /// Tag groups and attributes that exist in the mocked project.
    pub project: Project,
    /// When true, only the named users in [`MockConfig::known_named_users`] (and those added
    /// later with [`MockAirship::add_named_user`](crate::MockAirship::add_named_user)) exist.
    /// Writes to other ids change nothing and get 200, with `warnings` on tags and attributes.
    /// When false, the first write of any kind creates the named user.
    pub strict_named_users: bool,
    /// Named users that exist when the server starts.
    pub known_named_users: Vec<String>,
    /// Fixed current time for the `occurred` window of custom events and the `exp` limit of
    /// JSON attributes; `None` uses the system clock.
    pub now: Option<DateTime<Utc>>,
}

impl Default for MockConfig {
    /// App key `mock-app-key`, token `mock-access-token`, master secret `mock-master-secret`,
    /// app secret `mock-app-secret`, the default [`Project`], lenient named users, the system
    /// clock and no request logging.
    fn default() -> MockConfig {
        MockConfig {
            app_key: "mock-app-key".into(),
            access_token: "mock-access-token".into(),
            log_requests: false,
            master_secret: "mock-master-secret".into(),
            app_secret: "mock-app-secret".into(),
            project: Project::default(),
            strict_named_users: false,
            known_named_users: Vec::new(),
            now: None,
        }
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("app_key", &self.app_key)
            .field("access_token", &"[redacted]")
            .field("log_requests", &self.log_requests)
            .field("master_secret", &"[redacted]")
            .field("app_secret", &"[redacted]")
            .field("project", &self.project)
            .field("strict_named_users", &self.strict_named_users)
            .field("known_named_users", &self.known_named_users)
            .field("now", &self.now)
            .finish()
    }
}

/// A config file or setting the mock cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML or has an unknown or mistyped key.
    #[error("invalid mock config file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value breaks one of Airship's rules or cannot be parsed.
    #[error("invalid mock config: {0}")]
    Invalid(String),
}

/// The TOML config file, every key optional. See `docs/contract-tests.md` for an example.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    app_key: Option<String>,
    access_token: Option<String>,
    master_secret: Option<String>,
    app_secret: Option<String>,
    /// RFC 3339 date-time.
    now: Option<String>,
    strict_named_users: Option<bool>,
    known_named_users: Option<Vec<String>>,
    project: Option<ProjectFile>,
}

/// The `[project]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    /// Replaces the default tag groups.
    tag_groups: Option<Vec<String>>,
    /// Whether Airship's 23 predefined attributes exist; true when missing.
    #[serde(default = "enabled")]
    predefined_attributes: bool,
    /// Custom attributes, added to the predefined ones.
    #[serde(default)]
    attributes: BTreeMap<String, AttributeType>,
    /// Replaces the default prefix (`airship_segment_group_` as text).
    attribute_prefixes: Option<BTreeMap<String, AttributeType>>,
}

fn enabled() -> bool {
    true
}

impl MockConfig {
    /// Reads a TOML config file's text. Keys it leaves out keep their [`Default`] values, and
    /// `log_requests`, which the file cannot set, stays false.
    ///
    /// ```toml
    /// app_key = "mock-app-key"
    /// now = "2026-05-02T12:00:00Z"
    /// strict_named_users = true
    /// known_named_users = ["jill"]
    ///
    /// [project]
    /// tag_groups = ["segment-integration", "crm"]
    /// predefined_attributes = true
    ///
    /// [project.attributes]
    /// plan = "text"
    /// preferences = "json"
    /// ```
    pub fn from_toml_str(text: &str) -> Result<MockConfig, ConfigError> {
        let file: ConfigFile = toml::from_str(text)?;
        let defaults = MockConfig::default();
        let now = file
            .now
            .map(|text| parse_now(&text))
            .transpose()
            .map_err(ConfigError::Invalid)?;
        let project = match file.project {
            Some(project) => project.into_project(defaults.project),
            None => defaults.project,
        };

        let config = MockConfig {
            app_key: file.app_key.unwrap_or(defaults.app_key),
            access_token: file.access_token.unwrap_or(defaults.access_token),
            log_requests: defaults.log_requests,
            master_secret: file.master_secret.unwrap_or(defaults.master_secret),
            app_secret: file.app_secret.unwrap_or(defaults.app_secret),
            project,
            strict_named_users: file
                .strict_named_users
                .unwrap_or(defaults.strict_named_users),
            known_named_users: file.known_named_users.unwrap_or(defaults.known_named_users),
            now: now.or(defaults.now),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks the credentials, the project and the known named users.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let credentials = [
            ("app_key", &self.app_key),
            ("access_token", &self.access_token),
            ("master_secret", &self.master_secret),
            ("app_secret", &self.app_secret),
        ];
        for (name, value) in credentials {
            if value.trim().is_empty() {
                return Err(ConfigError::Invalid(format!("{name} is empty")));
            }
        }
        self.project.validate().map_err(ConfigError::Invalid)?;
        for id in &self.known_named_users {
            crate::validate::named_user_id_problem(id).map_or(Ok(()), |problem| {
                Err(ConfigError::Invalid(format!(
                    "known named user {id:?} is invalid: {problem}"
                )))
            })?;
        }
        Ok(())
    }
}

impl ProjectFile {
    fn into_project(self, defaults: Project) -> Project {
        let mut attributes = if self.predefined_attributes {
            predefined_attributes()
        } else {
            BTreeMap::new()
        };
        attributes.extend(self.attributes);
        Project {
            tag_groups: self
                .tag_groups
                .map_or(defaults.tag_groups, |groups| groups.into_iter().collect()),
            attributes,
            attribute_prefixes: self
                .attribute_prefixes
                .unwrap_or(defaults.attribute_prefixes),
        }
    }
}

/// Parses an RFC 3339 date-time such as `2026-05-02T12:00:00Z`.
pub fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            format!(
                "now {text:?} is not an RFC 3339 date-time such as 2026-05-02T12:00:00Z: {error}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let config = MockConfig::from_toml_str("").unwrap();

        assert_eq!(config.app_key, "mock-app-key");
        assert_eq!(config.project, Project::default());
        assert!(!config.strict_named_users);
        assert_eq!(config.now, None);
    }

    #[test]
    fn file_sets_project_users_and_clock() {
        let text = r#"
            app_key = "key-1"
            now = "2026-05-02T14:00:00+02:00"
            strict_named_users = true
            known_named_users = ["jill"]

            [project]
            tag_groups = ["crm"]
            predefined_attributes = false

            [project.attributes]
            plan = "text"
            prefs = "json"

            [project.attribute_prefixes]
            score_ = "number"
        "#;

        let config = MockConfig::from_toml_str(text).unwrap();

        assert_eq!(config.app_key, "key-1");
        assert_eq!(
            config.now,
            Some("2026-05-02T12:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert!(config.strict_named_users);
        assert_eq!(config.known_named_users, ["jill"]);
        assert_eq!(
            config.project.tag_groups.iter().collect::<Vec<_>>(),
            ["crm"]
        );
        assert_eq!(config.project.attributes.len(), 2);
        assert_eq!(
            config.project.attribute_type("prefs"),
            Some(AttributeType::Json)
        );
        assert_eq!(
            config.project.attribute_type("score_7"),
            Some(AttributeType::Number)
        );
        assert_eq!(
            config.project.attribute_type("airship_segment_group_1"),
            None
        );
    }

    #[test]
    fn custom_attributes_added_to_predefined() {
        let config = MockConfig::from_toml_str("[project.attributes]\nplan = \"text\"").unwrap();

        assert_eq!(config.project.attributes.len(), 24);
        assert!(config.project.has_tag_group("segment-integration"));
    }

    #[test]
    fn unknown_key_and_bad_type_rejected() {
        let unknown = MockConfig::from_toml_str("tag_groups = [\"crm\"]").unwrap_err();
        let bad_type =
            MockConfig::from_toml_str("[project.attributes]\nplan = \"boolean\"").unwrap_err();

        assert!(unknown.to_string().contains("tag_groups"), "{unknown}");
        assert!(bad_type.to_string().contains("boolean"), "{bad_type}");
    }

    #[test]
    fn invalid_values_rejected() {
        let clock = MockConfig::from_toml_str("now = \"yesterday\"").unwrap_err();
        let group =
            MockConfig::from_toml_str("[project]\ntag_groups = [\"ua_device\"]").unwrap_err();
        let user = MockConfig::from_toml_str("known_named_users = [\" jill\"]").unwrap_err();

        assert!(clock.to_string().contains("yesterday"), "{clock}");
        assert!(group.to_string().contains("ua_"), "{group}");
        assert!(user.to_string().contains("whitespace"), "{user}");
    }

    #[test]
    fn debug_hides_secrets() {
        let debug = format!("{:?}", MockConfig::default());

        assert!(!debug.contains("mock-access-token"), "{debug}");
        assert!(!debug.contains("mock-master-secret"), "{debug}");
        assert!(!debug.contains("mock-app-secret"), "{debug}");
    }
}
