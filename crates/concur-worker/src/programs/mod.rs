//! Tasks as programs: the operator's configuration file that maps task names
//! to programs, and the handler that runs one with the task's arguments.
//!
//! The format is documented on [`ProgramConfig`]; how a program is made to
//! die with its worker is in the `guard` module.

#[cfg(target_os = "linux")]
mod guard;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::handler::{Handler, Job, TaskError};
use crate::schedule::{Missed, Schedule};

/// How much of each output stream is kept in the result.
const OUTPUT_CAP: usize = 64 * 1024;

/// The operator's configuration file, loaded and checked: task names and the
/// programs that run them.
///
/// The file is JSON, written by whoever runs the worker:
///
/// ```json
/// {
///   "tasks": {
///     "resize":  { "program": "/usr/bin/convert", "args": ["-resize", "50%"], "timeout": 120 },
///     "archive": { "program": "tar", "args": ["-czf"], "cwd": "/srv/archive", "env": { "GZIP": "-9" } }
///   },
///   "schedules": {
///     "nightly": { "cron": "0 30 3 * * *", "timezone": "Europe/Berlin", "task": "archive", "args": ["/srv/out.tgz", "."] },
///     "ping":    { "every": "30s", "task": "echo", "queue": "health", "missed": "skip" }
///   }
/// }
/// ```
///
/// A schedule (see [`Schedule`]) has exactly one of `cron` (six or seven
/// fields, seconds first) and `every` (`500ms`, `30s`, `5m`, `1h`), a `task`,
/// and optionally `args`, `timezone` (IANA, for `cron`), `queue` (default: the
/// worker's first) and `missed` (`run-once`, the default, or `skip`).
///
/// | field | required | meaning |
/// |---|---|---|
/// | `program` | yes | an absolute path, or a name looked up in `PATH` when the file is loaded |
/// | `args` | no | arguments put before the task's own |
/// | `cwd` | no | the working directory (default: the worker's) |
/// | `env` | no | variables added to the worker's environment |
/// | `timeout` | no | seconds one attempt may take, for tasks whose envelope sets none |
///
/// Unknown fields are errors, so a misspelt `"timeot"` is caught when the
/// worker starts rather than ignored.
///
/// The task `resize` with the arguments `["in.png", "out.png"]` runs
/// `/usr/bin/convert -resize 50% in.png out.png`: the program is started
/// directly with that argument vector ([`std::process::Command`]), never
/// through a shell, so no argument is ever parsed as shell syntax, and only
/// the file decides *what* runs — a task only adds arguments. Task arguments
/// must be strings, numbers or booleans; anything else (or a string holding a
/// NUL byte) rejects the task.
///
/// The program's standard input is empty; its output is captured, the first
/// 64 KiB of each stream kept (the rest is read and dropped, so a chatty
/// program cannot exhaust the worker's memory). Exit status 0 acknowledges
/// the task with `{"exit_code": 0, "stdout": …, "stderr": …}` as its result;
/// any other status, or death by a signal, fails the attempt (it is retried).
/// When the attempt runs out of time, or the worker stops before it ends,
/// the program is killed together with the processes it started: it runs in
/// a process group of its own, which also keeps a Ctrl-C at the terminal for
/// the worker (whose stop gives running tasks their grace period). On Linux
/// the group is also killed when the worker dies in any other way — even by
/// SIGKILL — within half a second, so a task whose worker died never runs on
/// beside the copy a reaper hands to another worker. (A process that leaves
/// the group on purpose, with `setsid` say, is out of reach.)
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("concur-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("tasks.json");
/// std::fs::write(&path, r#"{"tasks": {"list": {"program": "ls", "args": ["-l"]}}}"#).unwrap();
///
/// let config = concur_worker::ProgramConfig::load(&path)?;
/// assert_eq!(config.task_names().collect::<Vec<_>>(), ["list"]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), concur_worker::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProgramConfig {
    tasks: BTreeMap<String, Program>,
    schedules: Vec<Schedule>,
}

