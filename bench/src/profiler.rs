//! Profiles of the measurements that miss their targets, for BENCHMARKS.md: with
//! `BENCH_PERF_DIR=DIR`, each named phase runs under `perf record -a` (every process on the
//! machine, sampled by the CPU clock, which works where hardware counters are not offered), and
//! `perf report -i DIR/PHASE.data --sort comm,dso` shows where the machine's time went.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Profile(Option<Child>);

impl Profile {
    /// Starts `perf record` for `phase` when `BENCH_PERF_DIR` is set; otherwise does nothing.
    pub fn start(phase: &str) -> Self {
        let Some(directory) = std::env::var_os("BENCH_PERF_DIR").map(PathBuf::from) else {
            return Self(None);
        };
        let _ = std::fs::create_dir_all(&directory);
        let output = directory.join(format!("{phase}.data"));
        let child = Command::new("perf")
            .args(["record", "-a", "-g", "-e", "cpu-clock", "-F", "499", "-o"])
            .arg(&output)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match child {
            Ok(child) => {
                // perf needs a moment before it samples.
                std::thread::sleep(std::time::Duration::from_millis(300));
                Self(Some(child))
            }
            Err(error) => {
                eprintln!("!! perf could not start ({error}): no profile of {phase}");
                Self(None)
            }
        }
    }
}

impl Drop for Profile {
    /// Stops perf with SIGINT, so that it writes its file, and waits for it.
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}
