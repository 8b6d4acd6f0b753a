//! `--compare NAME='TEMPLATE'`: a command line for another sandbox, with `{}`
//! standing for the workload's command.
//!
//! The template is split into words the way a POSIX shell splits a simple
//! command: whitespace separates words, single quotes keep everything
//! literally, double quotes keep everything but `\"`, `\\`, `\$` and `` \` ``,
//! and a backslash outside quotes escapes the next character. No expansion of
//! any kind happens. A word that is exactly `{}` becomes the workload's argv,
//! one word per argument; a `{}` inside a longer word (`sh -c '{}'`) becomes
//! the workload's command line quoted for a shell.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// A `--compare` argument: `NAME=TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compare {
    pub(crate) name: String,
    pub(crate) words: Vec<String>,
}

/// Parses `NAME=TEMPLATE` (the form clap hands us).
pub(crate) fn parse_compare(arg: &str) -> Result<Compare, String> {
    let (name, template) = arg
        .split_once('=')
        .ok_or_else(|| format!("--compare {arg:?}: expected NAME='COMMAND ... {{}} ...'"))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!(
            "--compare {arg:?}: the name must be one non-empty word"
        ));
    }
    let words = split(template).map_err(|err| format!("--compare {name}: {err}"))?;
    if words.is_empty() {
        return Err(format!("--compare {name}: the command is empty"));
    }
    if !words.iter().any(|w| w.contains("{}")) {
        return Err(format!(
            "--compare {name}: the command has no {{}} for the workload"
        ));
    }
    Ok(Compare {
        name: name.to_owned(),
        words,
    })
}

/// Splits `line` into words as a shell would, without any expansion.
pub(crate) fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated single quote".to_owned()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err("unterminated double quote".to_owned()),
                        },
                        Some(c) => w.push(c),
                        None => return Err("unterminated double quote".to_owned()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("trailing backslash".to_owned()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The template's words with `{}` replaced by `argv`.
pub(crate) fn substitute(words: &[String], argv: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::new();
    for word in words {
        if word == "{}" {
            out.extend(argv.iter().cloned());
        } else if word.contains("{}") {
            let line = shell_join(argv);
            let mut bytes = Vec::new();
            let mut rest = word.as_bytes();
            while let Some(at) = rest.windows(2).position(|w| w == b"{}") {
                bytes.extend_from_slice(&rest[..at]);
                bytes.extend_from_slice(line.as_bytes());
                rest = &rest[at + 2..];
            }
            bytes.extend_from_slice(rest);
            out.push(OsString::from_vec(bytes));
        } else {
            out.push(OsString::from(word));
        }
    }
    out
}

/// `argv` as one shell command line, each word quoted where it needs it.
pub(crate) fn shell_join(argv: &[OsString]) -> OsString {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(shell_quote(arg).as_bytes());
    }
    OsString::from_vec(out)
}

fn shell_quote(arg: &OsStr) -> OsString {
    let bytes = arg.as_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(b);
    if !bytes.is_empty() && bytes.iter().all(plain) {
        return arg.to_owned();
    }
    let mut out = vec![b'\''];
    for &b in bytes {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    OsString::from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split("runsc --network=none do {}").unwrap(),
            ["runsc", "--network=none", "do", "{}"]
        );
        assert_eq!(split("  a   b\t c ").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split(r#"a 'b c' "d e" f\ g"#).unwrap(),
            ["a", "b c", "d e", "f g"]
        );
        assert_eq!(
            split(r#"'it''s' "say \"hi\" \n""#).unwrap(),
            ["its", r#"say "hi" \n"#]
        );
        assert_eq!(split("x '' y").unwrap(), ["x", "", "y"]);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn split_rejects_unterminated_quotes() {
        split("a 'b").unwrap_err();
        split("a \"b").unwrap_err();
        split("a \\").unwrap_err();
    }

    #[test]
    fn a_bare_placeholder_becomes_the_argv() {
        let words = split("bwrap --ro-bind / / {}").unwrap();
        let argv = os(&["/usr/bin/python3", "-c", "import json, email"]);
        assert_eq!(
            substitute(&words, &argv),
            os(&[
                "bwrap",
                "--ro-bind",
                "/",
                "/",
                "/usr/bin/python3",
                "-c",
                "import json, email"
            ])
        );
    }

    #[test]
    fn a_placeholder_inside_a_word_becomes_a_quoted_line() {
        let words = split("sh -c 'exec {}'").unwrap();
        let argv = os(&["/usr/bin/python3", "-c", "it's"]);
        assert_eq!(
            substitute(&words, &argv),
            os(&["sh", "-c", r"exec /usr/bin/python3 -c 'it'\''s'"])
        );
    }

    #[test]
    fn compare_needs_a_name_and_a_placeholder() {
        let c = parse_compare("runsc=runsc --network=none do {}").unwrap();
        assert_eq!(c.name, "runsc");
        assert_eq!(c.words, ["runsc", "--network=none", "do", "{}"]);
        parse_compare("runsc do {}").unwrap_err();
        parse_compare("=runsc do {}").unwrap_err();
        parse_compare("runsc=runsc do").unwrap_err();
        parse_compare("runsc=").unwrap_err();
    }
}
