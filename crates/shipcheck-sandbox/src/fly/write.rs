//! The commands that change the world: `deploy --image` and `scale count`.

use std::collections::BTreeMap;
use std::path::Path;

use super::state::{CheckState, FlyState, MachineState, ReleaseState};
use super::{Parsed, Reply};

/// A new machine id: 14 hex digits, like Fly's.
pub(crate) fn new_machine_id(state: &mut FlyState, app: &str) -> String {
    state.machine_serial += 1;
    let h = app.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{h:08x}{:06x}", state.machine_serial)
}

/// A passing health check, as flyctl names service checks.
pub(crate) fn passing_check() -> CheckState {
    CheckState {
        name: "servicecheck-00-http-8080".into(),
        status: "passing".into(),
        output: "Success".into(),
    }
}

/// The service check of a Machine that is not started, as Fly reports it.
pub(crate) fn refused_check() -> CheckState {
    CheckState {
        name: "servicecheck-00-http-8080".into(),
        status: "critical".into(),
        output: "connect: connection refused".into(),
    }
}

fn save(dir: &Path, state: &FlyState) -> Result<(), Reply> {
    state
        .save(dir)
        .map_err(|e| Reply::error(format!("flyctl stand-in: cannot write its state: {e}")))
}

/// `deploy --image REF -a APP`: a new release; every Machine updated to it, as flyctl does:
/// started ones restart on it, stopped and suspended ones are updated without being started
/// (a suspended one loses its snapshot and is stopped), standbys stay standbys. With the
/// `deploy_fails` fault the image does not start: the release is `failed` and every Machine
/// stays on the release it ran; flyctl exits 1, or 0 with `--detach` (it does not wait).
pub(crate) fn deploy(dir: &Path, state: &mut FlyState, app: &str, p: &Parsed) -> Reply {
    let Some(image) = p.flag("image").map(str::to_string) else {
        return Reply::error("the flyctl stand-in deploys images only: pass --image REF");
    };
    if let Some(s) = p.flag("strategy")
        && !["canary", "rolling", "bluegreen", "immediate"].contains(&s)
    {
        return Reply::error(format!("unsupported deployment strategy '{s}'"));
    }
    let now = state.now();
    let Some(a) = state.apps.get_mut(app) else {
        return Reply::error(format!("Could not find App \"{app}\""));
    };
    if a.faults.pruned_images.contains(&image) {
        return Reply::error(format!(
            "failed to fetch an image or build from source: {image}: manifest unknown"
        ));
    }
    let version = a.newest().map(|r| r.version).unwrap_or(0) + 1;
    let mut out = format!(
        "==> Verifying app config\n--> Verified app config\n==> Building image\nSearching for image '{image}' remotely...\nimage found: img_{version}\n\nWatch your deployment at https://fly.io/apps/{app}/monitoring\n\n"
    );
    let fails = a.faults.deploy_fails;
    let unhealthy = a.faults.deploy_unhealthy;
    let detach = p.has("detach");
    // A redeploy of a known image keeps its labels (a rollback).
    let labels = a
        .releases
        .iter()
        .rev()
        .find(|r| r.image_ref == image)
        .map(|r| r.labels.clone())
        .unwrap_or_default();
    a.releases.push(ReleaseState {
        version,
        status: if fails { "failed" } else { "complete" }.into(),
        image_ref: image,
        created_at: now.to_string(),
        description: "Deploy image".into(),
        user_email: "dev@example.com".into(),
        labels,
    });
    if detach {
        out.push_str("--detach: not waiting for the deployment to finish\n");
    } else {
        out.push_str(&format!(
            "-------\nUpdating existing machines in '{app}' with {} strategy\n\n",
            p.flag("strategy").unwrap_or("rolling")
        ));
    }
    if !fails {
        for m in &mut a.machines {
            m.release = version;
            let started = m.state == "started";
            if m.state == "suspended" {
                m.state = "stopped".into();
            }
            m.checks = match (m.service, started, unhealthy) {
                (false, _, _) => Vec::new(),
                (true, true, false) => vec![passing_check()],
                _ => vec![refused_check()],
            };
            if !detach {
                let how = if started {
                    "success"
                } else {
                    "updated, not started"
                };
                out.push_str(&format!(
                    "✔ Machine {} [{}] update finished: {how}\n",
                    m.id, m.process_group
                ));
            }
        }
        if !detach {
            out.push_str("-------\n");
        }
    }
    if let Err(r) = save(dir, state) {
        return r;
    }
    if fails && !detach {
        return Reply {
            stdout: out,
            stderr: format!(
                "Error: smoke checks for {app} failed: the app crashed during startup\n"
            ),
            code: 1,
            hang: false,
        };
    }
    Reply::out(out)
}

