//! The AWS emulator (tests/emulator: moto, extended) for the live tests: started on
//! 127.0.0.1 at a free port, stopped on drop.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{credwarden, repo};

/// A running emulator on 127.0.0.1, stopped on drop.
pub struct Emulator {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Emulator {
    pub fn start() -> Emulator {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let child = Command::new(repo("scripts/emulator"))
            .arg("--port-file")
            .arg(&port_file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("scripts/emulator starts");
        let started = Instant::now();
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break port;
            }
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "the emulator did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        Emulator { child, port, dir }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A control request (`/_credwarden/...`), JSON in and out.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} /_credwarden/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "{head}\n{body}"
        );
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    /// Seed a scenario and return its truth document.
    pub fn seed(&self, scenario: &str) -> Value {
        let out = self.dir.path().join(format!("{scenario}.truth.json"));
        let status = Command::new(repo("scripts/emulator"))
            .args([
                "python",
                repo("tests/emulator/scenarios.py").to_str().unwrap(),
                "--endpoint",
                &self.endpoint(),
                "seed",
                scenario,
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "seeding {scenario} failed");
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
    }

    /// `credwarden collect` (or another command) against the emulator with dummy credentials.
    pub fn credwarden(&self) -> assert_cmd::Command {
        let mut cmd = credwarden();
        cmd.env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )
            .env("AWS_REGION", "us-east-1")
            // Standard retries (backoff only). The default, adaptive ones add a client-side rate
            // limiter that slows the client after each throttled call: the throttling test
            // slept for three minutes (172 s against 8 s), and 19 calls with one in ten
            // throttled took about 70 s. Which mode `AWS_RETRY_MODE` picks is a unit test's.
            .env("AWS_RETRY_MODE", "standard")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
        cmd
    }

    /// The environment that points credwarden at the emulator with dummy credentials.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_ACCESS_KEY_ID".into(), "AKIAIOSFODNN7EXAMPLE".into()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
        ]
    }

    /// Start credwarden against the emulator without waiting for it (to signal it).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("credwarden"))
            .args(args)
            .envs(self.env())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("credwarden starts")
    }

    pub fn collect(&self, out: &Path, extra: &[&str]) -> std::process::Output {
        self.credwarden()
            .args(["collect", "-o", out.to_str().unwrap(), "-q"])
            .args(extra)
            .output()
            .unwrap()
    }

    pub fn calls(&self) -> Value {
        self.control("GET", "calls", None)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// Run Python with boto3 against the emulator (the snippet gets an `iam` client).
    pub fn boto3(&self, snippet: &str) {
        let program = format!(
            "import boto3\niam = boto3.client('iam', endpoint_url='{}', aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='x', region_name='us-east-1')\n{snippet}\n",
            self.endpoint()
        );
        let status = Command::new(repo("scripts/emulator"))
            .args(["python", "-c", &program])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "boto3 snippet failed: {snippet}");
    }

    /// The access keys of an account's users as the emulator holds them: key id → status.
    pub fn key_statuses(&self, account_id: &str) -> std::collections::BTreeMap<String, String> {
        let users = self.control("GET", &format!("iam/users?account_id={account_id}"), None);
        let list = users["users"]
            .as_array()
            .cloned()
            .or_else(|| users.as_array().cloned())
            .unwrap_or_default();
        list.iter()
            .flat_map(|u| u["access_keys"].as_array().cloned().unwrap_or_default())
            .map(|k| {
                (
                    k["access_key_id"].as_str().unwrap().to_string(),
                    k["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// Send `signal` (`INT`, `TERM`) to a process.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}
