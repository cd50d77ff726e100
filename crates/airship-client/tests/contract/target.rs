//! The target of the contract suite: an in-process mock, or the URL and credentials from the
//! environment.

use std::time::Duration;

use airship_client::{AirshipConfig, DataCenter, LiveClient, Secret};
use airship_mock::{MockConfig, RunningMock};
use chrono::{DateTime, Utc};

/// Environment variables that switch the suite to a real Airship project; all three or none.
pub(crate) const BASE_URL_VAR: &str = "AIRSHIP_CONTRACT_BASE_URL";
pub(crate) const APP_KEY_VAR: &str = "AIRSHIP_CONTRACT_APP_KEY";
pub(crate) const ACCESS_TOKEN_VAR: &str = "AIRSHIP_CONTRACT_ACCESS_TOKEN";
/// Named user the suite writes to on a real project.
pub(crate) const NAMED_USER_VAR: &str = "AIRSHIP_CONTRACT_NAMED_USER";
/// Tag group that exists in the real project.
pub(crate) const TAG_GROUP_VAR: &str = "AIRSHIP_CONTRACT_TAG_GROUP";

const DEFAULT_NAMED_USER: &str = "segment-airship-contract-test";
const DEFAULT_TAG_GROUP: &str = "segment-integration";
/// The mock's fixed clock.
const MOCK_NOW: &str = "2026-05-02T12:00:00Z";

/// Returns the real target's URL, app key and token when all three variables are set, `None`
/// when none is, and an error naming the ones set otherwise.
pub(crate) fn choose_real(values: [Option<String>; 3]) -> Result<Option<[String; 3]>, String> {
    let names = [BASE_URL_VAR, APP_KEY_VAR, ACCESS_TOKEN_VAR];
    let set: Vec<&str> = names
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_some())
        .map(|(name, _)| *name)
        .collect();
    match values {
        [Some(base_url), Some(app_key), Some(access_token)] => {
            Ok(Some([base_url, app_key, access_token]))
        }
        _ if set.is_empty() => Ok(None),
        _ => Err(format!(
            "only {} of {BASE_URL_VAR}, {APP_KEY_VAR} and {ACCESS_TOKEN_VAR} are set; set all three to test a real Airship project, or none to test the mock",
            set.join(", ")
        )),
    }
}

/// One contract-suite target with the credentials that work there.
pub(crate) struct Target {
    base_url: String,
    app_key: String,
    access_token: Secret,
    /// The mock, when the target is one.
    mock: Option<RunningMock>,
    /// The current time the target checks event times against.
    pub(crate) now: DateTime<Utc>,
    /// Named user the tests write to.
    pub(crate) named_user: String,
    /// A tag group that exists on the target.
    pub(crate) tag_group: String,
}

impl Target {
    /// Starts a mock, or reads the real target from the environment when it is set.
    ///
    /// Panics when only some of the three variables are set, so a typo never silently tests the
    /// mock instead of the real project.
    pub(crate) async fn start() -> Target {
        let variables = [BASE_URL_VAR, APP_KEY_VAR, ACCESS_TOKEN_VAR]
            .map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()));
        match choose_real(variables) {
            Ok(Some([base_url, app_key, access_token])) => {
                Target::real(base_url, app_key, access_token)
            }
            Ok(None) => Target::mock().await,
            Err(message) => panic!("{message}"),
        }
    }

    async fn mock() -> Target {
        let now: DateTime<Utc> = MOCK_NOW.parse().expect("MOCK_NOW is RFC 3339");
        let config = MockConfig {
            now: Some(now),
            ..MockConfig::default()
        };
        let mock = airship_mock::spawn(config.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("failed to start the airship mock");
        Target {
            base_url: mock.base_url(),
            app_key: config.app_key,
            access_token: Secret::new(config.access_token),
            mock: Some(mock),
            now,
            named_user: DEFAULT_NAMED_USER.to_owned(),
            tag_group: DEFAULT_TAG_GROUP.to_owned(),
        }
    }

    fn real(base_url: String, app_key: String, access_token: String) -> Target {
        let variable = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        eprintln!("contract suite target: {base_url} (app key {app_key}), not the mock");
        Target {
            base_url,
            app_key,
            access_token: Secret::new(access_token),
            mock: None,
            now: Utc::now(),
            named_user: variable(NAMED_USER_VAR, DEFAULT_NAMED_USER),
            tag_group: variable(TAG_GROUP_VAR, DEFAULT_TAG_GROUP),
        }
    }

    /// Returns the mock, or `None` after printing why `test` is skipped on a real target.
    pub(crate) fn mock_only(&self, test: &str) -> Option<&RunningMock> {
        if self.mock.is_none() {
            eprintln!("{test}: skipped, it needs the mock's fault injection or stored state");
        }
        self.mock.as_ref()
    }

    /// Returns whether the target is the in-process mock.
    pub(crate) fn is_mock(&self) -> bool {
        self.mock.is_some()
    }

    pub(crate) fn config(&self) -> AirshipConfig {
        AirshipConfig::new(
            DataCenter::Us,
            self.app_key.clone(),
            self.access_token.clone(),
        )
        .with_base_url(self.base_url.clone())
        .with_timeout(Duration::from_secs(30))
    }

    /// Builds a client with the target's working credentials.
    pub(crate) fn client(&self) -> LiveClient {
        LiveClient::new(self.config()).expect("the contract target config is valid")
    }

    /// Builds a client with the target's config changed by `change`.
    pub(crate) fn client_with(
        &self,
        change: impl FnOnce(AirshipConfig) -> AirshipConfig,
    ) -> LiveClient {
        LiveClient::new(change(self.config())).expect("the changed config is valid")
    }
}

#[test]
fn target_chosen_from_all_or_no_variables() {
    let value = |text: &str| Some(text.to_owned());

    assert_eq!(choose_real([None, None, None]), Ok(None));
    assert_eq!(
        choose_real([value("https://go.airship.eu"), value("key"), value("token")]),
        Ok(Some([
            "https://go.airship.eu".to_owned(),
            "key".to_owned(),
            "token".to_owned()
        ]))
    );
    let partial = choose_real([value("https://go.airship.eu"), None, value("token")]).unwrap_err();
    assert!(partial.contains(BASE_URL_VAR), "{partial}");
    assert!(partial.contains(ACCESS_TOKEN_VAR), "{partial}");
    assert!(
        !partial.contains("only AIRSHIP_CONTRACT_APP_KEY"),
        "{partial}"
    );
}
