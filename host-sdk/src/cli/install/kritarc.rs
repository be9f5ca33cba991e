//! Switching a Python plug-in on in `kritarc`: Krita loads only the plug-ins whose `enable_NAME=true` stands in
//! the file's `[python]` section. Only a kritarc Krita has written is edited; the rest of it is kept as it is.

use std::io;
use std::path::Path;

/// Sets `key=true` in `[python]` of the kritarc at `path`. Returns false, writing nothing, when there is no
/// kritarc yet (Krita writes it at its first start).
pub fn enable(path: &Path, key: &str) -> io::Result<bool> {
    let text = match nst_files::read_text(path, nst_files::FileKind::Configuration) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err),
    };
    let updated = with_enabled(&text, key);
    if updated != text {
        nst_files::write_atomically(path, updated.as_bytes())?;
    }
    Ok(true)
}

/// `text` with `key=true` in its `[python]` section, the section added at the end when missing.
fn with_enabled(text: &str, key: &str) -> String {
    let line = format!("{key}=true");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let Some(header) = lines.iter().position(|l| l.trim() == "[python]") else {
        let mut updated = text.to_string();
        if !updated.is_empty() && !updated.ends_with('\n') {
            updated.push('\n');
        }
        updated.push_str(&format!("\n[python]\n{line}\n"));
        return updated;
    };
    let end = lines[header + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| header + 1 + i);
    let existing = (header + 1..end).find(|&i| lines[i].split('=').next().map(str::trim) == Some(key));
    match existing {
        Some(i) => lines[i] = line,
        None => lines.insert(header + 1, line),
    }
    let mut updated = lines.join("\n");
    updated.push('\n');
    updated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_set_in_the_python_section_and_nothing_else_changes() {
        let rc = "[General]\nfoo=1\n\n[python]\nenable_other=true\nenable_nst_krita=false\n\n[Tools]\nbar=2\n";
        let updated = with_enabled(rc, "enable_nst_krita");
        assert_eq!(updated, rc.replace("enable_nst_krita=false", "enable_nst_krita=true"));
        let added = with_enabled("[python]\nenable_other=true\n[Tools]\nbar=2\n", "enable_nst_krita");
        assert_eq!(added, "[python]\nenable_nst_krita=true\nenable_other=true\n[Tools]\nbar=2\n");
        let appended = with_enabled("[General]\nfoo=1", "enable_nst_krita");
        assert_eq!(appended, "[General]\nfoo=1\n\n[python]\nenable_nst_krita=true\n");
        assert_eq!(with_enabled(&appended, "enable_nst_krita"), appended, "enabling twice changed the file");
    }
}
