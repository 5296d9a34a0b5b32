//! `greenwatch migrate`: brings the store's schema up to this binary's version, or, with
//! `--from` and `--to`, moves a whole embedded deployment into an empty PostgreSQL store.

use crate::data_dir::DataDir;
use crate::progress::Bar;
use greenwatch_ingest::Progress;
use greenwatch_store::StoreLocation;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  greenwatch --store postgres://greenwatch@db:5432/greenwatch migrate
  greenwatch migrate --from sqlite:./greenwatch-data/greenwatch.sqlite \\
      --to postgres://greenwatch@db:5432/greenwatch")]
pub struct MigrateArgs {
    /// The store to copy from (sqlite:PATH). With --to: copy instead of migrating --store.
    #[arg(long, requires = "to", value_name = "LOCATION")]
    from: Option<StoreLocation>,
    /// The empty store to copy into (postgres://…); its schema is made first.
    #[arg(long, requires = "from", value_name = "LOCATION")]
    to: Option<StoreLocation>,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataDir, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let (Some(from), Some(to)) = (args.from, args.to) else {
        let location = data.store_location();
        let versions = greenwatch_store_open::migrate(location)?;
        if args.json {
            let (before, after) = versions.unzip();
            println!(
                "{}",
                serde_json::json!({
                    "store": location.to_string(),
                    "schema_version_before": before,
                    "schema_version": after,
                })
            );
        } else {
            match versions {
                Some((before, after)) if before == after => {
                    println!("{location}: schema version {after}, up to date")
                }
                Some((before, after)) => {
                    println!("{location}: schema version {before} -> {after}")
                }
                None => println!("{location}: the embedded store is up to date"),
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let bar = Bar::new(args.json);
    let mut current = String::new();
    let report = greenwatch_store_open::copy_store(&from, &to, &mut |table, rows| {
        if current != table {
            bar.finish();
            bar.start(&format!("copying {table}"), None);
            current = table.to_string();
        }
        bar.set(rows);
    })?;
    bar.finish();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "from": from.to_string(),
                "to": to.to_string(),
                "rows": report.tables,
            })
        );
    } else {
        for (table, rows) in &report.tables {
            println!("{table:<24} {rows:>12} rows");
        }
        println!("copied {from} to {to}");
    }
    Ok(ExitCode::SUCCESS)
}
