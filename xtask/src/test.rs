//! `cargo xtask test`: end-to-end dependencies, then the whole test suite.

use crate::{run, workspace_root};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Skip `npm ci`, for machines where e2e/node/node_modules is already installed.
    #[arg(long)]
    skip_npm: bool,
}

impl Args {
    pub(crate) fn exec(self) -> anyhow::Result<()> {
        let root = workspace_root();
        if !self.skip_npm {
            // The end-to-end test drives the service with the official @segment/analytics-node.
            run(
                &root.join("e2e/node"),
                "npm",
                &["ci", "--no-audit", "--no-fund"],
            )?;
        }
        // CI=true makes insta fail on a snapshot that is missing or differs, instead of writing it.
        std::env::set_var("CI", "true");
        run(
            &root,
            "cargo",
            &["test", "--workspace", "--all-targets", "--locked"],
        )?;
        run(
            &root,
            "cargo",
            &["test", "--workspace", "--doc", "--locked"],
        )
    }
}
