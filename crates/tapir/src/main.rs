//! The `tapir` command: parses arguments and wires the library crates. See `tapir --help`.

mod cli;
mod cmd;
mod interrupt;
mod load;
mod ordered;
mod output;
#[cfg(feature = "live")]
mod privileges;
mod progress;
mod qos;
mod settings;

use clap::Parser;
use std::io::{self, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    interrupt::install();
    let result = match cli.command {
        cli::Command::Inspect(a) => cmd::inspect::run(a),
        cli::Command::Extract(a) => cmd::extract::run(a),
        cli::Command::Train(a) => cmd::train::run(a),
        cli::Command::Eval(a) => cmd::eval::run(a),
        cli::Command::Experiment(a) => cmd::experiment::run(a),
        cli::Command::Classify(a) => cmd::classify::run(a),
        cli::Command::Defend(a) => cmd::defend::run(a),
        cli::Command::Flows(a) => cmd::flows::run(a),
        cli::Command::Watch(a) => cmd::watch::run(a),
        cli::Command::Volume(a) => cmd::volume::run(a),
        cli::Command::Sequence(a) => cmd::sequence::run(a),
        cli::Command::Timeline(a) => cmd::timeline::run(a),
        cli::Command::Mail(a) => cmd::mail::run(a),
    };
    match result {
        Ok(()) if load::skipped_inputs() > 0 => {
            // The rule of every command: exit 0 only when every input was read.
            let n = load::skipped_inputs();
            eprintln!(
                "tapir: error: {n} input{} could not be read or used (see the warnings \
                 above); the output covers the others (--strict stops at the first)",
                if n == 1 { "" } else { "s" }
            );
            ExitCode::from(1)
        }
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `tapir flows x.pcap | head` closing the pipe early is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            if let Some(i) = e.downcast_ref::<interrupt::Interrupted>() {
                eprintln!("tapir: {i}");
                return ExitCode::from(i.exit_code());
            }
            let usage = e.downcast_ref::<settings::Usage>().is_some();
            let mut err = io::stderr().lock();
            let _ = write!(err, "tapir: error: {e}");
            for cause in e.chain().skip(1) {
                let _ = write!(err, ": {cause}");
            }
            let _ = writeln!(err);
            if usage {
                let _ = writeln!(err, "Try 'tapir --help' for more information.");
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
