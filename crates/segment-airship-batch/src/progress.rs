//! Progress: a bar on a terminal, or log lines at an interval when standard error is not one.

use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;

/// How often the bar is redrawn.
const BAR_REFRESH: Duration = Duration::from_millis(200);

/// Counters the readers and the delivery update, read by the progress display.
#[derive(Debug, Default)]
pub struct Counters {
    /// Raw (compressed) bytes read from the inputs, including bytes skipped on resume.
    pub raw_bytes: Arc<AtomicU64>,
    /// Messages read from the inputs.
    pub read: AtomicU64,
    /// Messages with a final outcome: printed by a dry run, or delivered, skipped, invalid or
    /// dead-lettered.
    pub done: AtomicU64,
}

/// The destination of progress output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Bar,
    Log { interval: Duration },
    Off,
}

impl Display {
    /// Chooses a bar when standard error is a terminal, else log lines every `interval`.
    pub fn choose(disabled: bool, interval: Duration) -> Display {
        if disabled {
            Display::Off
        } else if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Log { interval }
        }
    }
}

/// The bar shared with the log writer, so log lines print above it instead of through it.
#[derive(Debug, Clone, Default)]
pub struct SharedBar(Arc<Mutex<Option<ProgressBar>>>);

impl SharedBar {
    fn set(&self, bar: Option<ProgressBar>) {
        *self.0.lock().expect("the bar lock is never poisoned") = bar;
    }

    fn get(&self) -> Option<ProgressBar> {
        self.0
            .lock()
            .expect("the bar lock is never poisoned")
            .clone()
    }
}

/// Standard error, writing around the progress bar when one is shown.
pub struct BarWriter(SharedBar);

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.get() {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for SharedBar {
    type Writer = BarWriter;

    fn make_writer(&'a self) -> BarWriter {
        BarWriter(self.clone())
    }
}

/// A running progress display; [`Reporter::finish`] stops it.
pub struct Reporter {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
    shared: SharedBar,
}

impl Reporter {
    /// Starts showing progress. `total_bytes` is the size of all inputs when every input is a
    /// file, which gives a percentage and an ETA.
    pub fn start(
        display: Display,
        counters: Arc<Counters>,
        total_bytes: Option<u64>,
        shared: SharedBar,
    ) -> Reporter {
        let (stop, stopped) = mpsc::channel();
        let bar = (display == Display::Bar).then(|| new_bar(total_bytes));
        shared.set(bar.clone());
        let thread = std::thread::spawn(move || {
            show(display, &counters, total_bytes, bar.as_ref(), &stopped);
        });
        Reporter {
            stop,
            thread,
            shared,
        }
    }

    /// Stops the display and clears the bar.
    pub fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        if let Some(bar) = self.shared.get() {
            bar.finish_and_clear();
        }
        self.shared.set(None);
    }
}

fn new_bar(total_bytes: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total_bytes, ProgressDrawTarget::stderr());
    let template = if total_bytes.is_some() {
        "{elapsed_precise} [{wide_bar}] {percent:>3}% {msg} ETA {eta}"
    } else {
        "{elapsed_precise} {spinner} {msg}"
    };
    let style = ProgressStyle::with_template(template)
        .expect("the template is valid")
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Runs until `stopped` receives or its sender is dropped.
fn show(
    display: Display,
    counters: &Counters,
    total_bytes: Option<u64>,
    bar: Option<&ProgressBar>,
    stopped: &mpsc::Receiver<()>,
) {
    let refresh = match display {
        Display::Off => {
            let _ = stopped.recv();
            return;
        }
        Display::Bar => BAR_REFRESH,
        Display::Log { interval } => interval,
    };
    let started = Instant::now();
    let mut rate = Rate::new(started);

    loop {
        match stopped.recv_timeout(refresh) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let done = counters.done.load(Ordering::Relaxed);
        let read = counters.read.load(Ordering::Relaxed);
        let bytes = counters.raw_bytes.load(Ordering::Relaxed);
        let per_second = rate.update(done);
        match bar {
            Some(bar) => {
                if let Some(total) = total_bytes {
                    bar.set_position(bytes.min(total));
                } else {
                    bar.tick();
                }
                bar.set_message(format!("{done} messages done, {per_second:.0}/s"));
            }
            None => log_line(
                done,
                read,
                bytes,
                total_bytes,
                per_second,
                started.elapsed(),
            ),
        }
    }
}

fn log_line(
    done: u64,
    read: u64,
    bytes: u64,
    total_bytes: Option<u64>,
    per_second: f64,
    elapsed: Duration,
) {
    match total_bytes {
        Some(total) if total > 0 => {
            let fraction = (bytes.min(total) as f64) / (total as f64);
            let eta = (fraction > 0.0)
                .then(|| elapsed.as_secs_f64() * (1.0 - fraction) / fraction)
                .map(|secs| format!("{secs:.0}s"))
                .unwrap_or_else(|| "unknown".to_owned());
            tracing::info!(
                done,
                read,
                per_second = per_second.round() as u64,
                percent = (fraction * 100.0).floor() as u64,
                eta = %eta,
                "Progress."
            );
        }
        _ => tracing::info!(
            done,
            read,
            per_second = per_second.round() as u64,
            bytes_read = bytes,
            "Progress."
        ),
    }
}

/// Messages per second over the last few seconds.
struct Rate {
    last: Instant,
    last_done: u64,
    smoothed: f64,
}

impl Rate {
    fn new(now: Instant) -> Rate {
        Rate {
            last: now,
            last_done: 0,
            smoothed: 0.0,
        }
    }

    fn update(&mut self, done: u64) -> f64 {
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64();
        if secs <= 0.0 {
            return self.smoothed;
        }
        let current = done.saturating_sub(self.last_done) as f64 / secs;
        // Exponential smoothing weighted by elapsed time: about a 3 s memory.
        let weight = (secs / 3.0).min(1.0);
        self.smoothed += (current - self.smoothed) * weight;
        self.last = now;
        self.last_done = done;
        self.smoothed
    }
}
