//! `cargo xtask contract`: the contract suite of the Airship client.

use crate::{run, workspace_root};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Run only the tests whose name contains this text.
    filter: Option<String>,
}

impl Args {
    /// Runs `crates/airship-client/tests/contract` against the in-process mock, or against the
    /// project named by AIRSHIP_CONTRACT_BASE_URL, AIRSHIP_CONTRACT_APP_KEY and
    /// AIRSHIP_CONTRACT_ACCESS_TOKEN when all three are set.
    pub(crate) fn exec(self) -> anyhow::Result<()> {
        let mut args = vec![
            "test",
            "--package",
            "airship-client",
            "--test",
            "contract",
            "--locked",
        ];
        if let Some(filter) = &self.filter {
            args.push(filter);
        }
        if std::env::var_os("AIRSHIP_CONTRACT_BASE_URL").is_some() {
            println!("Running the contract suite against AIRSHIP_CONTRACT_BASE_URL, not the mock.");
            // Shows which mock-only tests were skipped; a passing test's output is hidden otherwise.
            args.extend(["--", "--show-output"]);
        }
        run(&workspace_root(), "cargo", &args)
    }
}
