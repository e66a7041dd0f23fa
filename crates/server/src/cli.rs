//! The command line (a contract: see DESIGN.md). Each subcommand calls the same use cases as the
//! web pages.

use crate::config::{Config, Options, unknown_variables};
use crate::server::{init_logging, open_store, run_worker, send_test_email, serve};
use crate::store::{SortOrder, UserMatch, ViewFilter};
use crate::tenancy::OrganizationScope;
use crate::usecases::Services;
use crate::usecases::api_tokens::{
    CreateTokenError, NewTokenInput, TokenCreator, create_api_token as create_api_token_for,
};
use crate::usecases::create_organization::{
    CreateError, OrganizationInput, create_organization,
    create_organization_inviting_administrator, field,
};
use crate::usecases::export_users::{Exporter, start_export};
use crate::usecases::invite_user::join_url;
use crate::usecases::seed::seed_organization;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use onestop_domain::OrganizationId;
use std::io::Read;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "onestop", version, about = "The 1Stop account server")]
pub struct Cli {
    #[command(flatten)]
    options: Options,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (migrations run automatically).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage an organization's users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage API and SCIM tokens.
    ApiToken {
        #[command(subcommand)]
        command: ApiTokenCommand,
    },
    /// Run the outbox worker alone (`serve` runs one too).
    Worker,
    /// Check the configuration and print it (secrets redacted).
    CheckConfig,
    /// Send a test email directly and print what the mail server answered.
    SendTestEmail {
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Args)]
struct UsersExportArgs {
    /// The organization's id.
    #[arg(long)]
    org: String,
    /// Write the CSV to this file instead of standard output.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organization with its built-in profiles, roles and terms, and its first
    /// administrator (Administrator profile, CEO role).
    Create(OrgCreateArgs),
    /// Create an organization with an Active administrator and USERS more people (60 % Active,
    /// 30 % Unconfirmed with a live invitation, 10 % Deactivated), in bulk: for benchmarks and
    /// trials. Active seeded users sign in with the administrator's password, straight to their
    /// homepage (they have accepted the Terms).
    Seed(OrgSeedArgs),
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Invite the people of a CSV file (UTF-8, comma or semicolon separated, a header line naming
    /// the columns: First Name, Last Name, Email, and optionally Profile and Role), as Setup >
    /// Users > Import Users does. Every row is checked first and its errors printed; the rows
    /// without errors are then imported, with a progress bar. Emails go out while `onestop
    /// serve` runs.
    Import(UsersImportArgs),
    /// Write every user of an organization as CSV, with the columns of Setup > Users > Export
    /// CSV (standard output unless --output names a file).
    Export(UsersExportArgs),
}

#[derive(Debug, Args)]
struct UsersImportArgs {
    /// The CSV file (at most 10 MB).
    file: std::path::PathBuf,
    /// The organization's id.
    #[arg(long)]
    org: String,
    /// Check every row and print what would be imported; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The profile (by name) of rows that name none (default: the one granting the fewest
    /// permissions, as New User suggests).
    #[arg(long)]
    profile: Option<String>,
    /// The role (by name) of rows that name none (default: the lowest role, as New User suggests).
    #[arg(long)]
    role: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ApiTokenCommand {
    /// Create a token and print it once, alone on standard output (what it can do goes to
    /// standard error). It acts for --user, or else the company's first administrator.
    Create(ApiTokenCreateArgs),
}

#[derive(Debug, Args)]
struct ApiTokenCreateArgs {
    /// The organization's id (printed by `org create`).
    #[arg(long)]
    org: String,
    /// What the token is for, as Setup > API Tokens will list it.
    #[arg(long)]
    name: String,
    /// A permission it carries (repeatable), such as manage_users; without any, all of its
    /// user's permissions.
    #[arg(long = "permission")]
    permissions: Vec<String>,
    /// A SCIM token for an identity provider (/scim/v2 only; manages users).
    #[arg(long, conflicts_with = "permissions")]
    scim: bool,
    /// The email address of the Active user it acts for (default: the first administrator).
    #[arg(long)]
    user: Option<String>,
    /// How many days it works (1 to 366).
    #[arg(long, default_value_t = crate::usecases::api_tokens::DEFAULT_LIFETIME_DAYS)]
    days: u32,
}

#[derive(Debug, Args)]
struct OrgSeedArgs {
    /// How many users besides the administrator.
    #[arg(long)]
    users: usize,
    #[arg(long, default_value = "Seeded Company")]
    company_name: String,
    #[arg(long, default_value = "admin@seed.example")]
    admin_email: String,
    #[arg(long, default_value = "administrator1")]
    admin_username: String,
    /// Read the administrator's password from standard input (one line).
    #[arg(long, required = true)]
    admin_password_stdin: bool,
    /// Write one line per seeded user to this file: id, status, and the username (Active,
    /// Deactivated) or the Join Now link (Unconfirmed), separated by tabs.
    #[arg(long)]
    users_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
struct OrgCreateArgs {
    #[arg(long)]
    company_name: String,
    /// Defaults to the company name.
    #[arg(long)]
    account_name: Option<String>,
    #[arg(long)]
    admin_email: String,
    #[arg(long)]
    admin_last_name: String,
    #[arg(long)]
    admin_first_name: Option<String>,
    /// Make the administrator Active with this username (needs --admin-password-stdin);
    /// without it the administrator is invited and the Join Now link is printed.
    #[arg(long, requires = "admin_password_stdin")]
    admin_username: Option<String>,
    /// Read the administrator's password from standard input (one line).
    #[arg(long, requires = "admin_username")]
    admin_password_stdin: bool,
}

/// Exit codes: 0 done, 1 failed while running, 2 bad usage, configuration or input.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.options.check() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("onestop: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log, config.log_format);
    for name in unknown_variables() {
        tracing::warn!(variable = %name, "unknown ONESTOP_* environment variable ignored (a typo?)");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("onestop: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("onestop: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => serve(config).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.close().await;
            println!("The database is up to date.");
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            print!("{}", config.describe());
            let unknown = unknown_variables();
            if !unknown.is_empty() {
                println!("unknown variables (ignored): {}", unknown.join(", "));
            }
            println!("The configuration is valid.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org {
            command: OrgCommand::Create(args),
        } => create_org(args, &config).await,
        Command::Org {
            command: OrgCommand::Seed(args),
        } => seed_org(args, &config).await,
        Command::Users {
            command: UsersCommand::Import(args),
        } => crate::cli_import::import_users(args.into(), &config).await,
        Command::ApiToken {
            command: ApiTokenCommand::Create(args),
        } => create_api_token(args, &config).await,
        Command::Users {
            command: UsersCommand::Export(args),
        } => export_users(args, &config).await,
        Command::Worker => run_worker(config).await.map(|()| ExitCode::SUCCESS),
        Command::SendTestEmail { to } => match send_test_email(&config, &to).await {
            Ok(answer) => {
                println!("Sent. The mail server answered: {answer}");
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                eprintln!("onestop: the test email was not sent: {error:#}");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

async fn create_org(args: OrgCreateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(username) = args.admin_username else {
        return invite_first_administrator(args, config).await;
    };
    let password = read_password_line()?;
    let store = open_store(config).await?;
    let services = Services::start(store.clone(), config).await?;
    let input = OrganizationInput {
        company_name: args.company_name,
        account_name: args.account_name.unwrap_or_default(),
        first_name: args.admin_first_name.unwrap_or_default(),
        last_name: args.admin_last_name,
        email: args.admin_email,
        username,
        password,
        password_confirmation: None,
    };
    let result = create_organization(&services, &input, None, None).await;
    store.close().await;
    match result {
        Ok(summary) => {
            println!(
                "Created the organization (id {}). The administrator can sign in at {}login as {}.",
                summary.org_id,
                config.public_url,
                input.username.trim()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => report_create_error(error),
    }
}

/// The first line of standard input (at most 64 KiB are read).
fn read_password_line() -> std::io::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut password)?;
    Ok(password.lines().next().unwrap_or_default().to_owned())
}

async fn seed_org(args: OrgSeedArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let input = OrganizationInput {
        company_name: args.company_name,
        last_name: "Administrator".to_owned(),
        email: args.admin_email,
        username: args.admin_username,
        password: read_password_line()?,
        ..OrganizationInput::default()
    };
    let store = open_store(config).await?;
    let services = Services::start(store.clone(), config).await?;
    let started = std::time::Instant::now();
    let result = seed_organization(&services, &input, args.users).await;
    store.close().await;
    let (summary, users) = match result {
        Ok(seeded) => seeded,
        Err(error) => return report_create_error(error),
    };
    if let Some(path) = &args.users_file {
        let mut lines = String::with_capacity(users.len() * 100);
        for user in &users {
            let login = match (&user.username, &user.join_token) {
                (Some(username), _) => username.clone(),
                (None, Some(token)) => join_url(&services, token),
                (None, None) => String::new(),
            };
            lines.push_str(&format!("{}\t{}\t{login}\n", user.id, user.status));
        }
        std::fs::write(path, lines)?;
    }
    println!(
        "Created the organization (id {}) with {} users besides its administrator in {:.1} s.",
        summary.org_id,
        users.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn create_api_token(args: ApiTokenCreateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(org_id) = onestop_domain::OrganizationId::parse(&args.org) else {
        eprintln!("onestop: --org: enter an organization id, as `org create` printed it.");
        return Ok(ExitCode::from(2));
    };
    let email = match args
        .user
        .as_deref()
        .map(onestop_domain::EmailAddress::parse)
    {
        Some(Err(error)) => {
            eprintln!("onestop: --user: {error}");
            return Ok(ExitCode::from(2));
        }
        Some(Ok(email)) => Some(email),
        None => None,
    };
    let store = open_store(config).await?;
    let services = Services::start(store.clone(), config).await?;
    let scope = OrganizationScope::operator(org_id);
    let result = async {
        let creator = store
            .token_creator(&scope, email.as_ref().map(|email| email.normalized()))
            .await?;
        let Some((user_id, permissions)) = creator else {
            return Ok(None);
        };
        let creator = TokenCreator {
            scope: scope.clone(),
            user_id,
            permissions,
        };
        let input = NewTokenInput {
            name: args.name,
            kind: if args.scim { "scim" } else { "api" }.to_owned(),
            permissions: args.permissions,
            lifetime_days: args.days.to_string(),
        };
        Ok::<_, anyhow::Error>(Some(
            create_api_token_for(&services, &creator, &input, None).await,
        ))
    }
    .await;
    store.close().await;
    match result? {
        None => {
            eprintln!(
                "onestop: no Active {} in organization {}; check --org{}.",
                if args.user.is_some() {
                    "user with that email address"
                } else {
                    "administrator"
                },
                scope.id(),
                if args.user.is_some() {
                    " and --user"
                } else {
                    ""
                }
            );
            Ok(ExitCode::from(2))
        }
        Some(Ok(created)) => {
            println!("{}", created.secret.expose());
            let permissions: Vec<&str> = created.permissions.iter().map(|p| p.key()).collect();
            eprintln!(
                "Created {} token {} carrying {}; it expires {}. It is shown only now: store it in your secret manager.",
                created.kind.label(),
                created.id,
                permissions.join(", "),
                created.expires_at
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Err(CreateTokenError::Invalid(errors))) => {
            for (name, message) in errors.iter() {
                let flag = match name {
                    "name" => "--name",
                    "kind" => "--scim",
                    "permissions" => "--permission",
                    "lifetime_days" => "--days",
                    _ => "input",
                };
                eprintln!("onestop: {flag}: {message}");
            }
            eprintln!("No token was created.");
            Ok(ExitCode::from(2))
        }
        Some(Err(CreateTokenError::Store(error))) => Err(error.into()),
    }
}

/// Without `--admin-username`: the administrator is invited; the Join Now link is printed.
async fn invite_first_administrator(
    args: OrgCreateArgs,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let services = Services::start(store.clone(), config).await?;
    let input = OrganizationInput {
        company_name: args.company_name,
        account_name: args.account_name.unwrap_or_default(),
        first_name: args.admin_first_name.unwrap_or_default(),
        last_name: args.admin_last_name,
        email: args.admin_email,
        ..OrganizationInput::default()
    };
    let result = create_organization_inviting_administrator(&services, &input).await;
    store.close().await;
    match result {
        Ok((summary, join_url)) => {
            println!(
                "Created the organization (id {}). Its administrator is invited; the email goes out while `onestop serve` runs.",
                summary.org_id
            );
            println!("Join Now: {join_url}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => report_create_error(error),
    }
}

/// `onestop users export`: as the operator, every user in name order.
async fn export_users(args: UsersExportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(organization) = OrganizationId::parse(args.org.trim()) else {
        eprintln!(
            "onestop: --org: {:?} is not an organization id; use the id `onestop org create` printed",
            args.org
        );
        return Ok(ExitCode::from(2));
    };
    let store = open_store(config).await?;
    if !store.organization_exists(&organization).await? {
        store.close().await;
        eprintln!("onestop: --org: there is no organization with the id {organization}");
        return Ok(ExitCode::from(2));
    }
    let services = Services::start(store.clone(), config).await?;
    let scope = OrganizationScope::operator(organization);
    let result = write_export(&services, &scope, args.output.as_deref()).await;
    store.close().await;
    let written = result?;
    eprintln!("Exported {written} users.");
    Ok(ExitCode::SUCCESS)
}

async fn write_export(
    services: &Services,
    scope: &OrganizationScope,
    output: Option<&std::path::Path>,
) -> anyhow::Result<u64> {
    let export = start_export(
        services,
        scope,
        Exporter::Operator,
        UserMatch::view(ViewFilter::All),
        SortOrder::BY_NAME,
    )
    .await?;
    let written = match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("--output: could not create {}", path.display()))?;
            export.write_all(&mut std::io::BufWriter::new(file)).await?
        }
        None => {
            export
                .write_all(&mut std::io::BufWriter::new(std::io::stdout().lock()))
                .await?
        }
    };
    Ok(written)
}

fn report_create_error(error: CreateError) -> anyhow::Result<ExitCode> {
    match error {
        CreateError::Invalid(errors) => {
            for (name, message) in errors.iter() {
                eprintln!("onestop: {}: {message}", flag_of(name));
            }
            eprintln!("Nothing was created.");
            Ok(ExitCode::from(2))
        }
        CreateError::FirstRunCodeInvalid => unreachable_first_run(),
        CreateError::Internal(error) => Err(error),
    }
}

/// The CLI never passes a first-run code, so this cannot happen; report it plainly if it does.
fn unreachable_first_run() -> anyhow::Result<ExitCode> {
    anyhow::bail!("internal error: a first-run code was rejected in the command line")
}

fn flag_of(name: &str) -> &'static str {
    match name {
        field::COMPANY_NAME => "--company-name",
        field::ACCOUNT_NAME => "--account-name",
        field::FIRST_NAME => "--admin-first-name",
        field::LAST_NAME => "--admin-last-name",
        field::EMAIL => "--admin-email",
        field::USERNAME => "--admin-username",
        field::PASSWORD => "password (standard input)",
        _ => "input",
    }
}

impl From<UsersImportArgs> for crate::cli_import::ImportArgs {
    fn from(args: UsersImportArgs) -> Self {
        Self {
            file: args.file,
            org: args.org,
            dry_run: args.dry_run,
            profile: args.profile,
            role: args.role,
        }
    }
}
