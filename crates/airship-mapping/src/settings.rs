//! Mapping settings: tag groups, the Airship project's attribute list and the property limit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Airship's predefined attributes and their types; the default attribute list.
pub const PREDEFINED_ATTRIBUTES: [(&str, AttributeType); 23] = [
    ("title", AttributeType::Text),
    ("first_name", AttributeType::Text),
    ("last_name", AttributeType::Text),
    ("full_name", AttributeType::Text),
    ("gender", AttributeType::Text),
    ("email", AttributeType::Text),
    ("username", AttributeType::Text),
    ("company", AttributeType::Text),
    ("loyalty_tier", AttributeType::Text),
    ("city", AttributeType::Text),
    ("region", AttributeType::Text),
    ("country", AttributeType::Text),
    ("advertising_id", AttributeType::Text),
    ("age", AttributeType::Number),
    ("zipcode", AttributeType::Number),
    ("mobile_phone", AttributeType::Number),
    ("home_phone", AttributeType::Number),
    ("work_phone", AttributeType::Number),
    ("latitude", AttributeType::Number),
    ("longitude", AttributeType::Number),
    ("altitude", AttributeType::Number),
    ("birthdate", AttributeType::Date),
    ("account_creation", AttributeType::Date),
];

/// The value type of an Airship attribute, as defined in the Airship dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    Text,
    Number,
    Date,
    Json,
}

/// Failure to build settings.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// A setting has a value the mapping cannot work with.
    #[error("setting `{setting}` is invalid: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
}

/// Settings of the mapping, read from the `[mapping]` table of the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Tag group for boolean `identify` traits. Must exist and be active in the Airship project.
    pub tag_group: String,
    /// Tag group for boolean `group` traits.
    pub group_tag_group: String,
    /// Whether Airship's predefined attributes (`first_name`, `email`, ...) are in the attribute
    /// list. Turn this off when the project has not enabled them.
    pub predefined_attributes: bool,
    /// Custom attributes defined in the Airship project, key → type. Added to the predefined list.
    pub attributes: BTreeMap<String, AttributeType>,
    /// Send traits that are not in the attribute list, with the type read from the JSON value.
    pub send_unknown_attributes: bool,
    /// Treat the strings `"true"` and `"false"` as booleans, so they become tags.
    pub string_booleans_as_tags: bool,
    /// Maximum number of top-level `track` properties; a track with more is skipped.
    pub max_properties: usize,
    /// Instance id for JSON attributes, sent as `<attribute>#<instance>`.
    pub json_instance: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            tag_group: "segment-integration".into(),
            group_tag_group: "segment-integration-group".into(),
            predefined_attributes: true,
            attributes: BTreeMap::new(),
            send_unknown_attributes: false,
            string_booleans_as_tags: false,
            max_properties: 20,
            json_instance: "default".into(),
        }
    }
}

impl Settings {
    /// Returns the type of attribute `key`, or `None` when the project does not define it.
    pub fn attribute_type(&self, key: &str) -> Option<AttributeType> {
        if let Some(kind) = self.attributes.get(key) {
            return Some(*kind);
        }
        if !self.predefined_attributes {
            return None;
        }
        PREDEFINED_ATTRIBUTES
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, kind)| *kind)
    }

    /// Checks the settings against Airship's limits on tag groups and attribute keys.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (setting, group) in [
            ("tag_group", &self.tag_group),
            ("group_tag_group", &self.group_tag_group),
        ] {
            let length = group.chars().count();
            if length == 0 || length > 128 {
                return Err(SettingsError::Invalid {
                    setting,
                    reason: format!("tag group `{group}` must have 1 to 128 characters"),
                });
            }
            if group.starts_with("ua_") {
                return Err(SettingsError::Invalid {
                    setting,
                    reason: format!(
                        "tag group `{group}` uses the prefix `ua_`, which Airship reserves"
                    ),
                });
            }
        }
        for (key, kind) in &self.attributes {
            // JSON attributes are sent as `<key>#<instance>`, and the limit applies to that.
            let sent_length = match kind {
                AttributeType::Json => key.chars().count() + 1 + self.json_instance.chars().count(),
                AttributeType::Text | AttributeType::Number | AttributeType::Date => {
                    key.chars().count()
                }
            };
            if key.is_empty() || sent_length > 64 || key.contains('#') {
                return Err(SettingsError::Invalid {
                    setting: "attributes",
                    reason: format!(
                        "attribute key `{key}` must be non-empty, contain no `#`, and have at most 64 characters as sent (JSON attributes include `#{}`)",
                        self.json_instance
                    ),
                });
            }
        }
        if self.json_instance.is_empty() || self.json_instance.contains('#') {
            return Err(SettingsError::Invalid {
                setting: "json_instance",
                reason: "the JSON attribute instance must be non-empty and contain no `#`".into(),
            });
        }
        Ok(())
    }
}
