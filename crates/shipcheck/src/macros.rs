//! Output macros: `say!` and `say_raw!` write to stdout and treat a closed pipe as success.

/// `println!` that treats a closed pipe as success.
macro_rules! say {
    () => { $crate::output::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that treats a closed pipe as success.
macro_rules! say_raw {
    ($($arg:tt)*) => { $crate::output::write_out(format_args!($($arg)*)) };
}

/// `eprintln!` through [`crate::output::clean`]: secrets removed, control characters escaped.
macro_rules! say_err {
    ($($arg:tt)*) => { $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}
