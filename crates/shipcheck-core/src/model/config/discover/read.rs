//! Reading one Fly config file the way flyctl reads it: the app, `primary_region`, the
//! public HTTP service and its internal port, a health path only from an HTTP check that
//! reaches that port, `auto_stop_machines`, `min_machines_running`, `[processes]` and
//! `[deploy] release_command`. Both config generations and their mixtures are accepted.

use toml::{Table, Value};

/// What one file declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facts {
    pub app: Option<String>,
    pub region: Option<String>,
    pub public_http: bool,
    pub internal_port: Option<u16>,
    pub health_path: Option<String>,
    pub health_why: String,
    pub auto_stop: Option<String>,
    pub min_machines_running: Option<i64>,
    pub process_groups: Vec<String>,
    pub release_command: bool,
    pub notes: Vec<String>,
}

/// One service: `[http_service]` or one `[[services]]` entry.
#[derive(Debug, Default)]
struct Service {
    /// `[http_service]` or `[[services]] #2`.
    label: String,
    internal_port: Option<u16>,
    /// Bound to 80 or 443 with an `http` or `tls` handler (always, for `[http_service]`).
    public: bool,
    /// Declares an internal port or ports (a `[[services.http_checks]]` written after
    /// `[http_service]` makes an entry with neither).
    real: bool,
    auto_stop: Option<Value>,
    min_running: Option<i64>,
    /// HTTP check paths, in file order, with the key they came from.
    checks: Vec<(String, String)>,
}

/// Reads the parsed document. `text` is the file (for the order of `[processes]`).
pub(crate) fn facts(doc: &Table, text: &str, file: &str) -> Facts {
    let mut f = Facts {
        app: non_empty(doc.get("app")),
        region: non_empty(doc.get("primary_region")),
        release_command: doc
            .get("deploy")
            .and_then(|d| d.get("release_command"))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty()),
        ..Facts::default()
    };
    if f.app.is_none() {
        f.notes
            .push("no `app` key: flyctl needs `-a APP` to deploy it".into());
    }
    match doc.get("processes") {
        Some(Value::Table(t)) => f.process_groups = in_text_order(t.keys(), text, "processes"),
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(_) => f
            .notes
            .push("`processes` is not a table; no process groups read".into()),
        None => {}
    }
    let (services, ignored_checks) = services(doc);
    f.notes.extend(ignored_checks.iter().cloned());
    let public: Vec<&Service> = services.iter().filter(|s| s.public).collect();
    f.public_http = !public.is_empty();
    let mut ports: Vec<u16> = public.iter().filter_map(|s| s.internal_port).collect();
    ports.sort_unstable();
    ports.dedup();
    if f.public_http {
        match ports.as_slice() {
            [one] => f.internal_port = Some(*one),
            [] => f
                .notes
                .push("the public service declares no internal_port".into()),
            many => f.notes.push(format!(
                "public services on internal ports {}: which one is the app is not clear",
                join_ports(many)
            )),
        }
    } else {
        let real: Vec<&Service> = services.iter().filter(|s| s.real).collect();
        if let [only] = real.as_slice() {
            f.internal_port = only.internal_port;
        }
    }
    // auto_stop / min_machines_running: the public services' (when they agree), else the
    // only service's.
    let from: Vec<&Service> = if f.public_http {
        public.clone()
    } else {
        let real: Vec<&Service> = services.iter().filter(|s| s.real).collect();
        if real.len() == 1 { real } else { Vec::new() }
    };
    f.auto_stop = agreed(from.iter().filter_map(|s| s.auto_stop.as_ref()).map(|v| {
        auto_stop(v).unwrap_or_else(|| {
            f.notes.push(format!(
                "auto_stop_machines = {v} is not a value flyctl knows"
            ));
            String::new()
        })
    }))
    .filter(|s| !s.is_empty());
    f.min_machines_running = agreed(from.iter().filter_map(|s| s.min_running));
    health(doc, &services, &ignored_checks, file, &mut f);
    f
}