/// One entry of the file, resolved.
#[derive(Debug, Clone)]
struct Program {
    path: PathBuf,
    args: Vec<String>,
    cwd: Option<PathBuf>,
    env: BTreeMap<String, String>,
    timeout: Option<Duration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    #[serde(default)]
    tasks: BTreeMap<String, EntryFormat>,
    #[serde(default)]
    schedules: BTreeMap<String, ScheduleFormat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFormat {
    #[serde(default)]
    cron: Option<String>,
    #[serde(default)]
    every: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    task: String,
    #[serde(default)]
    args: Vec<Value>,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    missed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFormat {
    program: PathBuf,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    timeout: Option<f64>,
}

/// Why a configuration file could not be used.
///
/// # Examples
///
/// ```
/// use concur_worker::{ConfigError, ProgramConfig};
///
/// let err = ProgramConfig::load("/no/such/tasks.json").unwrap_err();
/// assert!(matches!(err, ConfigError::Read { .. }));
/// assert!(err.to_string().contains("/no/such/tasks.json"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("could not read the worker's config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON of the expected shape.
    #[error(
        "the worker's config file {path} is not valid: {reason}; it must be JSON like \
         {{\"tasks\": {{\"NAME\": {{\"program\": \"/path/to/program\", \"args\": []}}}}}}"
    )]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the parser objected to, with line and column.
        reason: String,
    },
    /// A schedule cannot be used.
    #[error("the schedule {schedule:?} in the worker's config file {path} cannot be used: {reason}")]
    Schedule {
        /// The file.
        path: PathBuf,
        /// The schedule's name.
        schedule: String,
        /// Why.
        reason: String,
    },
    /// An entry cannot be used.
    #[error("the task {task:?} in the worker's config file {path} cannot be used: {reason}")]
    Task {
        /// The file.
        path: PathBuf,
        /// The task's name.
        task: String,
        /// Why.
        reason: String,
    },
}

impl ProgramConfig {
    /// Reads and checks the file at `path`: its syntax, every field, and that
    /// every program exists and is executable now (names are looked up in
    /// `PATH` once, here).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the file, and the task when one entry is at
    /// fault.
    ///
    /// # Examples
    ///
    /// See [`ProgramConfig`].
    pub fn load(path: impl AsRef<Path>) -> Result<ProgramConfig, ConfigError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let file: FileFormat = serde_json::from_str(&text)
            .map_err(|e| ConfigError::Syntax { path: path.to_owned(), reason: e.to_string() })?;
        let mut tasks = BTreeMap::new();
        for (name, entry) in file.tasks {
            let bad = |reason: String| ConfigError::Task { path: path.to_owned(), task: name.clone(), reason };
            if name.is_empty() {
                return Err(bad("a task name cannot be empty".into()));
            }
            let timeout = match entry.timeout {
                None => None,
                Some(t) => match Duration::try_from_secs_f64(t) {
                    Ok(d) if !d.is_zero() => Some(d),
                    _ => return Err(bad(format!("the timeout {t} is not a positive number of seconds"))),
                },
            };
            let program = resolve(&entry.program).map_err(bad)?;
            if let Some(cwd) = &entry.cwd {
                if !cwd.is_dir() {
                    return Err(bad(format!("the working directory {} is not a directory", cwd.display())));
                }
            }
            tasks.insert(name, Program { path: program, args: entry.args, cwd: entry.cwd, env: entry.env, timeout });
        }
        let mut schedules = Vec::new();
        for (name, entry) in file.schedules {
            let bad = |reason: String| ConfigError::Schedule { path: path.to_owned(), schedule: name.clone(), reason };
            schedules.push(schedule_from(&name, entry).map_err(bad)?);
        }
        Ok(ProgramConfig { tasks, schedules })
    }

    /// The task names the file defines, in order.
    ///
    /// # Examples
    ///
    /// See [`ProgramConfig`].
    pub fn task_names(&self) -> impl Iterator<Item = &str> {
        self.tasks.keys().map(String::as_str)
    }

    /// The schedules the file defines, by name.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("concur-doc-schedules-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("tasks.json");
    /// std::fs::write(&path, r#"{"schedules": {"ping": {"every": "30s", "task": "echo", "args": ["alive"]}}}"#).unwrap();
    ///
    /// let config = concur_worker::ProgramConfig::load(&path)?;
    /// assert_eq!(config.schedules()[0].spec(), "every 30s");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), concur_worker::ConfigError>(())
    /// ```
    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    /// The handlers, one per task.
    pub(crate) fn handlers(&self) -> impl Iterator<Item = (String, Handler)> + '_ {
        self.tasks.iter().map(|(name, program)| {
            let timeout = program.timeout;
            let program = Arc::new(program.clone());
            let handler = Handler::new(move |job: Job| {
                let program = program.clone();
                async move { run(&program, &job).await }
            });
            (name.clone(), handler.with_timeout(timeout))
        })
    }
}

