//! A small W3C WebDriver client for the browser tests: Debian's `chromedriver` driving headless
//! `chromium`, spoken to over HTTP with the workspace's reqwest (the one client factory,
//! `clients::http`). Every request is bounded in time; every wait is bounded in count.
//!
//! Without chromedriver the browser tests skip, saying so, unless `SHIPCHECK_REQUIRE_BROWSER=1`
//! (CI sets it), when they fail.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// An element reference in an answer: W3C's `{"element-6066-…": id}` object.
fn element(v: &Value) -> Option<El> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.starts_with("element-6066"))
        .and_then(|(_, id)| id.as_str())
        .map(|id| El(id.to_string()))
}

/// The chromedriver process, its address and an HTTP client; it ends with the value.
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    _profiles: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary(env: &str, names: &[&str]) -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = std::path::PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

impl Driver {
    /// Starts chromedriver, or says why the test is skipped (`None`). With
    /// `SHIPCHECK_REQUIRE_BROWSER=1` a missing browser fails the test instead.
    pub fn start(test: &str) -> Option<Driver> {
        let required = std::env::var("SHIPCHECK_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let driver = find_binary("SHIPCHECK_CHROMEDRIVER", &["chromedriver"]);
        let browser = find_binary("SHIPCHECK_CHROMIUM", &["chromium", "chromium-browser"]);
        let (Some(driver), Some(_)) = (&driver, &browser) else {
            assert!(
                !required,
                "{test}: no chromedriver/chromium on PATH (apt-get install chromium chromium-driver) and SHIPCHECK_REQUIRE_BROWSER=1 requires the browser tests"
            );
            eprintln!(
                "{test}: SKIPPED: no chromedriver/chromium on PATH (apt-get install chromium chromium-driver); set SHIPCHECK_REQUIRE_BROWSER=1 to make this a failure"
            );
            return None;
        };
        // chromedriver's --port=0 does not say which port it took: take a free one here.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: shipcheck_core::clients::http::client(Duration::from_secs(60)),
            rt,
            _profiles: tempfile::tempdir().unwrap(),
        };
        for _ in 0..100 {
            if d.call("GET", "/status", None)
                .is_ok_and(|v| v["ready"] == true)
            {
                return Some(d);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chromedriver at {} never became ready", d.base);
    }

    /// One WebDriver command: its `value`, or the WebDriver error as text.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body.unwrap_or(json!({}))),
        };
        let v: Value = self.rt.block_on(async {
            let res = req
                .send()
                .await
                .map_err(|e| format!("{method} {path}: {e}"))?;
            res.json::<Value>()
                .await
                .map_err(|e| format!("{method} {path}: not JSON: {e}"))
        })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if let Some(err) = value.get("error").and_then(Value::as_str) {
            return Err(format!(
                "{method} {path}: {err}: {}",
                value["message"].as_str().unwrap_or("")
            ));
        }
        Ok(value)
    }

    /// A new headless browser with its own profile (cookies), `width` × `height` CSS pixels.
    pub fn browser(&self, width: u32, height: u32) -> Browser<'_> {
        let profile = self._profiles.path().join(format!(
            "p{}",
            std::fs::read_dir(self._profiles.path()).unwrap().count()
        ));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": find_binary("SHIPCHECK_CHROMIUM", &["chromium", "chromium-browser"]),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = self
            .call("POST", "/session", Some(caps))
            .unwrap_or_else(|e| panic!("no browser session: {e}"));
        let id = v["sessionId"].as_str().unwrap().to_string();
        Browser { d: self, id }
    }
}

/// One browser session (ends when dropped).
pub struct Browser<'a> {
    d: &'a Driver,
    id: String,
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = self
            .d
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}

/// An element of the page.
#[derive(Clone)]
pub struct El(String);

impl Browser<'_> {
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.d
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The first element matching `css`, if any.
    pub fn try_find(&self, css: &str) -> Option<El> {
        self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| element(&v))
    }

    pub fn find(&self, css: &str) -> El {
        self.try_find(css)
            .unwrap_or_else(|| panic!("no element {css:?} on {}:\n{}", self.url(), self.source()))
    }

    /// The document as it is now.
    pub fn source(&self) -> String {
        self.exec("return document.documentElement.outerHTML;", json!([]))
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn find_all(&self, css: &str) -> Vec<El> {
        self.cmd(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(element)
        .collect()
    }

    /// The rendered text of the first element matching `css` ("" when there is none).
    pub fn text(&self, css: &str) -> String {
        match self.try_find(css) {
            Some(el) => self.text_of(&el),
            None => String::new(),
        }
    }

    pub fn text_of(&self, el: &El) -> String {
        self.cmd("GET", &format!("/element/{}/text", el.0), None)
            .map(|v| v.as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }

    pub fn attr(&self, el: &El, name: &str) -> Option<String> {
        self.cmd("GET", &format!("/element/{}/attribute/{name}", el.0), None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
    }

    pub fn click(&self, el: &El) {
        self.cmd("POST", &format!("/element/{}/click", el.0), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn type_into(&self, el: &El, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", el.0),
            Some(json!({ "text": text })),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page and returns its
    /// value. WebDriver's script runs outside the page's Content-Security-Policy; what it
    /// adds to the page does not.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Browser::exec`] for a script that calls `arguments[arguments.length - 1]`
    /// with its result.
    pub fn exec_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The page as a PNG.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.cmd("GET", "/screenshot", None).unwrap();
        base64_decode(v.as_str().unwrap())
    }

    /// One element as a PNG (scrolled into view first).
    pub fn element_screenshot(&self, el: &El) -> Vec<u8> {
        let v = self
            .cmd("GET", &format!("/element/{}/screenshot", el.0), None)
            .unwrap_or_else(|e| panic!("{e}"));
        base64_decode(v.as_str().unwrap())
    }

    /// The whole page as a PNG (the window made as tall as the document first).
    pub fn full_screenshot(&self, width: u32) -> Vec<u8> {
        let h = self.exec(
            "return Math.ceil(document.documentElement.scrollHeight);",
            json!([]),
        );
        let h = h.as_u64().unwrap_or(900).clamp(300, 6000) as u32;
        self.set_size(width, h + 140);
        self.screenshot()
    }

    pub fn set_size(&self, width: u32, height: u32) {
        let _ = self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Waits (at most `tries` × 100 ms) until `cond` holds; whether it did.
    pub fn wait_for(&self, tries: u32, mut cond: impl FnMut(&Self) -> bool) -> bool {
        for _ in 0..tries {
            if cond(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        cond(self)
    }
}

/// Standard base64 (WebDriver's screenshots).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_decodes_what_webdriver_sends() {
    assert_eq!(base64_decode("aGVsbG8gd29ybGQ="), b"hello world");
    assert_eq!(base64_decode("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
}