fn non_empty(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn join_ports(p: &[u16]) -> String {
    p.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The one value all of these have, if they agree.
fn agreed<T: PartialEq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

/// `"stop"`, `"suspend"`, `"off"`; `true` is `stop`, `false` is `off`.
fn auto_stop(v: &Value) -> Option<String> {
    match v {
        Value::Boolean(true) => Some("stop".into()),
        Value::Boolean(false) => Some("off".into()),
        Value::String(s) if matches!(s.as_str(), "stop" | "suspend" | "off") => Some(s.clone()),
        _ => None,
    }
}

/// A port written as a number or a string (`port = "80"`).
fn port(v: Option<&Value>) -> Option<u16> {
    match v? {
        Value::Integer(n) => u16::try_from(*n).ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The tables of a value that is a table or an array of tables.
fn tables(v: Option<&Value>) -> Vec<&Table> {
    match v {
        Some(Value::Table(t)) => vec![t],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_table).collect(),
        _ => Vec::new(),
    }
}

fn check_paths(v: Option<&Value>, key: &str) -> Vec<(String, String)> {
    tables(v)
        .into_iter()
        .filter(|t| {
            t.get("type")
                .and_then(Value::as_str)
                .is_none_or(|ty| ty.eq_ignore_ascii_case("http"))
        })
        .filter_map(|t| non_empty(t.get("path")))
        .map(|p| (key.to_string(), p))
        .collect()
}

/// The services, and the HTTP checks flyctl does not run (said, never used).
fn services(doc: &Table) -> (Vec<Service>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    if let Some(h) = doc.get("http_service").and_then(Value::as_table) {
        out.push(Service {
            label: "[http_service]".into(),
            internal_port: port(h.get("internal_port")),
            public: true,
            real: true,
            auto_stop: h.get("auto_stop_machines").cloned(),
            min_running: h.get("min_machines_running").and_then(Value::as_integer),
            checks: check_paths(h.get("checks"), "[[http_service.checks]]"),
        });
    }
    for (n, s) in tables(doc.get("services")).into_iter().enumerate() {
        let ports = tables(s.get("ports"));
        let public = ports.iter().any(|p| {
            let handlers: Vec<&str> = p
                .get("handlers")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            matches!(port(p.get("port")), Some(80 | 443))
                && handlers
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case("http") || h.eq_ignore_ascii_case("tls"))
        });
        let internal_port = port(s.get("internal_port"));
        let real = internal_port.is_some() || !ports.is_empty();
        let checks = check_paths(s.get("http_checks"), "[[services.http_checks]]");
        if !real && !checks.is_empty() {
            notes.push(format!(
                "[[services.http_checks]] path {} belongs to no [[services]] block (written after [http_service], \
                 flyctl reads it as a service with no port): not a health check",
                checks[0].1
            ));
        }
        if let Some(c) = check_paths(s.get("checks"), "").first() {
            notes.push(format!(
                "[[services.checks]] path {} is not read by flyctl (a service's checks are http_checks or tcp_checks)",
                c.1
            ));
        }
        out.push(Service {
            label: format!("[[services]] #{}", n + 1),
            internal_port,
            public,
            real,
            auto_stop: s.get("auto_stop_machines").cloned(),
            min_running: s.get("min_machines_running").and_then(Value::as_integer),
            checks: if real { checks } else { Vec::new() },
        });
    }
    (out, notes)
}

/// The health path: an HTTP check that reaches the public service's internal port. Says in
/// `health_why` where it came from, or why there is none.
fn health(doc: &Table, services: &[Service], not_run: &[String], file: &str, f: &mut Facts) {
    let top: Vec<(String, Option<u16>, String)> = doc
        .get("checks")
        .and_then(Value::as_table)
        .map(|t| {
            t.iter()
                .filter_map(|(name, c)| {
                    let c = c.as_table()?;
                    let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
                    let path = non_empty(c.get("path"))?;
                    ty.eq_ignore_ascii_case("http")
                        .then(|| (name.clone(), port(c.get("port")), path))
                })
                .collect()
        })
        .unwrap_or_default();
    let metrics = !tables(doc.get("metrics")).is_empty();
    let normal = |p: &str| {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!("/{p}")
        }
    };
    if let Some(port) = f.internal_port.filter(|_| f.public_http) {
        for s in services
            .iter()
            .filter(|s| s.public && s.internal_port == Some(port))
        {
            if let Some((key, path)) = s.checks.first() {
                f.health_path = Some(normal(path));
                f.health_why = format!(
                    "{key} path {path} on {} (internal port {port}) in {file}",
                    s.label
                );
                return;
            }
        }
        if let Some((name, _, path)) = top.iter().find(|c| c.1 == Some(port)) {
            f.health_path = Some(normal(path));
            f.health_why = format!(
                "[checks.{name}] path {path} on port {port}, the public service's internal port, in {file}"
            );
            return;
        }
    }
    let mut why = if !f.public_http {
        format!(
            "{file} declares no public HTTP service ([http_service], or [[services]] on port 80/443 with an http or tls handler)"
        )
    } else if f.internal_port.is_none() {
        format!("{file}: the public service's internal port is not clear")
    } else {
        format!("{file} declares no HTTP check on its public service")
    };
    let mut ignored: Vec<String> = top
        .iter()
        .filter(|c| !(f.public_http && c.1.is_some() && c.1 == f.internal_port))
        .map(|(name, port, path)| match port {
            Some(p) => {
                format!("[checks.{name}] {path} is on port {p}, which no public service serves")
            }
            None => format!("[checks.{name}] {path} names no port"),
        })
        .collect();
    ignored.extend(not_run.iter().cloned());
    if metrics {
        ignored.push("[metrics] is not a health check".into());
    }
    if !ignored.is_empty() {
        why.push_str(&format!(" ({})", ignored.join("; ")));
    }
    f.health_why = why;
}

/// `keys` in the order they appear after the `[section]` header in `text` (the parser keeps
/// no order); keys it cannot find go last, sorted.
fn in_text_order<'a>(
    keys: impl Iterator<Item = &'a String>,
    text: &str,
    section: &str,
) -> Vec<String> {
    let header = format!("[{section}]");
    let body: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .collect();
    let position = |k: &str| {
        body.iter().position(|l| {
            l.strip_prefix(k)
                .or_else(|| l.strip_prefix(&format!("\"{k}\"")))
                .or_else(|| l.strip_prefix(&format!("'{k}'")))
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    };
    let mut keyed: Vec<(Option<usize>, String)> = keys.map(|k| (position(k), k.clone())).collect();
    keyed.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    keyed.into_iter().map(|k| k.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Facts {
        let doc: Table = toml::from_str(text).unwrap();
        facts(&doc, text, "fly.toml")
    }

    #[test]
    fn v1_services_with_string_ports_and_http_checks() {
        let f = read(
            "app = 'a'\n[[services]]\ninternal_port = 4000\n[[services.ports]]\nport = \"443\"\nhandlers = ['tls', 'http']\n\
             [[services.http_checks]]\npath = 'healthz'\n[[services.tcp_checks]]\ninterval = '1s'\n",
        );
        assert!(f.public_http);
        assert_eq!(f.internal_port, Some(4000));
        assert_eq!(f.health_path.as_deref(), Some("/healthz"));
        assert_eq!(f.region, None);
    }

    #[test]
    fn only_checks_on_the_public_port_count() {
        let f = read(
            "app = 'a'\n[http_service]\ninternal_port = 8080\nauto_stop_machines = true\n\
             [checks.agent]\ntype = 'http'\nport = 5500\npath = '/flycheck'\n[checks.tcp]\ntype = 'tcp'\nport = 8080\n",
        );
        assert_eq!(f.health_path, None);
        assert!(f.health_why.contains("5500"), "{}", f.health_why);
        assert_eq!(f.auto_stop.as_deref(), Some("stop"));
        let f = read(
            "app = 'a'\n[http_service]\ninternal_port = 8080\n[checks.web]\ntype = 'http'\nport = 8080\npath = '/up'\n",
        );
        assert_eq!(f.health_path.as_deref(), Some("/up"));
    }

    #[test]
    fn shapes_flyctl_accepts() {
        // [services] as one table, processes as an empty array, services = [].
        let f = read("app = 'a'\nprocesses = []\n[services]\ninternal_port = 8686\n");
        assert!(!f.public_http);
        assert_eq!(f.internal_port, Some(8686));
        assert!(f.process_groups.is_empty());
        let f = read("app = 'a'\nservices = []\n");
        assert_eq!(f.internal_port, None);
        let f = read("app = 'a'\n[processes]\n  web = 'x'\n  app = 'y'\n  'b' = 'z'\n");
        assert_eq!(f.process_groups, ["web", "app", "b"]);
    }

    #[test]
    fn ignored_checks_are_said() {
        let f = read(
            "app = 'a'\n[http_service]\ninternal_port = 8000\n[[services.http_checks]]\npath = '/health'\n",
        );
        assert_eq!(f.health_path, None);
        assert!(
            f.notes
                .iter()
                .any(|n| n.contains("belongs to no [[services]]")),
            "{:?}",
            f.notes
        );
        let f = read(
            "app = 'a'\n[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\nhandlers = ['http']\n[[services.checks]]\npath = '/health'\n",
        );
        assert_eq!(f.health_path, None);
        assert!(
            f.notes.iter().any(|n| n.contains("not read by flyctl")),
            "{:?}",
            f.notes
        );
    }
}
