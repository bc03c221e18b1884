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
