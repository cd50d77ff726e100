//! The mocked Airship project: which tag groups and attributes exist.
//!
//! Airship accepts tags only in groups created in the dashboard, and attributes only with keys
//! defined there, each with a type. Requests that name anything else still get 200, with the
//! names listed in `tag_warnings` or `warnings`.

use std::collections::{BTreeMap, BTreeSet};

pub use airship_mapping::AttributeType;
use airship_mapping::PREDEFINED_ATTRIBUTES;

/// Prefix of the group-membership attributes the destination sets for `group` calls.
pub const GROUP_ATTRIBUTE_PREFIX: &str = "airship_segment_group_";

/// Tag groups, attributes and attribute key prefixes defined in the mocked Airship project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Tag groups that exist and are active.
    pub tag_groups: BTreeSet<String>,
    /// Attribute keys with their types. JSON attributes are listed without `#<instance>`.
    pub attributes: BTreeMap<String, AttributeType>,
    /// Key prefixes that define every attribute starting with them, with their type. An exact
    /// entry in `attributes` wins over a prefix, and a longer prefix over a shorter one.
    pub attribute_prefixes: BTreeMap<String, AttributeType>,
}

impl Default for Project {
    /// Returns the project the destination's default settings write to: tag groups
    /// `segment-integration` and `segment-integration-group`, Airship's 23 predefined attributes,
    /// and every key starting with `airship_segment_group_` as a text attribute.
    fn default() -> Project {
        Project {
            tag_groups: ["segment-integration", "segment-integration-group"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            attributes: predefined_attributes(),
            attribute_prefixes: BTreeMap::from([(
                GROUP_ATTRIBUTE_PREFIX.to_owned(),
                AttributeType::Text,
            )]),
        }
    }
}

impl Project {
    /// Returns whether `group` exists in the project.
    pub fn has_tag_group(&self, group: &str) -> bool {
        self.tag_groups.contains(group)
    }

    /// Returns the type of attribute `key` (without `#<instance>`), or `None` when the project
    /// does not define it.
    pub fn attribute_type(&self, key: &str) -> Option<AttributeType> {
        if let Some(kind) = self.attributes.get(key) {
            return Some(*kind);
        }
        self.attribute_prefixes
            .iter()
            .filter(|(prefix, _)| key.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, kind)| *kind)
    }

    /// Checks names against Airship's rules: tag groups of 1 to 128 characters, attribute keys
    /// and prefixes of 1 to 64 characters without `#`, and nothing starting with the reserved
    /// `ua_`.
    pub fn validate(&self) -> Result<(), String> {
        for group in &self.tag_groups {
            let length = group.chars().count();
            if length == 0 || length > 128 {
                return Err(format!(
                    "tag group `{group}` has {length} characters; Airship tag groups have 1 to 128"
                ));
            }
            if group.starts_with("ua_") {
                return Err(format!(
                    "tag group `{group}` starts with `ua_`, which Airship reserves"
                ));
            }
        }
        let keys = self.attributes.keys().chain(self.attribute_prefixes.keys());
        for key in keys {
            let length = key.chars().count();
            if length == 0 || length > 64 || key.contains('#') {
                return Err(format!(
                    "attribute key `{key}` must have 1 to 64 characters and no `#`"
                ));
            }
            if key.starts_with("ua_") {
                return Err(format!(
                    "attribute key `{key}` starts with `ua_`, which Airship reserves for its default attributes"
                ));
            }
        }
        Ok(())
    }
}

/// Airship's predefined attributes with their types, as `airship-mapping` lists them.
pub fn predefined_attributes() -> BTreeMap<String, AttributeType> {
    PREDEFINED_ATTRIBUTES
        .iter()
        .map(|(key, kind)| ((*key).to_owned(), *kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_project_has_destination_groups_and_attributes() {
        let project = Project::default();

        assert!(project.has_tag_group("segment-integration"));
        assert!(project.has_tag_group("segment-integration-group"));
        assert!(!project.has_tag_group("crm"));
        assert_eq!(project.attributes.len(), 23);
        assert_eq!(
            project.attribute_type("birthdate"),
            Some(AttributeType::Date)
        );
        assert_eq!(
            project.attribute_type("airship_segment_group_42"),
            Some(AttributeType::Text)
        );
        assert_eq!(project.attribute_type("plan"), None);
    }

    #[test]
    fn exact_key_and_longer_prefix_win() {
        let mut project = Project::default();
        project
            .attribute_prefixes
            .insert("pref_".into(), AttributeType::Text);
        project
            .attribute_prefixes
            .insert("pref_num_".into(), AttributeType::Number);
        project
            .attributes
            .insert("pref_num_json".into(), AttributeType::Json);

        assert_eq!(project.attribute_type("pref_x"), Some(AttributeType::Text));
        assert_eq!(
            project.attribute_type("pref_num_x"),
            Some(AttributeType::Number)
        );
        assert_eq!(
            project.attribute_type("pref_num_json"),
            Some(AttributeType::Json)
        );
    }

    #[test]
    fn reserved_and_overlong_names_rejected() {
        let mut reserved_group = Project::default();
        reserved_group.tag_groups.insert("ua_device".into());
        let mut long_key = Project::default();
        long_key
            .attributes
            .insert("k".repeat(65), AttributeType::Text);
        let mut hash_key = Project::default();
        hash_key
            .attributes
            .insert("prefs#default".into(), AttributeType::Json);

        assert!(Project::default().validate().is_ok());
        assert!(reserved_group.validate().unwrap_err().contains("ua_"));
        assert!(long_key.validate().unwrap_err().contains("1 to 64"));
        assert!(hash_key.validate().unwrap_err().contains('#'));
    }
}
