//! Markdown → Atlassian Document Format, minimal but valid: paragraphs (lines
//! joined by hard breaks), bullet lists, `**bold**`, `*italic*`/`_italic_`,
//! `` `code` `` and `[text](url)`. Anything else stays literal text.
//!
//! ADF rules kept here: text nodes are never empty, a `code` mark combines
//! only with `link`, list items hold unmarked paragraphs.

use serde_json::{json, Value};

/// The ADF document of a Markdown text.
pub fn from_markdown(markdown: &str) -> Value {
    let mut blocks: Vec<Value> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut items: Vec<&str> = Vec::new();
    for line in markdown.lines() {
        if line.trim().is_empty() {
            flush_paragraph(&mut blocks, &mut paragraph);
            flush_list(&mut blocks, &mut items);
        } else if let Some(item) = bullet(line) {
            flush_paragraph(&mut blocks, &mut paragraph);
            items.push(item);
        } else {
            flush_list(&mut blocks, &mut items);
            paragraph.push(line.trim_end());
        }
    }
    flush_paragraph(&mut blocks, &mut paragraph);
    flush_list(&mut blocks, &mut items);
    json!({"type": "doc", "version": 1, "content": blocks})
}

fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    ["- ", "* ", "+ "]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .map(str::trim)
}

fn flush_paragraph(blocks: &mut Vec<Value>, lines: &mut Vec<&str>) {
    if lines.is_empty() {
        return;
    }
    let mut content = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            content.push(json!({"type": "hardBreak"}));
        }
        content.extend(inline(line));
    }
    blocks.push(json!({"type": "paragraph", "content": content}));
    lines.clear();
}

fn flush_list(blocks: &mut Vec<Value>, items: &mut Vec<&str>) {
    if items.is_empty() {
        return;
    }
    let content: Vec<Value> = items
        .iter()
        .map(|item| {
            json!({"type": "listItem", "content": [{"type": "paragraph", "content": inline(item)}]})
        })
        .collect();
    blocks.push(json!({"type": "bulletList", "content": content}));
    items.clear();
}

/// Marks in force while scanning.
#[derive(Clone, Default)]
struct Marks {
    strong: bool,
    em: bool,
    link: Option<String>,
}

impl Marks {
    fn text(&self, text: &str, code: bool) -> Option<Value> {
        if text.is_empty() {
            return None;
        }
        let mut marks = Vec::new();
        if code {
            marks.push(json!({"type": "code"}));
        } else {
            if self.strong {
                marks.push(json!({"type": "strong"}));
            }
            if self.em {
                marks.push(json!({"type": "em"}));
            }
        }
        if let Some(href) = &self.link {
            marks.push(json!({"type": "link", "attrs": {"href": href}}));
        }
        Some(if marks.is_empty() {
            json!({"type": "text", "text": text})
        } else {
            json!({"type": "text", "text": text, "marks": marks})
        })
    }
}

/// The inline nodes of one line.
pub fn inline(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    scan(text, &Marks::default(), &mut out);
    out
}

