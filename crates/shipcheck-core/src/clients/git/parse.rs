//! Readers of git's machine formats. Each returns a reason instead of panicking when the
//! output is not what was asked for.

use crate::model::changes::{AddedLine, CommitInfo, FileChange, LogCommit};
use crate::model::error::Invalid;

/// `git log` format of [`LogCommit`]: fields split by US, records ended by RS; the subject
/// is last so nothing in it can shift the other fields.
pub const LOG_FORMAT: &str = "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e";
/// `git log` format of [`CommitInfo`].
pub const INFO_FORMAT: &str = "--format=%H%x1f%P%x1f%B%x1e";
/// Output at least this long hit [`crate::clients::exec`]'s 4 MiB capture limit: only its tail is
/// there.
pub const CAPTURE_LIMIT: usize = (4 << 20) - 16;

/// A full commit id (40 or 64 hex digits).
pub fn sha_line(s: &str) -> Option<String> {
    let ok = matches!(s.len(), 40 | 64) && s.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| s.to_ascii_lowercase())
}

fn records(out: &str) -> impl Iterator<Item = &str> {
    out.split('\u{1e}')
        .map(|r| r.trim_start_matches(['\n', '\r']))
        .filter(|r| !r.trim().is_empty())
}

/// Reads [`LOG_FORMAT`] output.
pub fn log(out: &str) -> Result<Vec<LogCommit>, Invalid> {
    records(out)
        .map(|r| {
            let f: Vec<&str> = r.splitn(5, '\u{1f}').collect();
            let [sha, author, email, date, subject] = f[..] else {
                return Err(format!("a record has {} fields, not 5: {r:?}", f.len()));
            };
            let sha = sha_line(sha).ok_or_else(|| format!("{sha:?} is not a commit id"))?;
            Ok(LogCommit {
                short: sha[..7].to_string(),
                sha,
                author: author.into(),
                email: email.into(),
                date: date.into(),
                subject: subject.trim_end().into(),
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(Invalid)
}

/// Reads [`INFO_FORMAT`] output.
pub fn infos(out: &str) -> Result<Vec<CommitInfo>, Invalid> {
    records(out)
        .map(|r| {
            let f: Vec<&str> = r.splitn(3, '\u{1f}').collect();
            let [sha, parents, message] = f[..] else {
                return Err(format!("a record has {} fields, not 3", f.len()));
            };
            let sha = sha_line(sha).ok_or_else(|| format!("{sha:?} is not a commit id"))?;
            let parents = parents
                .split_whitespace()
                .map(|p| sha_line(p).ok_or_else(|| format!("{p:?} is not a commit id")))
                .collect::<Result<_, _>>()?;
            Ok(CommitInfo {
                sha,
                parents,
                message: message.trim_end().to_string(),
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(Invalid)
}

/// Reads `rev-list --left-right --count` output: `A\tB`.
pub fn two_counts(out: &str) -> Option<(u64, u64)> {
    let mut it = out.split_whitespace();
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    it.next().is_none().then_some((a, b))
}

/// Reads `diff --numstat -z` output (renames as `A\tD\t\0old\0new\0`, binary as `-\t-\t`).
pub fn numstat(out: &str) -> Result<Vec<FileChange>, Invalid> {
    let mut tokens = out.split('\0');
    let mut files = Vec::new();
    while let Some(t) = tokens.next() {
        let t = t.trim_start_matches('\n');
        if t.is_empty() {
            continue;
        }
        let f: Vec<&str> = t.splitn(3, '\t').collect();
        let [ins, del, path] = f[..] else {
            return Err(format!("{t:?} is not `added<TAB>deleted<TAB>path`").into());
        };
        let binary = ins == "-" && del == "-";
        let count = |s: &str| -> Result<u64, String> {
            if binary {
                Ok(0)
            } else {
                s.parse().map_err(|_| format!("{s:?} is not a line count"))
            }
        };
        let (path, old_path) = if path.is_empty() {
            let old = tokens.next().ok_or("a rename without its old path")?;
            let new = tokens.next().ok_or("a rename without its new path")?;
            (new.to_string(), Some(old.to_string()))
        } else {
            (path.to_string(), None)
        };
        files.push(FileChange {
            path,
            old_path,
            insertions: count(ins)?,
            deletions: count(del)?,
            binary,
        });
    }
    Ok(files)
}

/// Reads a `diff -U0 --src-prefix=a/ --dst-prefix=b/` patch: every added line with its
/// file and new line number. Lines it cannot place are skipped, never guessed.
pub fn added_lines(patch: &str) -> Vec<AddedLine> {
    let mut out = Vec::new();
    let mut file: Option<String> = None;
    let mut next: Option<u64> = None;
    for raw in patch.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if next.is_some() {
            match line.as_bytes().first() {
                Some(b'+') => {
                    if let (Some(f), Some(n)) = (&file, next) {
                        out.push(AddedLine {
                            file: f.clone(),
                            line: n,
                            text: line[1..].to_string(),
                        });
                    }
                    next = next.map(|n| n + 1);
                    continue;
                }
                Some(b' ') => {
                    next = next.map(|n| n + 1);
                    continue;
                }
                Some(b'-') | Some(b'\\') => continue,
                _ => next = None,
            }
        }
        if line.starts_with("diff ") {
            file = None;
        } else if let Some(p) = line.strip_prefix("+++ ") {
            file = new_path(p);
        } else if line.starts_with("@@") {
            next = hunk_start(line);
        }
    }
    out
}

fn new_path(p: &str) -> Option<String> {
    let p = p.trim_end_matches('\t');
    if p == "/dev/null" {
        return None;
    }
    let p = if p.starts_with('"') {
        unquote(p)?
    } else {
        p.to_string()
    };
    p.strip_prefix("b/").map(str::to_string)
}

/// `@@ -a,b +c,d @@` → c.
fn hunk_start(line: &str) -> Option<u64> {
    let plus = line.split_whitespace().find(|w| w.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// Undoes git's C-style quoting of a path (`"a\tb\303\251"`).
pub fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::new();
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        let e = it.next()?;
        bytes.push(match e {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'0'..=b'3' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    let d = it.next().filter(u8::is_ascii_digit)?;
                    v = v * 8 + u32::from(d - b'0');
                }
                u8::try_from(v).ok()?
            }
            other => other,
        });
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads `status --porcelain=v1 -z`: tracked changes as `XY path`, and the untracked count.
pub fn status(out: &str) -> (Vec<String>, usize) {
    let mut changed = Vec::new();
    let mut untracked = 0;
    let mut tokens = out.split('\0');
    while let Some(t) = tokens.next() {
        if t.len() < 4 {
            continue;
        }
        let (Some(xy), Some(path)) = (t.get(..2), t.get(2..)) else {
            continue;
        };
        if xy == "??" {
            untracked += 1;
            continue;
        }
        if xy == "!!" {
            continue;
        }
        if xy.contains(['R', 'C']) {
            tokens.next();
        }
        changed.push(format!("{} {}", xy.trim(), path.get(1..).unwrap_or("")));
    }
    (changed, untracked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numstat_reads_plain_binary_and_renamed() {
        let out = "3\t1\tsrc/a.ts\0-\t-\tlogo.png\u{0}0\t0\t\0old name.md\0new name.md\0";
        let files = numstat(out).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!((files[0].insertions, files[0].deletions), (3, 1));
        assert!(files[1].binary && files[1].insertions == 0);
        assert_eq!(files[2].path, "new name.md");
        assert_eq!(files[2].old_path.as_deref(), Some("old name.md"));
        assert!(numstat("x\ty\tz\0").is_err());
    }

    #[test]
    fn patch_gives_added_lines_with_numbers() {
        let patch = "diff --git a/src/a.ts b/src/a.ts\nindex 1..2 100644\n--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1,0 +2,2 @@ fn\n+// TODO: one\n++++ plus\n@@ -9 +11 @@\n-old\n+new\n\\ No newline at end of file\ndiff --git a/gone b/gone\ndeleted file mode 100644\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\ndiff --git \"a/t\\303\\251st\" \"b/t\\303\\251st\"\n--- \"a/t\\303\\251st\"\n+++ \"b/t\\303\\251st\"\n@@ -0,0 +1 @@\n+é\n";
        let lines = added_lines(patch);
        let got: Vec<(String, u64, String)> = lines
            .into_iter()
            .map(|l| (l.file, l.line, l.text))
            .collect();
        assert_eq!(
            got,
            vec![
                ("src/a.ts".into(), 2, "// TODO: one".into()),
                ("src/a.ts".into(), 3, "+++ plus".into()),
                ("src/a.ts".into(), 11, "new".into()),
                ("tést".into(), 1, "é".into()),
            ]
        );
    }

    #[test]
    fn log_and_info_records() {
        let sha = "a".repeat(40);
        let out = format!(
            "{sha}\u{1f}Ana\u{1f}ana@x\u{1f}2025-01-07T10:00:00Z\u{1f}add \u{1f} thing\u{1e}\n"
        );
        let c = log(&out).unwrap();
        assert_eq!(c[0].subject, "add \u{1f} thing");
        assert_eq!(c[0].short, "aaaaaaa");
        assert!(log("nonsense\u{1e}").is_err());
        let p = "b".repeat(40);
        let out = format!("{sha}\u{1f}{p} {p}\u{1f}Release: x\n\nbody\n\u{1e}\n");
        let i = infos(&out).unwrap();
        assert_eq!(i[0].parents.len(), 2);
        assert_eq!(i[0].subject(), "Release: x");
        assert_eq!(two_counts("2\t5\n"), Some((2, 5)));
        assert_eq!(two_counts("x"), None);
    }

    #[test]
    fn status_counts_tracked_and_untracked() {
        let (changed, untracked) = status(" M a.ts\0R  new.ts\0old.ts\0?? tmp\0");
        assert_eq!(changed, vec!["M a.ts", "R new.ts"]);
        assert_eq!(untracked, 1);
    }
}
