//! Deliver: the daily run (placeholder until the delivery issue lands).
use anyhow::Result;

use crate::cli::{GlobalArgs, RunArgs};

pub async fn run(_global: &GlobalArgs, _args: &RunArgs) -> Result<()> {
    anyhow::bail!("the daily run is not built yet")
}
