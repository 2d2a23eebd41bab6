//! `oplife-model`: the command-line model checker. `oplife-model --help`
//! explains every command and flag.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use oplife_model::check::{self, CheckOptions};
use oplife_model::config::{DEFAULT_SUITE, MAX_FEED, MAX_OPS, MAX_WAITS};
use oplife_model::mutants::CATALOGUE;
use oplife_model::simulate::{self, Budget};
use oplife_model::verdict::{Demand, check_suite};
use oplife_model::{LifecycleModel, ModelConfig};
use oplife_spec::{OperationKind, Table, render};
use stateright::Model;

const EXIT_CODES: &str = "Exit status: 0 when everything held; 1 when a property was violated, an example or a \
table row that the configuration can reach was not reached, or a mutant survived; 2 for a usage error (bad or \
conflicting flags, a busy port). What a configuration cannot reach by construction (no waits, no watchers, \
nothing retained...) is reported as \"not applicable here\" and never fails.";

/// Model-checks the oplife transition table: the real lifecycle machine,
/// driven through every interleaving of registry calls over a few ids.
#[derive(Parser)]
#[command(name = "oplife-model", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Explore every interleaving, check every property, row coverage and the mutant catalogue.
    ///
    /// Without model flags it runs the default suite: "three ops" (3 ids, one wait, a watcher per
    /// op, a concurrency limit of 2), "two waits" (2 ids, two concurrent waits, watchers and
    /// progress) and "three ops, two waits". Model flags adjust the last, or --deep.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Serve stateright's Explorer on 127.0.0.1, with every property (always and sometimes).
    #[command(after_help = EXIT_CODES)]
    Explore(ExploreArgs),
    /// Print the transition table as Markdown (the default), the behaviour matrix or a Mermaid diagram.
    Table(TableArgs),
}

/// The universe explored. Each flag changes one value of the base
/// configuration ("three ops, two waits", or --deep).
#[derive(Args, Clone, Copy)]
struct ModelFlags {
    /// Start from the deep configuration: 4 ids, two retained records, two feed entries, restarts,
    /// no waits or watchers.
    #[arg(long)]
    deep: bool,
    /// Operation ids explored [1-6; base: 3].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=MAX_OPS as i64))]
    ops: Option<u8>,
    /// Terminal records retained before the oldest is evicted [0-8; base: 1].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=8))]
    max_completed: Option<u8>,
    /// Operations that may be live at once: a number from 1, or "none" [base: 2].
    #[arg(long, value_parser = parse_limit)]
    max_concurrent: Option<Limit>,
    /// wait_all requests that may be pending at once [0-3; base: 2].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=MAX_WAITS as i64))]
    waits: Option<u8>,
    /// Watchers an environment may hold per operation [0-3; base: 0].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    watchers: Option<u8>,
    /// Progress reports per operation [0-3; base: 0].
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=3))]
    progress: Option<u32>,
    /// Completion feed entries retained [0-3; base: 1].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=MAX_FEED as i64))]
    feed: Option<u8>,
    /// Explore restarts: capture the image and restore it into a fresh registry [base: on].
    #[arg(long, conflicts_with = "no_restarts")]
    restarts: bool,
    /// Do not explore restarts.
    #[arg(long)]
    no_restarts: bool,
    /// Explore crashes: every step also replayed as a durable registry
    /// recovers it, and a crash action that reopens the journal [base: off;
    /// on in the suite's "three ops"].
    #[arg(long, conflicts_with = "no_crashes")]
    crashes: bool,
    /// Do not explore crashes.
    #[arg(long)]
    no_crashes: bool,
    /// Register operations of every kind, not only child agents and
    /// background jobs [base: off; on in the suite's "four kinds"].
    #[arg(long)]
    all_kinds: bool,
    /// Ask restarts to keep an unfinished operation [base: off; on in the
    /// suite's "four kinds"].
    #[arg(long)]
    retention: bool,
    /// Move a consumer's completion cursor [base: off; on in the suite's
    /// "four kinds"].
    #[arg(long)]
    cursors: bool,
}

/// `--max-concurrent`: a limit, or none.
#[derive(Clone, Copy)]
struct Limit(Option<usize>);

fn parse_limit(text: &str) -> Result<Limit, String> {
    if text == "none" {
        return Ok(Limit(None));
    }
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (a limit of 0 admits nothing); use \"none\" for no limit".to_owned()),
        Ok(limit) => Ok(Limit(Some(limit))),
        Err(_) => Err(format!("expected a number or \"none\", not {text:?}")),
    }
}

impl ModelFlags {
    /// Whether any flag chose a configuration.
    fn custom(&self) -> bool {
        self.deep
            || self.ops.is_some()
            || self.max_completed.is_some()
            || self.max_concurrent.is_some()
            || self.waits.is_some()
            || self.watchers.is_some()
            || self.progress.is_some()
            || self.feed.is_some()
            || self.restarts
            || self.no_restarts
            || self.crashes
            || self.no_crashes
            || self.all_kinds
            || self.retention
            || self.cursors
    }

