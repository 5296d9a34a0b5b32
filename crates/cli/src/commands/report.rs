//! `greenwatch report weekly|quarterly|observation`: a report directory (HTML with charts, a
//! print page, JSON, optionally a PDF) for the operator, computed with `Viewer::Local`.

use crate::data_dir::DataDir;
use anyhow::Context;
use clap::{Args, ValueEnum};
use greenwatch_model::access::Viewer;
use greenwatch_report::{build, write_report_dir, ReportFiles, ReportInputs, ReportKind};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Copy, Clone, ValueEnum)]
enum Kind {
    /// One ISO week.
    Weekly,
    /// One calendar quarter.
    Quarterly,
    /// One calendar month, with a summary per sensor (TSUBAME style).
    Observation,
}

/// Writes DIR/report.html (charts), report-print.html, report.json and the scripts they load;
/// the directory opens offline. Numbers equal `greenwatch query top|dos` over the period.
#[derive(Args)]
pub struct ReportArgs {
    #[arg(value_enum)]
    kind: Kind,
    /// A date inside the period, or its label (2026-W41, 2026-Q4, 2026-10).
    #[arg(long)]
    at: String,
    /// Directory to write the report into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Also print report-print.html to report.pdf with headless Chromium.
    #[arg(long)]
    pdf: bool,
    /// Print the report as JSON on stdout too.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataDir, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let kind = match args.kind {
        Kind::Weekly => ReportKind::Weekly,
        Kind::Quarterly => ReportKind::Quarterly,
        Kind::Observation => ReportKind::Observation,
    };
    let period = kind.period(&args.at)?;
    let store = data.open_existing_store()?;
    let netdb = data.open_netdb()?;
    let catalogue = data.catalogue()?;
    let sources = ReportInputs {
        observations: &*store,
        risks: &*store,
        alerts: &*store,
        catalogue: &catalogue,
        netdb: &netdb,
        pan: &data.layout().anonymiser()?,
    };
    let report = build(&sources, &Viewer::Local, kind, period, &mut |step| {
        eprintln!("report {period}: {step}")
    })?;
    write_report_dir(&report, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "report {period}: wrote {}",
        args.out.join(ReportFiles::HTML).display()
    );
    if args.pdf {
        let pdf = print_pdf(&args.out)?;
        eprintln!("report {period}: wrote {}", pdf.display());
    }
    if args.json {
        crate::table::print_json(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the print page to `report.pdf` with headless Chromium (no network, no GPU).
fn print_pdf(dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    let pdf = dir.join("report.pdf");
    let page = dir.join(ReportFiles::PRINT);
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .context(
            "--pdf needs headless Chromium: install it (Debian: apt-get install chromium) \
             or print report-print.html from a browser",
        )?;
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .with_context(|| format!("running {browser}"))?;
    anyhow::ensure!(
        out.status.success() && pdf.exists(),
        "{browser} could not print the report ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(pdf)
}
