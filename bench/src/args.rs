//! A minimal `--flag value` parser (no dependencies), enough for `loadgen`.

use std::collections::HashMap;
use std::str::FromStr;

/// Flags given on the command line, as `name -> value` (without the `--`).
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `--name value` pairs (or `--name=value`). Every name must be in
    /// `known`; anything else is an error.
    pub fn parse<I>(args: I, known: &[&str]) -> Result<Flags, String>
    where
        I: IntoIterator<Item = String>,
    {
        let mut values = HashMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| format!("--{flag} needs a value"))?;
                    (flag.to_string(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name}"));
            }
            values.insert(name, value);
        }
        Ok(Flags { values })
    }

    /// The value of `--name` parsed as `T`, `None` if the flag was not given.
    pub fn get<T: FromStr>(&self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.values.get(name) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|e| format!("bad value {text:?} for --{name}: {e}")),
        }
    }

    /// Like [`Flags::get`], with a default for a missing flag.
    pub fn get_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.get(name)?.unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_both_forms() {
        let flags =
            Flags::parse(strings(&["--conns", "8", "--size=64"]), &["conns", "size"]).unwrap();
        assert_eq!(flags.get::<u32>("conns").unwrap(), Some(8));
        assert_eq!(flags.get::<u32>("size").unwrap(), Some(64));
        assert_eq!(flags.get_or::<u32>("secs", 5).unwrap(), 5);
    }

    #[test]
    fn rejects_unknown_and_missing() {
        assert!(Flags::parse(strings(&["--nope", "1"]), &["conns"]).is_err());
        assert!(Flags::parse(strings(&["--conns"]), &["conns"]).is_err());
        assert!(Flags::parse(strings(&["conns"]), &["conns"]).is_err());
        let flags = Flags::parse(strings(&["--conns", "x"]), &["conns"]).unwrap();
        assert!(flags.get::<u32>("conns").is_err());
    }
}
