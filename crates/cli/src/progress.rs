//! Progress bars for long file work: a byte bar when the size is known (captures), a row
//! spinner when it is not (streamed feeds). Hidden under `--json`.

use greenwatch_ingest::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

pub struct Bar {
    hidden: bool,
    bar: Mutex<ProgressBar>,
}

impl Bar {
    pub fn new(hidden: bool) -> Bar {
        Bar {
            hidden,
            bar: Mutex::new(ProgressBar::hidden()),
        }
    }

    fn bar(&self) -> std::sync::MutexGuard<'_, ProgressBar> {
        self.bar.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Progress for Bar {
    fn start(&self, name: &str, total: Option<u64>) {
        if self.hidden {
            return;
        }
        let bar = match total {
            Some(len) => ProgressBar::new(len).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            ),
            None => {
                let spinner = ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template(
                        "{spinner} {msg}: {human_pos} rows, {per_sec}, {elapsed}",
                    )
                    .expect("valid template"),
                );
                spinner.enable_steady_tick(std::time::Duration::from_millis(200));
                spinner
            }
        };
        bar.set_message(name.to_string());
        *self.bar() = bar;
    }

    fn set(&self, done: u64) {
        self.bar().set_position(done);
    }

    fn finish(&self) {
        self.bar().finish_and_clear();
    }
}