/// A schedule from its entry in the file.
fn schedule_from(name: &str, entry: ScheduleFormat) -> Result<Schedule, String> {
    let schedule = match (&entry.cron, &entry.every) {
        (Some(expression), None) => Schedule::cron(name, expression, &entry.task),
        (None, Some(every)) => {
            let interval = parse_interval(every)
                .ok_or_else(|| format!("\"every\": {every:?} is not a duration; write e.g. 500ms, 30s, 5m or 1h"))?;
            Schedule::every(name, interval, &entry.task)
        }
        _ => return Err("it needs exactly one of \"cron\" and \"every\"".into()),
    }
    .map_err(|e| e.to_string())?;
    let mut schedule = schedule.args(entry.args);
    if let Some(zone) = &entry.timezone {
        schedule = schedule.timezone(zone).map_err(|e| e.to_string())?;
    }
    if let Some(queue) = &entry.queue {
        crate::keys::Keys::new(queue).map_err(|e| e.to_string())?;
        schedule = schedule.queue(queue);
    }
    match entry.missed.as_deref() {
        None | Some("run-once") => Ok(schedule),
        Some("skip") => Ok(schedule.missed(Missed::Skip)),
        Some(other) => Err(format!("\"missed\": {other:?} is neither \"run-once\" nor \"skip\"")),
    }
}

/// Reads `500ms`, `30s`, `5m`, `1h` or a bare number of seconds.
fn parse_interval(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok().filter(|n: &f64| n.is_finite() && *n > 0.0)?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(number * scale).ok()
}

/// Checks that `program` can be run: an existing executable file, found in
/// `PATH` when it is a bare name.
fn resolve(program: &Path) -> Result<PathBuf, String> {
    if program.as_os_str().is_empty() {
        return Err("the program is empty".into());
    }
    let candidates: Vec<PathBuf> = if program.components().count() > 1 || program.is_absolute() {
        vec![program.to_owned()]
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).map(|dir| dir.join(program)).collect()
    };
    for candidate in &candidates {
        if is_executable(candidate) {
            return Ok(candidate.clone());
        }
    }
    if candidates.len() == 1 {
        Err(format!("the program {} does not exist or is not an executable file", program.display()))
    } else {
        Err(format!("no executable named {} was found in PATH", program.display()))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A task argument as one program argument.
fn to_arg(job: &Job, index: usize, value: &Value) -> Result<String, TaskError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => {
            let kind = match other {
                Value::Null => "null",
                Value::Array(_) => "an array",
                _ => "an object",
            };
            return Err(TaskError::rejected(format!(
                "argument {} of the task {:?} is {kind}; a program task takes strings, numbers and booleans",
                index + 1,
                job.name()
            )));
        }
    };
    if text.contains('\0') {
        return Err(TaskError::rejected(format!(
            "argument {} of the task {:?} contains a NUL byte, which no program argument can hold",
            index + 1,
            job.name()
        )));
    }
    Ok(text)
}

async fn run(program: &Program, job: &Job) -> Result<Value, TaskError> {
    let task_args =
        job.args().iter().enumerate().map(|(i, v)| to_arg(job, i, v)).collect::<Result<Vec<String>, TaskError>>()?;
    let mut command = std::process::Command::new(&program.path);
    command.args(&program.args).args(&task_args).envs(&program.env);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(cwd) = &program.cwd {
        command.current_dir(cwd);
    }
    // A group of its own, so that a time limit or a stop ends whatever the
    // program started too (a script's children), not just the program.
    command.process_group(0);
    #[cfg(target_os = "linux")]
    guard::install(&mut command);
    // tokio's wrapper around the same `Command`, so the loop can wait for the
    // program without blocking, and a timeout (which drops this future) kills it.
    let mut command = tokio::process::Command::from(command);
    command.kill_on_drop(true);
    let shown = program.path.display();
    let mut child =
        command.spawn().map_err(|e| TaskError::failed(format!("could not start the program {shown}: {e}")))?;
    let group =
        GroupKiller { leader: child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()), reaped: Cell::new(false) };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let wait = async {
        let status = child.wait().await;
        group.reaped.set(status.is_ok());
        status
    };
    let (stdout, stderr, status) = tokio::join!(read_capped(stdout), read_capped(stderr), wait);
    let status = status.map_err(|e| TaskError::failed(format!("could not wait for the program {shown}: {e}")))?;
    let (stdout, stdout_cut) = stdout?;
    let (stderr, stderr_cut) = stderr?;
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => {
                use std::os::unix::process::ExitStatusExt;
                format!("was killed by signal {}", status.signal().unwrap_or(0))
            }
        };
        let tail: String = {
            let trimmed = stderr.trim_end();
            let start = trimmed.char_indices().rev().nth(499).map_or(0, |(i, _)| i);
            trimmed[start..].to_owned()
        };
        let detail = if tail.is_empty() { String::new() } else { format!(": {tail}") };
        return Err(TaskError::failed(format!("the program {shown} {how}{detail}")));
    }
    let mut result = json!({"exit_code": 0, "stdout": stdout, "stderr": stderr});
    if stdout_cut {
        result["stdout_truncated"] = json!(true);
    }
    if stderr_cut {
        result["stderr_truncated"] = json!(true);
    }
    Ok(result)
}