    fn config(&self) -> ModelConfig {
        self.config_from(if self.deep { ModelConfig::DEEP } else { ModelConfig::DEFAULT })
    }

    fn config_from(&self, base: ModelConfig) -> ModelConfig {
        let mut config = base;
        config.ops = self.ops.unwrap_or(config.ops);
        config.max_completed = self.max_completed.map_or(config.max_completed, usize::from);
        config.max_concurrent = self.max_concurrent.map_or(config.max_concurrent, |Limit(limit)| limit);
        config.waits = self.waits.unwrap_or(config.waits);
        config.watchers = self.watchers.unwrap_or(config.watchers);
        config.progress = self.progress.unwrap_or(config.progress);
        config.feed_retention = self.feed.map_or(config.feed_retention, usize::from);
        config.restarts = (config.restarts || self.restarts) && !self.no_restarts;
        config.crashes = (config.crashes || self.crashes) && !self.no_crashes;
        if self.all_kinds {
            config.kinds = &OperationKind::ALL;
        }
        config.retention = config.retention || self.retention;
        config.cursors = config.cursors || self.cursors;
        config
    }
}

/// How the search runs.
#[derive(Args, Clone, Copy)]
struct SearchFlags {
    /// Checker threads; 0 means one per core [0-256; default: 2].
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=256))]
    threads: u16,
    /// Symmetry reduction over ids and wait slots [default: on].
    #[arg(long, conflicts_with = "no_symmetry")]
    symmetry: bool,
    /// Explore every state without symmetry reduction.
    #[arg(long)]
    no_symmetry: bool,
}

impl SearchFlags {
    fn threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => usize::from(n),
        }
    }
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    model: ModelFlags,
    #[command(flatten)]
    search: SearchFlags,
    /// Skip the mutant catalogue.
    #[arg(long)]
    no_mutants: bool,
    /// Search level by level instead of depth first: the same states, and the report gives the
    /// depth of the farthest one, but every state of a level waits in memory.
    #[arg(long, conflicts_with = "simulate")]
    breadth_first: bool,
    /// Check a mutant of the catalogue instead of the shipped table, to see how it is caught (exits 1).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(CATALOGUE.iter().map(|m| m.name)))]
    mutant: Option<String>,
    /// Seeded random walks instead of the exhaustive search, from a wider base configuration: 6 ids,
    /// 3 waits, a watcher and a progress report per op, max_completed 2, max_concurrent 4, feed 2,
    /// restarts and crashes. Every step checks every property; mutants are hunted the same way.
    #[arg(long)]
    simulate: bool,
    /// --simulate: this many walks [default: 2000].
    #[arg(long, requires = "simulate", conflicts_with = "for_secs")]
    walks: Option<u64>,
    /// --simulate: walk for this many seconds instead of a number of walks.
    #[arg(long = "for", value_name = "SECS", requires = "simulate")]
    for_secs: Option<f64>,
    /// --simulate: the seed (printed by every run; the same seed replays the same walks) [default: from the clock].
    #[arg(long, requires = "simulate")]
    seed: Option<u64>,
    /// --simulate: the longest walk, in calls [default: 400].
    #[arg(long, default_value_t = 400, requires = "simulate")]
    steps: usize,
}

#[derive(Args)]
struct ExploreArgs {
    #[command(flatten)]
    model: ModelFlags,
    #[command(flatten)]
    search: SearchFlags,
    /// Port on 127.0.0.1; 0 picks a free one [default: 3000].
    #[arg(long, default_value_t = 3000)]
    port: u16,
}