/// `scale count N` / `scale count g=N h=M -a APP --yes [--process-group G] [--region R]`.
/// Scaling down destroys machines.
pub(crate) fn scale(dir: &Path, state: &mut FlyState, app: &str, p: &Parsed) -> Reply {
    if !p.has("yes") {
        return Reply::error("--yes flag must be specified when not running interactively");
    }
    let mut wanted: BTreeMap<String, usize> = BTreeMap::new();
    for arg in &p.positional {
        let (group, n) = match arg.split_once('=') {
            Some((g, n)) => (g.to_string(), n),
            None => (
                p.flag("process-group").unwrap_or("app").to_string(),
                arg.as_str(),
            ),
        };
        let Ok(n) = n.parse::<usize>() else {
            return Reply::error(format!("invalid machine count '{arg}'"));
        };
        wanted.insert(group, n);
    }
    if wanted.is_empty() {
        return Reply::error("accepts between 1 and 2 arg(s), received 0");
    }
    let Some(mut a) = state.apps.remove(app) else {
        return Reply::error(format!("Could not find App \"{app}\""));
    };
    let reply = scale_app(state, &mut a, app, p, &wanted);
    state.apps.insert(app.to_string(), a);
    if reply.code != 0 || reply.stdout.starts_with("App already") {
        return reply;
    }
    if let Err(r) = save(dir, state) {
        return r;
    }
    reply
}

fn scale_app(
    state: &mut FlyState,
    a: &mut super::state::AppState,
    app: &str,
    p: &Parsed,
    wanted: &BTreeMap<String, usize>,
) -> Reply {
    let Some(release) = a.newest_complete().map(|r| r.version) else {
        return Reply::error(
            "this app has no complete releases. Run `fly deploy` to create one and rerun this command",
        );
    };
    let region = p
        .flag("region")
        .and_then(|r| r.split(',').next())
        .map(str::to_string)
        .unwrap_or_else(|| a.primary_region.clone());
    let count = |a: &super::state::AppState, g: &str| {
        a.machines.iter().filter(|m| m.process_group == g).count()
    };
    if wanted.iter().all(|(g, n)| count(a, g) == *n) {
        return Reply::out("App already scaled to desired state. No need for changes\n".into());
    }
    let mut out = format!("App '{app}' is going to be scaled according to this plan:\n");
    for (group, n) in wanted {
        let have = count(a, group);
        if *n < have {
            out.push_str(&format!(
                "  -{} machines for group '{group}' on region '{region}' of size 'shared-cpu-1x'\n",
                have - n
            ));
            for _ in *n..have {
                if let Some(i) = a.machines.iter().rposition(|m| &m.process_group == group) {
                    let m = a.machines.remove(i);
                    out.push_str(&format!("Destroying machine {}\n", m.id));
                }
            }
        } else if *n > have {
            out.push_str(&format!(
                "  +{} machines for group '{group}' on region '{region}' of size 'shared-cpu-1x'\n",
                n - have
            ));
            // New Machines are made like the group's others (service, auto-stop).
            let like = a
                .machines
                .iter()
                .find(|m| &m.process_group == group)
                .cloned();
            for _ in have..*n {
                let id = new_machine_id(state, app);
                out.push_str(&format!("Created machine {id}\n"));
                let mut m = MachineState::started(id, &region, group, release);
                if let Some(l) = &like {
                    m.service = l.service;
                    m.autostop = l.autostop.clone();
                    if !m.service {
                        m.checks.clear();
                    }
                }
                a.machines.push(m);
            }
        }
    }
    Reply::out(out)
}
