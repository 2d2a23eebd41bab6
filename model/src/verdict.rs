//! What a check must reach, and its verdict.
//!
//! Whether a configuration can reach a `sometimes` property or fire a row
//! is not written by hand anywhere: it is derived by checking the shipped
//! table in the same configuration. Its searches are exhaustive, so an
//! example the shipped table never reaches there is unreachable in that
//! configuration, and a row it never fires cannot fire there; both are
//! reported as not applicable, never as failures. The table under check
//! (the shipped one, or a mutant) must reach everything the shipped table
//! reaches.
//!
//! The default suite demands more: together its configurations must reach
//! every example and fire every row, so that nothing the properties speak
//! of is out of reach of the check `cargo test` runs.

use std::collections::BTreeSet;

use oplife_spec::{Scope, Table};

use crate::check::{CheckOptions, CheckReport, run_suite};
use crate::config::ModelConfig;
use crate::properties;

/// What a suite of configurations must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demand {
    /// Every example in some configuration, every row in some
    /// configuration (the default suite).
    Everything,
    /// What the shipped table reaches in the same configurations (any
    /// other suite).
    WhatTheShippedTableReaches,
}

/// The reports of one suite, judged.
#[derive(Debug, Clone)]
pub struct SuiteVerdict {
    /// Each configuration's name, configuration and report, with what it
    /// cannot reach moved to its `not_applicable` lists.
    pub reports: Vec<(&'static str, ModelConfig, CheckReport)>,
    /// Examples the suite demands and reached nowhere.
    pub unreached_anywhere: Vec<&'static str>,
}

impl SuiteVerdict {
    /// Whether every invariant held everywhere and everything demanded was
    /// reached.
    pub fn ok(&self) -> bool {
        let last_rows_fired = self.reports.last().is_none_or(|(_, _, r)| r.rows_never_fired.is_empty());
        self.reports.iter().all(|(_, _, r)| r.held()) && self.unreached_anywhere.is_empty() && last_rows_fired
    }

    /// The report: each configuration's figures and properties, then the
    /// row coverage of the whole suite.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for (name, config, report) in &self.reports {
            text.push_str(&format!("== {name}: {config}\n{}", report.render_properties()));
        }
        for name in &self.unreached_anywhere {
            text.push_str(&format!("  NEVER REACHED in any configuration  {name}\n"));
        }
        if let Some((_, _, last)) = self.reports.last() {
            text.push_str(&last.render_coverage());
        }
        text
    }
}

/// Checks `table` under every configuration of `suite` and judges the
/// reports against `demand`. With [`Demand::WhatTheShippedTableReaches`]
/// and a table other than the shipped one, the shipped table is checked
/// first under the same suite to learn what it reaches.
pub fn check_suite(
    table: &Table,
    suite: &[(&'static str, ModelConfig)],
    options: CheckOptions,
    demand: Demand,
) -> SuiteVerdict {
    let mut reports = run_suite(table, suite, options);
    let shipped = Table::standard();
    let reference = match *table == shipped {
        true => reports.clone(),
        false => run_suite(&shipped, suite, options),
    };
    excuse(&mut reports, &reference);
    let unreached_anywhere = match demand {
        Demand::WhatTheShippedTableReaches => Vec::new(),
        Demand::Everything => {
            let reached: BTreeSet<&str> =
                reports.iter().flat_map(|(_, r)| r.properties.iter().filter(|p| p.ok).map(|p| p.name)).collect();
            // Rows the whole suite cannot fire are failures here.
            if let Some((_, last)) = reports.last_mut() {
                let excused = std::mem::take(&mut last.rows_not_applicable);
                last.rows_never_fired.extend(excused.into_iter().map(|(row, text, _)| (row, text)));
            }
            properties::examples().iter().map(|p| p.name).filter(|name| !reached.contains(name)).collect()
        }
    };
    let reports = reports.into_iter().zip(suite).map(|((name, report), (_, config))| (name, *config, report)).collect();
    SuiteVerdict { reports, unreached_anywhere }
}

/// Moves, in each report, the examples never reached and the rows never
/// fired that `reference` (the shipped table under the same suite) never
/// reached or fired either to the report's not-applicable lists, with why.
/// Rows are matched by their rendering, so a mutant's changed row is never
/// excused by the shipped row it replaced.
pub fn excuse(reports: &mut [(&'static str, CheckReport)], reference: &[(&'static str, CheckReport)]) {
    for ((_, report), (_, shipped)) in reports.iter_mut().zip(reference) {
        let unreachable: BTreeSet<&str> = shipped.unreached().into_iter().collect();
        let (excused, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut report.properties).into_iter().partition(|p| !p.ok && unreachable.contains(p.name));
        report.properties = kept;
        report.not_applicable = excused
            .into_iter()
            .map(|p| (p.name, "no state of this configuration shows it: searched exhaustively".to_owned()))
            .collect();
    }
    let (Some((_, last)), Some((_, shipped))) = (reports.last_mut(), reference.last()) else { return };
    let table = Table::standard();
    let unfired: BTreeSet<&str> = shipped.rows_never_fired.iter().map(|(_, text)| text.as_str()).collect();
    let (excused, kept): (Vec<_>, Vec<_>) =
        std::mem::take(&mut last.rows_never_fired).into_iter().partition(|(_, text)| unfired.contains(text.as_str()));
    last.rows_never_fired = kept;
    last.rows_not_applicable = excused
        .into_iter()
        .map(|(row, text)| {
            let input = table.rows.iter().find(|r| r.to_string() == text).map(|r| r.input);
            let why = match input {
                Some(input) if input.scope() != Scope::Cascade && shipped.inputs_never_called.contains(&input) => {
                    format!("the configuration never calls {input}")
                }
                _ => "no state of this configuration fires it: searched exhaustively".to_owned(),
            };
            (row, text, why)
        })
        .collect();
}
