//! `shipcheck serve` as a process: it binds loopback (and refuses beyond it without TLS),
//! serves the run's page, and a note added by another shipcheck process reaches the page's
//! event stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::TestEnv;

/// Kills the server when the test ends, pass or fail.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(addr: &str, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s
}

fn fetch(addr: &str, path: &str) -> String {
    let mut text = String::new();
    request(addr, path).read_to_string(&mut text).unwrap();
    text
}

/// Reads the stream until a line contains `needle` (bounded by the socket's read timeout).
fn read_until(r: &mut BufReader<TcpStream>, needle: &str) -> bool {
    let mut line = String::new();
    for _ in 0..10_000 {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line.contains(needle) => return true,
            Ok(_) => {}
        }
    }
    false
}

#[test]
fn the_page_is_served_on_loopback_and_a_note_from_another_process_reaches_it_live() {
    let env = TestEnv::world();
    let out = env.shipcheck(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("without TLS"), "{}", out.stderr);

    let ana = env
        .shipcheck(&[
            "team",
            "add",
            "Ana",
            "--email",
            "ana@example.com",
            "--role",
            "lead",
            "--json",
        ])
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let start = env
        .cmd(&["start", "--json"])
        .env("SHIPCHECK_TOKEN", &ana)
        .output();
    assert_eq!(start.code, 0, "{}", start.stderr);
    let run = start.json()["run"].as_str().unwrap().to_string();

    let (server, addr) = start_server(&env);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    assert!(fetch(&addr, "/healthz").ends_with("ok\n"));
    let page = fetch(&addr, &format!("/runs/{run}"));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Ana &lt;ana@example.com&gt;"), "{page}");

    let events = env.shipcheck(&["events", "--json"]).json()["events"]
        .as_array()
        .unwrap()
        .len();
    let mut stream = BufReader::new(request(&addr, &format!("/runs/{run}/events")));
    assert!(read_until(&mut stream, &format!("data: {events}")));
    let note = env
        .cmd(&["note", "checked the dashboards"])
        .env("SHIPCHECK_TOKEN", &ana)
        .output();
    assert_eq!(note.code, 0, "{}", note.stderr);
    assert!(
        read_until(&mut stream, &format!("data: {}", events + 1)),
        "the page's stream did not see the other process's note"
    );
    let page = fetch(&addr, &format!("/runs/{run}/fragment"));
    assert!(page.contains("checked the dashboards"), "{page}");
    drop(server);
}

fn send_post(addr: &str, path: &str, cookie: Option<&str>, form: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

fn get_with(addr: &str, path: &str, cookie: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

fn start_server(env: &TestEnv) -> (Server, String) {
    let mut child = env.cmd(&["serve", "--listen", "127.0.0.1:0"]).spawn();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stderr).read_line(&mut first).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (server, addr)
}

#[test]
fn a_deployed_run_counts_on_the_team_page_and_is_signed_in_the_browser_as_the_person() {
    let env = TestEnv::world();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(
        "\n[team]\nallowed_signers = \".github/allowed_signers\"\nrequire_ssh_signature = true\n",
    );
    std::fs::write(env.config_path(), config).unwrap();
    let run = crate::proof::walk_to_completed(&env);
    let ana = env
        .shipcheck(&[
            "team",
            "add",
            "Ana",
            "--email",
            "ana@example.com",
            "--role",
            "lead",
            "--json",
        ])
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (server, addr) = start_server(&env);

    let team = fetch(&addr, "/team");
    assert!(team.contains("1 production deployment(s)"), "{team}");
    assert!(team.contains("0% (0 of 1)"), "{team}");
    let metrics = fetch(&addr, "/metrics");
    assert!(
        metrics.contains("shipcheck_runs{verdict=\"success\"} 1"),
        "{metrics}"
    );

    let login = send_post(&addr, "/login", None, &format!("token={ana}"));
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let page = get_with(&addr, &format!("/runs/{run}"), &cookie);
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[at..at + 64].to_string();
    assert!(page.contains("Sign the record"), "{page}");
    let signed = send_post(
        &addr,
        &format!("/runs/{run}/sign"),
        Some(&cookie),
        &format!("csrf={csrf}"),
    );
    assert!(signed.starts_with("HTTP/1.1 200"), "{signed}");
    assert!(
        signed.contains("still to be added from a terminal"),
        "{signed}"
    );
    let status = env.shipcheck(&["status", "--json"]).json();
    assert_eq!(status["status"], "signed", "{status}");
    let events = env.shipcheck(&["events", "--json"]).json();
    let last = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["event"]["type"] == "run_signed")
        .cloned()
        .unwrap();
    assert_eq!(last["event"]["by"], "Ana <ana@example.com>");
    drop(server);
}

#[test]
fn demo_serve_opens_the_rehearsal_with_the_page_running() {
    let env = TestEnv::bare();
    let dir = env.dir.path().join("world");
    let mut child = env
        .cmd(&[
            "demo",
            "--serve",
            "--no-run",
            "--no-postgres",
            "--listen",
            "127.0.0.1:0",
            "--dir",
            dir.to_str().unwrap(),
        ])
        .spawn();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout);
    let mut addr = None;
    let mut seen = String::new();
    for _ in 0..200 {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
        if let Some(rest) = line.split("the page   http://").nth(1) {
            addr = rest.split('/').next().map(String::from);
            break;
        }
    }
    let addr = addr.unwrap_or_else(|| panic!("no page address in:\n{seen}"));
    assert!(fetch(&addr, "/healthz").ends_with("ok\n"));
    let page = fetch(&addr, "/");
    assert!(page.contains("No runs yet"), "{page}");
    drop(server);
}