fn scan(text: &str, marks: &Marks, out: &mut Vec<Value>) {
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some((consumed, nodes)) = span(rest, plain.chars().last(), marks) {
            out.extend(marks.text(&plain, false));
            plain.clear();
            out.extend(nodes);
            rest = &rest[consumed..];
        } else {
            plain.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out.extend(marks.text(&plain, false));
}

/// A marked span at the start of `s`: bytes consumed and its nodes.
fn span(s: &str, before: Option<char>, marks: &Marks) -> Option<(usize, Vec<Value>)> {
    if let Some(body) = s.strip_prefix('`') {
        let end = body.find('`').filter(|&e| e > 0)?;
        return Some((
            end + 2,
            marks.text(&body[..end], true).into_iter().collect(),
        ));
    }
    if let Some(body) = s.strip_prefix("**") {
        let end = body.find("**").filter(|&e| e > 0)?;
        let inner = Marks {
            strong: true,
            ..marks.clone()
        };
        return Some((end + 4, nested(&body[..end], &inner)));
    }
    if let Some(delim) = s.chars().next().filter(|c| *c == '*' || *c == '_') {
        if before.is_some_and(char::is_alphanumeric) {
            return None;
        }
        let body = &s[1..];
        let end = body.find(delim).filter(|&e| e > 0)?;
        let inner_text = &body[..end];
        let after = body[end + 1..].chars().next();
        if inner_text.starts_with(' ') || after.is_some_and(char::is_alphanumeric) {
            return None;
        }
        let inner = Marks {
            em: true,
            ..marks.clone()
        };
        return Some((end + 2, nested(inner_text, &inner)));
    }
    if s.starts_with('[') && marks.link.is_none() {
        let close = s.find("](")?;
        let url_end = s[close + 2..].find(')')? + close + 2;
        let (label, href) = (&s[1..close], &s[close + 2..url_end]);
        if label.is_empty() || href.is_empty() || href.contains(char::is_whitespace) {
            return None;
        }
        let inner = Marks {
            link: Some(href.to_string()),
            ..marks.clone()
        };
        return Some((url_end + 1, nested(label, &inner)));
    }
    None
}

fn nested(text: &str, marks: &Marks) -> Vec<Value> {
    let mut out = Vec::new();
    scan(text, marks, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks_of(node: &Value) -> Vec<&str> {
        node["marks"]
            .as_array()
            .map(|m| m.iter().map(|m| m["type"].as_str().unwrap()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn paragraphs_split_on_blank_lines_and_lines_join_with_hard_breaks() {
        let doc = from_markdown("one\ntwo\n\nthree");
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["version"], 1);
        let blocks = doc["content"].as_array().unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0]["content"][1]["type"], "hardBreak");
        assert_eq!(blocks[1]["content"][0]["text"], "three");
    }

    #[test]
    fn inline_marks_and_links() {
        let nodes = inline("a **b** *c* `d` [e](https://x.test/e) _f_ snake_case");
        let texts: Vec<(&str, Vec<&str>)> = nodes
            .iter()
            .map(|n| (n["text"].as_str().unwrap(), marks_of(n)))
            .collect();
        assert!(texts.contains(&("b", vec!["strong"])));
        assert!(texts.contains(&("c", vec!["em"])));
        assert!(texts.contains(&("d", vec!["code"])));
        assert!(texts.contains(&("e", vec!["link"])));
        assert!(texts.contains(&("f", vec!["em"])));
        assert_eq!(texts.last().unwrap().0, " snake_case");
        let link = nodes.iter().find(|n| n["text"] == "e").unwrap();
        assert_eq!(link["marks"][0]["attrs"]["href"], "https://x.test/e");
    }

    #[test]
    fn code_inside_bold_keeps_only_the_code_mark() {
        let nodes = inline("**see `x` now**");
        let code = nodes.iter().find(|n| n["text"] == "x").unwrap();
        assert_eq!(marks_of(code), vec!["code"]);
    }

    #[test]
    fn bullet_lists_hold_unmarked_paragraphs() {
        let doc = from_markdown("intro\n- one\n- **two**\n\nafter");
        let blocks = doc["content"].as_array().unwrap();
        assert_eq!(blocks[1]["type"], "bulletList");
        let items = blocks[1]["content"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["content"][0]["type"], "paragraph");
        assert_eq!(items[1]["content"][0]["content"][0]["text"], "two");
        assert_eq!(blocks[2]["content"][0]["text"], "after");
    }

    #[test]
    fn unclosed_markers_and_empty_spans_stay_literal() {
        for md in ["**open", "`", "``", "[x](", "* ", "a * b", "[](u)"] {
            let doc = from_markdown(md);
            let text = doc.to_string();
            assert!(!text.contains("\"text\":\"\""), "{md}: {text}");
        }
        assert_eq!(inline("**open")[0]["text"], "**open");
        assert_eq!(from_markdown("")["content"], json!([]));
    }
}
