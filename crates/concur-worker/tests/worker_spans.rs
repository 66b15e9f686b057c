//! A handler's own logs carry the worker's span (its id and queue) and the
//! attempt's (task id, name and attempt), so an operator can tell whose
//! lines they are.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{wait_until, RedisServer};
use concur_worker::{EnqueueOptions, Job, QueueConfig, TaskError, Worker};
use serde_json::json;

/// Everything logged, as the `concur` binary's subscriber prints it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_handlers_log_line_names_its_worker_task_and_attempt() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let server = RedisServer::start();
    let worker = Worker::builder()
        .redis(&server.url())
        .queue("spans")
        .handler("greet", |job: Job| async move {
            tracing::info!("hello from the handler");
            if job.attempt() == 1 {
                return Err(TaskError::failed("once more"));
            }
            Ok::<_, TaskError>(())
        })
        .queue_config(QueueConfig {
            retry: concur_worker::RetryPolicy { initial: Duration::from_millis(10), max: Duration::from_millis(10) },
            ..QueueConfig::named("spans")
        })
        .build()
        .unwrap();
    let worker_id = worker.id().to_owned();
    let stop = worker.shutdown_handle();
    let running = std::thread::spawn(move || worker.run());
    let mut client = server.queue(QueueConfig::named("spans"));
    let id = client.enqueue("greet", vec![json!("x")], &EnqueueOptions::default()).unwrap();
    wait_until("the second attempt succeeds", Duration::from_secs(20), || client.status().unwrap().done == 1);
    stop.stop();
    running.join().unwrap().unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("hello from the handler")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, attempt) in lines.iter().zip([1, 2]) {
        assert!(line.contains(&format!("worker{{worker.id=\"{worker_id}\" queue=\"spans\"}}")), "{line}");
        assert!(line.contains(&format!("task{{task.id=\"{id}\" task.name=\"greet\" attempt={attempt}}}")), "{line}");
    }
}