#[derive(Args)]
struct TableArgs {
    /// What the compiled machine does on every status and input (it runs the machine).
    #[arg(long, conflicts_with = "mermaid")]
    matrix: bool,
    /// A Mermaid state diagram.
    #[arg(long)]
    mermaid: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check_command(&args),
        Command::Explore(args) => explore(&args),
        Command::Table(args) => {
            let text = if args.matrix {
                oplife_model::matrix::render(&oplife_machine::Lifecycle::standard(Default::default()))
            } else if args.mermaid {
                render::mermaid(&Table::standard())
            } else {
                render::markdown(&Table::standard())
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

fn explore(args: &ExploreArgs) -> ExitCode {
    // Bind first: a busy port is a clear error, and port 0 gets its real
    // number before the Explorer takes it.
    let port = match std::net::TcpListener::bind(("127.0.0.1", args.port)).and_then(|l| l.local_addr()) {
        Ok(address) => address.port(),
        Err(error) => {
            eprintln!("error: cannot serve on 127.0.0.1:{}: {error}", args.port);
            return ExitCode::from(2);
        }
    };
    let config = args.model.config();
    eprintln!("serving stateright Explorer on http://127.0.0.1:{port} ({config})");
    let model = LifecycleModel::standard(config).for_explorer();
    let _ = model.checker().threads(args.search.threads()).serve(("127.0.0.1", port));
    ExitCode::SUCCESS
}

fn check_command(args: &CheckArgs) -> ExitCode {
    if args.simulate {
        return simulate_command(args);
    }
    let custom = args.model.custom();
    let options = CheckOptions {
        progress: true,
        symmetry: !args.search.no_symmetry,
        threads: args.search.threads(),
        breadth_first: args.breadth_first,
        ..CheckOptions::new(args.model.config())
    };
    let started = std::time::Instant::now();
    let mutant = args.mutant.as_deref().and_then(|name| CATALOGUE.iter().find(|m| m.name == name));
    let table = match mutant {
        Some(mutant) => {
            eprintln!("checking mutant {}: {}", mutant.name, mutant.description);
            mutant.table()
        }
        None => Table::standard(),
    };
    let suite: Vec<(&'static str, ModelConfig)> =
        if custom { vec![("custom", options.config)] } else { DEFAULT_SUITE.to_vec() };
    eprintln!(
        "checking the table exhaustively ({} configuration{}, threads={}, symmetry={})",
        suite.len(),
        if suite.len() == 1 { "" } else { "s" },
        options.threads,
        options.symmetry
    );
    // The default suite must reach every example and fire every row; a
    // custom one what the shipped table reaches in it.
    let demand = if custom { Demand::WhatTheShippedTableReaches } else { Demand::Everything };
    let verdict = check_suite(&table, &suite, options, demand);
    print!("{}", verdict.render());
    let mut ok = verdict.ok();
    if !args.no_mutants {
        println!("mutants (each must be caught):");
        // The catalogue is built for the default suite (a custom
        // configuration may lack the waits or watchers a mutant breaks).
        let configs: Vec<ModelConfig> = DEFAULT_SUITE.iter().map(|(_, c)| *c).collect();
        let mut stdout = std::io::stdout();
        let mutants_started = std::time::Instant::now();
        let verdicts = check::check_mutants(CATALOGUE, &configs, options.threads, options.symmetry, &mut stdout);
        let caught = verdicts.iter().filter(|v| !v.caught_by.is_empty()).count();
        println!("mutants caught: {caught}/{}  ({:.2} s)", verdicts.len(), mutants_started.elapsed().as_secs_f64());
        ok &= caught == verdicts.len();
    }
    println!("total time: {:.2} s", started.elapsed().as_secs_f64());
    println!("{}", if ok { "RESULT: ok" } else { "RESULT: FAILED" });
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// `check --simulate`: seeded random walks of the table (or a mutant), then
/// of every mutant, each within the same budget.
fn simulate_command(args: &CheckArgs) -> ExitCode {
    let base = if args.model.deep { ModelConfig::DEEP } else { simulate::WIDE };
    let config = args.model.config_from(base);
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let budget = match args.for_secs {
        Some(secs) => Budget::For(std::time::Duration::from_secs_f64(secs.max(0.0))),
        None => Budget::Walks(args.walks.unwrap_or(2000)),
    };
    let mutant = args.mutant.as_deref().and_then(|name| CATALOGUE.iter().find(|m| m.name == name));
    let table = mutant.map_or_else(Table::standard, |m| m.table());
    println!("simulating with seed {seed} (replay with --seed {seed}): {config}");
    println!("budget: {budget:?}, walks of at most {} calls", args.steps);
    let run = simulate::simulate(table, config, seed, budget, args.steps);
    println!(
        "walks: {} in {:.2} s ({:.0} walks/s), {} calls",
        run.walks,
        run.elapsed.as_secs_f64(),
        run.walk_rate(),
        run.steps
    );
    let mut ok = true;
    match &run.violation {
        None => println!("properties: every `always` property held on every step"),
        Some((property, walk, calls)) => {
            ok = false;
            println!("       VIOLATED  {property} (walk {walk})");
            println!("shrunk counterexample ({} calls):", calls.len());
            for (n, step) in calls.iter().enumerate() {
                println!("  {}. {}\n       {}", n + 1, step.call, step.change);
            }
        }
    }
    if mutant.is_none() && !args.no_mutants {
        println!("mutants by simulation (each must be found within the budget):");
        for m in CATALOGUE {
            let hunt = simulate::simulate(m.table(), config, seed, budget, args.steps);
            match hunt.violation {
                Some((property, walk, _)) => println!("  {:<34} found in walk {walk}: {property}", m.name),
                None => {
                    ok = false;
                    println!("  {:<34} NOT FOUND in {} walks", m.name, hunt.walks);
                }
            }
        }
    }
    println!("{}", if ok { "RESULT: ok" } else { "RESULT: FAILED" });
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The checker allocates and frees a state for every successor it generates
/// (millions per check, most of them duplicates dropped at once); mimalloc
/// does that in 11-13 % fewer instructions than the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
