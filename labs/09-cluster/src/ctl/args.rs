//! The command line: the words (`get pods web`) and the flags kubectl users already know.

use std::path::PathBuf;
use std::time::Duration;

/// How `get` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// The table (the default).
    #[default]
    Table,
    /// The table with the extra (priority 1) columns.
    Wide,
    /// The objects as YAML.
    Yaml,
    /// The objects as JSON.
    Json,
    /// `kind/name` per object.
    Name,
}

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The words that are not flags: the command and its arguments.
    pub words: Vec<String>,
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `-n` / `--namespace`.
    pub namespace: Option<String>,
    /// `-A` / `--all-namespaces`.
    pub all_namespaces: bool,
    /// `-o` / `--output`.
    pub output: OutputFormat,
    /// `-l` / `--selector`.
    pub selector: Option<String>,
    /// `-w` / `--watch`.
    pub watch: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// `-f` / `--filename` (repeatable; `-` is stdin). For `logs`, `-f` means `--follow`.
    pub files: Vec<String>,
    /// `--follow` (and `-f` after `logs`).
    pub follow: bool,
    /// `-c` / `--container`.
    pub container: Option<String>,
    /// `--tail`.
    pub tail: Option<i64>,
    /// `--wait` (default true; `--wait=false` returns once the delete is accepted).
    pub wait: bool,
    /// `--timeout` for the commands that wait (delete, drain, rollout status).
    pub timeout: Duration,
    /// `--replicas` (scale).
    pub replicas: Option<i64>,
    /// `--to-revision` (rollout undo).
    pub to_revision: Option<i64>,
    /// `--image` (create deployment).
    pub image: Option<String>,
    /// `-h` / `--help`.
    pub help: bool,
}

impl Default for Invocation {
    fn default() -> Self {
        Invocation {
            words: Vec::new(),
            kubeconfig: None,
            namespace: None,
            all_namespaces: false,
            output: OutputFormat::Table,
            selector: None,
            watch: false,
            no_headers: false,
            files: Vec::new(),
            follow: false,
            container: None,
            tail: None,
            wait: true,
            timeout: Duration::from_secs(120),
            replicas: None,
            to_revision: None,
            image: None,
            help: false,
        }
    }
}

fn parse_bool(flag: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!(
            "error: {flag}: expected true or false, got {other:?}"
        )),
    }
}

fn parse_number(flag: &str, value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("error: {flag}: expected a whole number, got {value:?}"))
}

/// A duration as kubectl writes it: `30s`, `2m`, `1h`, or plain seconds.
pub fn parse_duration(flag: &str, value: &str) -> Result<Duration, String> {
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("error: {flag}: expected a duration like 30s or 2m, got {value:?}"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => {
            return Err(format!(
                "error: {flag}: unknown unit {unit:?} in {value:?} (use s, m or h)"
            ));
        }
    };
    Ok(Duration::from_secs(seconds))
}

/// Parses the arguments after `skiffctl`. Errors name the flag and say what was expected.
pub fn parse(args: &[String]) -> Result<Invocation, String> {
    let mut inv = Invocation::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if !flag.starts_with('-') || flag == "-" {
            inv.words.push(arg.clone());
            continue;
        }
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("error: flag needs an argument: {name}")),
            }
        };
        let is_logs = inv.words.first().is_some_and(|w| w == "logs");
        match flag {
            "-h" | "--help" => inv.help = true,
            "--kubeconfig" => inv.kubeconfig = Some(value(flag)?.into()),
            "-n" | "--namespace" => inv.namespace = Some(value(flag)?),
            "-A" | "--all-namespaces" => inv.all_namespaces = true,
            "-o" | "--output" => {
                inv.output = match value(flag)?.as_str() {
                    "wide" => OutputFormat::Wide,
                    "yaml" => OutputFormat::Yaml,
                    "json" => OutputFormat::Json,
                    "name" => OutputFormat::Name,
                    other => {
                        return Err(format!(
                            "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,wide,yaml"
                        ));
                    }
                }
            }
            "-l" | "--selector" => inv.selector = Some(value(flag)?),
            "-w" | "--watch" => inv.watch = true,
            "--no-headers" => inv.no_headers = true,
            "-f" if is_logs => inv.follow = true,
            "-f" | "--filename" => inv.files.push(value(flag)?),
            "--follow" => inv.follow = true,
            "-c" | "--container" => inv.container = Some(value(flag)?),
            "--tail" => inv.tail = Some(parse_number(flag, &value(flag)?)?),
            "--wait" => {
                inv.wait = match &inline {
                    Some(v) => parse_bool(flag, v)?,
                    None => true,
                }
            }
            "--timeout" => inv.timeout = parse_duration(flag, &value(flag)?)?,
            "--replicas" => {
                let n = parse_number(flag, &value(flag)?)?;
                if n < 0 {
                    return Err(format!("error: --replicas: must be 0 or more, got {n}"));
                }
                inv.replicas = Some(n);
            }
            "--to-revision" => inv.to_revision = Some(parse_number(flag, &value(flag)?)?),
            "--image" => inv.image = Some(value(flag)?),
            // Accepted for kubectl compatibility; skiffctl has nothing to validate client-side.
            "--validate" | "--ignore-daemonsets" | "--delete-emptydir-data" | "--force" => {}
            other => return Err(format!("error: unknown flag: {other}")),
        }
    }
    Ok(inv)
}
