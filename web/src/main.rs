//! The `kartoteka` command: serve, migrate, users, plugins, bulk-action jobs, imports, exports, demo
//! data.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kartoteka_core::SystemClock;
use kartoteka_core::auth::Role;
use kartoteka_web::config::{Config, redact_url};

#[derive(Parser)]
#[command(
    name = "kartoteka",
    version,
    about = "Kartoteka: contacts, segments and bulk actions for sales and marketing teams."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web server (the default); migrates the database first.
    Serve,
    /// Applies pending database migrations and exits.
    Migrate,
    /// Manages users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manages plugins (the running servers pick changes up within a second).
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Runs bulk actions as jobs, lists and cancels them.
    Job {
        #[command(subcommand)]
        command: JobCommand,
    },
    /// Imports contacts from a CSV or Excel file.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Exports contacts to a CSV or Excel file.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Fills an empty base with a realistic demo: people, companies, fields, activities.
    Demo {
        /// Number of people.
        #[arg(long, default_value_t = 2000)]
        people: usize,
        /// Number of companies.
        #[arg(long, default_value_t = 300)]
        companies: usize,
        /// Average activities per person.
        #[arg(long, default_value_t = 6)]
        activities: usize,
        /// Seed of the generator: the same seed gives the same base.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates a user. The password is asked for, or read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "manager", "agent"])]
        role: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists users: id, role, email and status (active or deactivated), tab-separated.
    List,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Imports people and companies from a CSV (`,` `;` or tab; UTF-8, UTF-16, Windows-1250
    /// or -1251) or `.xlsx` file whose first row names the columns, with a progress bar.
    /// The rows skipped or refused are written to FILE.rejected.csv with the reasons.
    Contacts {
        file: std::path::PathBuf,
        /// The mapping as JSON (or `@mapping.json`): `{"columns": {"E-mail": "email",
        /// "Imię": "first_name"}, "match_by": "email", "on_match": "update"}`. Without it,
        /// the mapping suggested from the headers.
        #[arg(long)]
        mapping: Option<String>,
        /// Check every row and report what would happen, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// The e-mail of the user it imports as (the owner of new contacts); the first
        /// admin by default.
        #[arg(long = "as")]
        as_user: Option<String>,
        /// Where to write the rows skipped or refused (default: FILE.rejected.csv).
        #[arg(long)]
        rejected: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Writes a saved view's contacts (its columns, filter, search and order; without
    /// --view, every contact with the default columns) to a CSV file (UTF-8 with a byte
    /// order mark, for Excel) or an Excel workbook, with a progress bar.
    Contacts {
        /// The file to write; its extension (.csv or .xlsx) gives the format.
        #[arg(long)]
        out: std::path::PathBuf,
        /// The saved view to export (`GET /api/v1/views` lists them).
        #[arg(long)]
        view: Option<i64>,
        /// csv or xlsx, when the file's extension says neither.
        #[arg(long)]
        format: Option<String>,
        /// The e-mail of the user it exports as (what they see); the first admin by default.
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Subcommand)]
enum JobCommand {
    /// Starts an action on a segment's members or on contacts and works it here, with a
    /// progress bar (a server sharing the database may take batches too).
    Run {
        /// The segment whose members it runs on.
        #[arg(long, conflicts_with = "contacts")]
        segment: Option<i64>,
        /// Instead of a segment: these contacts (`--contacts 4,8,15`).
        #[arg(long, value_delimiter = ',')]
        contacts: Vec<i64>,
        /// `plugin.action`, e.g. `tasks.create_task` (`kartoteka plugin list` shows them).
        #[arg(long)]
        action: String,
        /// The action's parameters as JSON, e.g. `'{"title": "Call {{ name }}"}'`.
        #[arg(long)]
        params: Option<String>,
        /// Compute the effects and show them, applying none.
        #[arg(long)]
        dry_run: bool,
        /// The e-mail of the user it runs as (their visibility and rights); the first
        /// admin by default.
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Lists the latest jobs.
    List {
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Cancels a job (a running one stops within its batch).
    Cancel {
        id: i64,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// The failed and skipped targets of a job, with the reasons.
    Outcomes {
        id: i64,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Writes a new plugin crate, ready to test and build: `NAME/` with `Cargo.toml`,
    /// `rust-toolchain.toml`, `src/lib.rs` (a working example with tests) and `README.md`.
    New {
        /// The plugin's name (a slug): `acme-words`.
        name: String,
        /// What the plugin offers.
        #[arg(long, default_value = "operator", value_parser = kartoteka_web::scaffold::KINDS)]
        kind: String,
        /// Where to create the `NAME/` folder.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
        /// The SDK crate (`plugins/sdk` of a Kartoteka checkout); by default this build's.
        #[arg(long)]
        sdk: Option<std::path::PathBuf>,
    },
    /// Installs a plugin from a `.wasm` component (disabled), or upgrades it to a newer
    /// version.
    Add {
        /// The component, built with `cargo build --target wasm32-wasip2 --release`.
        file: std::path::PathBuf,
        /// Refuse a component of another kind.
        #[arg(long, value_parser = ["filter-operator", "segment-criterion", "bulk-action"])]
        kind: Option<String>,
    },
    /// Lists installed plugins.
    List,
    /// Approves every capability a plugin asks for and, optionally, grants its calls more
    /// than the default limits (64 MiB, 2,000 ms per batch).
    Approve {
        name: String,
        /// Memory for every call, in MiB (64 to 512).
        #[arg(long)]
        memory_mb: Option<u64>,
        /// The deadline of every call, in ms (2,000 to 10,000).
        #[arg(long)]
        time_ms: Option<u64>,
    },
    /// Enables a plugin (its capabilities must be approved).
    Enable { name: String },
    /// Disables a plugin.
    Disable { name: String },
    /// Removes a third-party plugin.
    Remove { name: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = Config::from_environment()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            println!("Database {} is up to date.", redact_url(&config.database_url));
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    name,
                    password_stdin,
                },
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: kartoteka_core::Error| anyhow::anyhow!("{e}"))?;
            let password = read_password(password_stdin)?;
            let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            let user = core
                .users()
                .create_user(&email, &name, &password, role)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Created {} ({}) with id {}.", user.email, user.role.as_str(), user.id);
            Ok(())
        }
        Command::User {
            command: UserCommand::List,
        } => {
            let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            for user in core.users().list_users().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                let status = if user.is_active() { "active" } else { "deactivated" };
                println!("{}\t{}\t{}\t{status}", user.id, user.role.as_str(), user.email);
            }
            Ok(())
        }
        Command::Plugin { command } => plugin(config, command).await,
        Command::Job { command } => {
            use kartoteka_web::job_cli;
            let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            match command {
                JobCommand::Run {
                    segment,
                    contacts,
                    action,
                    params,
                    dry_run,
                    as_user,
                } => {
                    let args = job_cli::RunArgs {
                        segment,
                        contacts,
                        action,
                        params,
                        dry_run,
                        as_user,
                    };
                    job_cli::run(&core, args).await
                }
                JobCommand::List { as_user } => job_cli::list(&core, as_user.as_deref()).await,
                JobCommand::Cancel { id, as_user } => job_cli::cancel(&core, id, as_user.as_deref()).await,
                JobCommand::Outcomes { id, as_user } => job_cli::outcomes(&core, id, as_user.as_deref()).await,
            }
        }
        Command::Import {
            command:
                ImportCommand::Contacts {
                    file,
                    mapping,
                    dry_run,
                    as_user,
                    rejected,
                },
        } => {
            let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            let args = kartoteka_web::import_cli::ImportArgs {
                file,
                mapping,
                dry_run,
                as_user,
                rejected,
            };
            kartoteka_web::import_cli::import_contacts(&core, args).await
        }
        Command::Export {
            command:
                ExportCommand::Contacts {
                    out,
                    view,
                    format,
                    as_user,
                },
        } => {
            let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            let args = kartoteka_web::export_cli::ExportArgs {
                out,
                view,
                format,
                as_user,
            };
            kartoteka_web::export_cli::export_contacts(&core, args).await
        }
        Command::Demo {
            people,
            companies,
            activities,
            seed,
        } => {
            let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
            let options = kartoteka_core::demo::DemoOptions {
                people,
                companies,
                activities_per_contact: activities,
                seed,
                owner_ids: vec![],
            };
            let started = std::time::Instant::now();
            let report = core
                .load_demo(options, &|done, total| {
                    if let Some(percent) = (done * 100).checked_div(total) {
                        eprint!("\rLoading demo: {percent:>3}% ({done}/{total} rows)");
                    }
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!();
            println!(
                "Loaded {} people, {} companies, {} activities and {} field definitions in {:.1}s.",
                report.people,
                report.companies,
                report.activities,
                report.fields,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn plugin(config: Config, command: PluginCommand) -> anyhow::Result<()> {
    if let PluginCommand::New { name, kind, dir, sdk } = command {
        return new_plugin(name, kind, dir, sdk);
    }
    let core = kartoteka_web::open(&config, Arc::new(SystemClock)).await?;
    let admin = core.plugins().local_admin();
    let fail = |e: kartoteka_core::Error| anyhow::anyhow!("{e}");
    let show = |p: &kartoteka_core::plugin::PluginInfo| {
        let offers: Vec<&str> = p.offers.iter().map(|o| o.name.as_str()).collect();
        let caps: Vec<&str> = p.capabilities.iter().map(|c| c.as_str()).collect();
        format!(
            "{}\t{}\t{}\t{}{}\t{}\tasks: {}{}",
            p.name,
            p.version,
            p.kind.as_str(),
            if p.enabled { "enabled" } else { "disabled" },
            if p.builtin { ", built in" } else { "" },
            offers.join(","),
            if caps.is_empty() {
                "nothing".to_owned()
            } else {
                caps.join(",")
            },
            if p.approved() { "" } else { " (not approved)" },
        )
    };
    match command {
        PluginCommand::New { .. } => {}
        PluginCommand::Add { file, kind } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let kind = kind.as_deref().and_then(kartoteka_core::plugin::Kind::parse);
            let (info, installed) = admin.install(bytes, kind).await.map_err(fail)?;
            match installed {
                kartoteka_core::plugin::Installed::New => println!("Installed (disabled): {}", show(&info)),
                kartoteka_core::plugin::Installed::Upgraded => println!("Upgraded: {}", show(&info)),
            }
        }
        PluginCommand::List => {
            for p in admin.list().await.map_err(fail)? {
                println!("{}", show(&p));
            }
        }
        PluginCommand::Approve {
            name,
            memory_mb,
            time_ms,
        } => {
            let grant = match (memory_mb, time_ms) {
                (None, None) => None,
                _ => Some(
                    kartoteka_core::plugin::limits::Grant::new(memory_mb, time_ms).map_err(|e| {
                        let lines: Vec<String> = e
                            .problems()
                            .iter()
                            .map(|p| format!("--{}: {}", p.path.replace('_', "-"), p.message))
                            .collect();
                        anyhow::anyhow!("{}", lines.join("\n"))
                    })?,
                ),
            };
            let info = admin.approve(&name, grant).await.map_err(fail)?;
            println!("Approved: {}", show(&info));
            println!("Limits: {}", kartoteka_core::plugin::describe_grant(&info.grant));
        }
        PluginCommand::Enable { name } => println!("Enabled: {}", show(&admin.enable(&name).await.map_err(fail)?)),
        PluginCommand::Disable { name } => println!("Disabled: {}", show(&admin.disable(&name).await.map_err(fail)?)),
        PluginCommand::Remove { name } => {
            admin.remove(&name).await.map_err(fail)?;
            println!("Removed {name}.");
        }
    }
    Ok(())
}

/// `kartoteka plugin new`: see [`kartoteka_web::scaffold`].
fn new_plugin(
    name: String,
    kind: String,
    dir: std::path::PathBuf,
    sdk: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let request = kartoteka_web::scaffold::Request {
        name,
        kind,
        parent: dir,
        sdk: sdk.unwrap_or_else(kartoteka_web::scaffold::default_sdk),
    };
    let folder = kartoteka_web::scaffold::create(&request)
        .map_err(|problems| anyhow::anyhow!("can't create the plugin:\n  - {}", problems.join("\n  - ")))?;
    println!(
        "Created {} (a {} plugin).",
        folder.display(),
        kartoteka_web::scaffold::kind_label(&request.kind)
    );
    println!("Next:");
    println!("  cd {}", folder.display());
    println!("  cargo test                                      # native tests");
    println!("  cargo build --target wasm32-wasip2 --release    # the component");
    println!(
        "  kartoteka plugin add target/wasm32-wasip2/release/{}.wasm",
        request.name.replace('-', "_")
    );
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(database = %redact_url(&config.database_url), "opening the database");
    let listener = tokio::net::TcpListener::bind(config.bind).await.with_context(|| {
        format!(
            "can't listen on {} (set KARTOTEKA_BIND to another address)",
            config.bind
        )
    })?;
    let running = kartoteka_web::start(config.clone(), Arc::new(SystemClock), Some(listener)).await?;
    let users = running
        .core
        .users()
        .count_users()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Kartoteka is running at http://{}/", running.addr);
    if users == 0 {
        println!("No users yet. Create the first admin in another terminal:");
        println!("  kartoteka user add --email you@example.com --role admin");
        println!("(with cargo: cargo run -p kartoteka-web -- user add --email you@example.com --role admin)");
    }
    std::io::stdout().flush().ok();
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("Stopping.");
    running.stop();
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            bail!("standard input held no password");
        }
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password; pass --password-stdin and pipe it in");
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Repeat it: ")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}
