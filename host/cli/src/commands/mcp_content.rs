//! Content blocks (of tool results and prompt messages) for a person:
//! text as is, images and audio saved to files when asked (and named),
//! resources and resource links described with how to read them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use rmcp::model::{ContentBlock, ResourceContents};

/// Where images and audio go, and how their files are named.
pub struct MediaFiles<'a> {
    /// `--output-dir`; without it, media are only described.
    pub dir: Option<&'a Path>,
    /// The stem of every file: `{stem}-{n}.{extension}`.
    pub stem: &'a str,
    /// The command that reads a linked resource: `codex mcp read SERVER`.
    pub read_command: String,
    saved: usize,
}

impl<'a> MediaFiles<'a> {
    pub fn new(dir: Option<&'a Path>, stem: &'a str, read_command: String) -> MediaFiles<'a> {
        MediaFiles {
            dir,
            stem,
            read_command,
            saved: 0,
        }
    }

    /// Decodes `data` (base64) into the next file of the directory; its path.
    fn save(&mut self, data: &str, mime_type: &str) -> Result<Option<PathBuf>> {
        let Some(dir) = self.dir else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .with_context(|| {
                format!("the server sent {mime_type} data that is not valid base64")
            })?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        self.saved += 1;
        let path = dir.join(format!(
            "{}-{}.{}",
            self.stem,
            self.saved,
            extension(mime_type)
        ));
        super::mcp_resources::write_file(&path, &bytes)?;
        Ok(Some(path))
    }

    /// One block as text, ending in a newline; images and audio saved
    /// when there is a directory.
    pub fn render(&mut self, content: &ContentBlock) -> Result<String> {
        let mut text = match content {
            ContentBlock::Text(item) => item.text.clone(),
            ContentBlock::Image(image) => self.media("image", &image.data, &image.mime_type)?,
            ContentBlock::Audio(audio) => self.media("audio", &audio.data, &audio.mime_type)?,
            ContentBlock::Resource(embedded) => match &embedded.resource {
                ResourceContents::TextResourceContents { uri, text, .. } => {
                    format!("[resource {uri}]\n{text}")
                }
                ResourceContents::BlobResourceContents {
                    uri,
                    mime_type,
                    blob,
                    ..
                } => format!(
                    "[resource {uri}: {}, {} bytes of base64; `{} {uri} --output FILE` saves it]",
                    mime_type.as_deref().unwrap_or("binary"),
                    blob.len(),
                    self.read_command
                ),
                other => serde_json::to_string(other).unwrap_or_default(),
            },
            ContentBlock::ResourceLink(link) => {
                let mut about = vec![link.name.clone()];
                about.extend(link.mime_type.clone());
                about.extend(link.description.clone());
                format!(
                    "[resource link {}: {}; `{} {}` reads it]",
                    link.uri,
                    about.join(", "),
                    self.read_command,
                    link.uri
                )
            }
            // The enum is non-exhaustive: newer content kinds print as JSON.
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }

    fn media(&mut self, kind: &str, data: &str, mime_type: &str) -> Result<String> {
        Ok(match self.save(data, mime_type)? {
            Some(path) => format!("[{kind}: {mime_type}, saved to {}]", path.display()),
            None => format!(
                "[{kind}: {mime_type}, {} bytes of base64; `--output-dir DIR` saves it]",
                data.len()
            ),
        })
    }
}

/// A file extension for a MIME type (`bin` when unknown).
fn extension(mime_type: &str) -> &'static str {
    match mime_type.split(';').next().unwrap_or("").trim() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/flac" => "flac",
        "audio/webm" => "webm",
        _ => "bin",
    }
}