/// Kills a program's process group when the attempt is dropped (its time
/// limit passed, or the worker stopped) before the program was reaped.
///
/// Only until then: while the leader is unreaped its PID, which is the
/// group's ID, cannot be reused, so the signal cannot reach a stranger's
/// group. `kill_on_drop` alone would end the leader and leave its children.
struct GroupKiller {
    leader: Option<libc::pid_t>,
    reaped: Cell<bool>,
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        if let (Some(leader), false) = (self.leader, self.reaped.get()) {
            // SAFETY: kill(2) takes plain integers and touches no memory of
            // ours; a group that is already gone makes it fail with ESRCH.
            unsafe {
                libc::kill(-leader, libc::SIGKILL);
            }
        }
    }
}

/// Reads a stream to its end, keeping the first [`OUTPUT_CAP`] bytes
/// (decoded lossily) and whether more came.
async fn read_capped(stream: Option<impl AsyncRead + Unpin>) -> Result<(String, bool), TaskError> {
    let Some(mut stream) = stream else { return Ok((String::new(), false)) };
    let mut kept = Vec::new();
    let mut cut = false;
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = stream
            .read(&mut buffer)
            .await
            .map_err(|e| TaskError::failed(format!("could not read the program's output: {e}")))?;
        if n == 0 {
            break;
        }
        let room = OUTPUT_CAP - kept.len();
        kept.extend_from_slice(&buffer[..n.min(room)]);
        cut |= n > room;
    }
    Ok((String::from_utf8_lossy(&kept).into_owned(), cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `text` as a config file; `{dir}` in it is a directory holding
    /// `plain.txt`, a file that is not executable.
    fn load(text: &str) -> Result<ProgramConfig, ConfigError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("concur-programs-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plain.txt"), "not a program").unwrap();
        let path = dir.join("tasks.json");
        std::fs::write(&path, text.replace("{dir}", &dir.display().to_string())).unwrap();
        let config = ProgramConfig::load(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        config
    }

    #[test]
    fn entries_are_checked_when_loaded() {
        let ok = load(r#"{"tasks": {"t": {"program": "true"}, "e": {"program": "/bin/echo", "timeout": 2}}}"#);
        let ok = ok.unwrap();
        assert_eq!(ok.task_names().collect::<Vec<_>>(), ["e", "t"]);
        assert!(ok.tasks["t"].path.is_absolute());
        assert_eq!(ok.tasks["e"].timeout, Some(Duration::from_secs(2)));

        let err = load(r#"{"tasks": {"t": {"program": "no-such-program-here"}}}"#).unwrap_err();
        assert!(err.to_string().contains("no executable named no-such-program-here"), "{err}");
        let err = load(r#"{"tasks": {"t": {"program": "{dir}/plain.txt"}}}"#).unwrap_err();
        assert!(err.to_string().contains("not an executable file"), "{err}");
        let err = load(r#"{"tasks": {"t": {"program": "true", "timeot": 5}}}"#).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }) && err.to_string().contains("timeot"), "{err}");
        let err = load(r#"{"tasks": {"t": {"program": "true", "timeout": -1}}}"#).unwrap_err();
        assert!(err.to_string().contains("timeout -1"), "{err}");
        assert!(matches!(load("{not json").unwrap_err(), ConfigError::Syntax { .. }));
        assert!(matches!(
            load(r#"{"tasks": {"t": {"program": "true", "cwd": "/no/such"}}}"#),
            Err(ConfigError::Task { .. })
        ));
    }

    #[test]
    fn arguments_must_be_scalars() {
        let job = Job::new("t", vec![]);
        assert_eq!(to_arg(&job, 0, &json!("a b")).unwrap(), "a b");
        assert_eq!(to_arg(&job, 0, &json!(2.5)).unwrap(), "2.5");
        assert_eq!(to_arg(&job, 0, &json!(true)).unwrap(), "true");
        assert!(to_arg(&job, 1, &json!({"a": 1})).unwrap_err().to_string().contains("argument 2"));
        assert!(to_arg(&job, 0, &json!(null)).unwrap_err().is_rejected());
        assert!(to_arg(&job, 0, &json!("a\u{0}b")).unwrap_err().to_string().contains("NUL"));
    }
}
