//! `team add`, `team list`, `login`, `logout`, `whoami`: the people of a team and the token
//! this terminal acts with.

use std::io::{BufRead, Write};

use shipcheck_core::model::person::Role;
use shipcheck_core::runs::team::Actor;

use crate::cli::{Global, RoleArg};
use crate::context;
use crate::errors::CliError;
use crate::json::{self, docs};

fn role_of(r: RoleArg) -> Role {
    match r {
        RoleArg::Deployer => Role::Deployer,
        RoleArg::Reviewer => Role::Reviewer,
        RoleArg::OnCall => Role::OnCall,
        RoleArg::Lead => Role::Lead,
    }
}

/// `shipcheck team add NAME --email … --role …`: prints the new person's token, once.
pub async fn add(g: &Global, name: &str, email: &str, role: RoleArg) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let by = match session.store.has_team().await? {
        // The first person is added by whoever can write the store.
        false => context::actor_of(&session, &None).await?,
        true => context::actor_of(&session, &None).await.map_err(|e| {
            CliError::Usage(format!("{e}\n(only a lead adds people once a team exists)"))
        })?,
    };
    let (person, token) = session.add_person(name, email, role_of(role), &by).await?;
    if g.json {
        json::print(
            "team_add",
            &docs::TeamAdd {
                name: person.name.clone(),
                email: person.email.clone(),
                role: person.role.as_str().to_string(),
                token: token.clone(),
            },
        );
    } else {
        say!(
            "added {} as {} (by {})",
            person.identity(),
            person.role.as_str(),
            person.added_by
        );
        say!("their personal token, shown this once (shipcheck keeps only its hash):");
        say!("");
        say!("    {token}");
        say!("");
        say!(
            "give it to them privately; they run `shipcheck login` and paste it (or set SHIPCHECK_TOKEN). From now on this store records people by their token, and `--by` is refused."
        );
    }
    Ok(0)
}

/// `shipcheck team list`.
pub async fn list(g: &Global) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let people = session.store.people().await?;
    if g.json {
        json::print(
            "team_list",
            &docs::TeamList {
                people: people
                    .iter()
                    .map(|p| docs::TeamPerson {
                        name: p.name.clone(),
                        email: p.email.clone(),
                        role: p.role.as_str().to_string(),
                        added_at: p.added_at,
                        added_by: p.added_by.clone(),
                    })
                    .collect(),
            },
        );
    } else if people.is_empty() {
        say!(
            "no team in this store: runs record the name given with --by (or git's user name); `shipcheck team add NAME --email … --role lead` starts one"
        );
    } else {
        for p in &people {
            say!(
                "{:<28} {:<9} added {} by {}",
                p.identity(),
                p.role.as_str(),
                p.added_at.strftime("%Y-%m-%d"),
                p.added_by
            );
        }
    }
    Ok(0)
}

/// `shipcheck login`: reads a token from stdin, checks it against the store, and keeps it
/// in the user's config directory (0600).
pub async fn login(g: &Global) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    if crate::output::stdin_is_tty() {
        eprint!("paste your shipcheck token: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| CliError::Io {
            what: "reading the token from stdin".into(),
            source,
        })?;
    let token = line.trim().to_string();
    context::guard_token(&token);
    let person = session.authenticate(&token).await?;
    let Some(path) = context::token_file() else {
        return Err(CliError::Usage(
            "neither XDG_CONFIG_HOME nor HOME is set: set SHIPCHECK_TOKEN instead".into(),
        ));
    };
    save_token(&path, &token)?;
    say!(
        "logged in as {} ({}); the token is in {} (readable only by you)",
        person.identity(),
        person.role.as_str(),
        path.display()
    );
    Ok(0)
}

/// Writes the token file: directory 0700, file 0600 (set again if it existed).
fn save_token(path: &std::path::Path, token: &str) -> Result<(), CliError> {
    let io = |what: String| move |source| CliError::Io { what, source };
    if let Some(dir) = path.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir)
            .map_err(io(format!("creating {}", dir.display())))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(io(format!("writing {}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io(format!("restricting {}", path.display())))?;
    }
    f.write_all(format!("{token}\n").as_bytes())
        .map_err(io(format!("writing {}", path.display())))
}

/// `shipcheck logout`: removes the saved token.
pub fn logout() -> Result<u8, CliError> {
    match context::token_file() {
        Some(path) if path.exists() => {
            std::fs::remove_file(&path).map_err(|source| CliError::Io {
                what: format!("removing {}", path.display()),
                source,
            })?;
            say!("removed {}", path.display());
        }
        _ => say!("no saved token"),
    }
    Ok(0)
}

/// `shipcheck whoami`: who this terminal acts as.
pub async fn whoami(g: &Global) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    match context::actor_of(&session, &None).await? {
        Actor::Person(p) => say!("{} ({})", p.identity(), p.role.as_str()),
        Actor::Named(n) => say!("{n} (no team in this store: runs record this name)"),
    }
    Ok(0)
}

/// `shipcheck serve`.
pub async fn serve(
    g: &Global,
    listen: std::net::SocketAddr,
    tls: bool,
    client_ip_header: Option<String>,
) -> Result<u8, CliError> {
    let client_ip_header = client_ip_header
        .map(|h| shipcheck_web::header_name(&h))
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let session = context::session(g).await?;
    let (listener, bound) = shipcheck_web::bind(listen, tls)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    say_err!(
        "serving the team's page on http://{bound}/ (Ctrl-C stops it){}",
        if session.store.has_team().await? {
            ""
        } else {
            "; no team in this store yet: the page is read-only until `shipcheck team add`"
        }
    );
    shipcheck_web::serve(
        listener,
        shipcheck_web::App::new(
            session,
            shipcheck_web::Options {
                tls,
                client_ip_header,
            },
        ),
    )
    .await
    .map_err(|source| CliError::Io {
        what: format!("serving on {bound}"),
        source,
    })?;
    Ok(0)
}
