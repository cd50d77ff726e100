//! `cargo xtask ci`: the checks CI runs, in order.

use crate::{run, workspace_root};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    test: crate::test::Args,
}

impl Args {
    pub(crate) fn exec(self) -> anyhow::Result<()> {
        let root = workspace_root();
        run(&root, "cargo", &["fmt", "--all", "--check"])?;
        run(
            &root,
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        )?;
        self.test.exec()
    }
}
