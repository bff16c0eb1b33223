//! Content blocks (of tool results and prompt messages) for a person.

use rmcp::model::ContentBlock;

/// One block as text: text as is, other content described, ending in a
/// newline.
pub fn render_block(content: &ContentBlock) -> String {
    let mut text = match content {
        ContentBlock::Text(item) => item.text.clone(),
        ContentBlock::Image(image) => format!(
            "[image: {}, {} bytes of base64]",
            image.mime_type,
            image.data.len()
        ),
        ContentBlock::Audio(audio) => format!(
            "[audio: {}, {} bytes of base64]",
            audio.mime_type,
            audio.data.len()
        ),
        ContentBlock::Resource(resource) => format!(
            "[resource: {}]",
            serde_json::to_string(&resource.resource).unwrap_or_default()
        ),
        ContentBlock::ResourceLink(link) => format!("[resource link: {}]", link.uri),
        // The enum is non-exhaustive: newer content kinds print as JSON.
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}
