//! docs/api.md is the host's OpenAPI document (`GET /v1/openapi.json`) rendered as Markdown,
//! below a hand-written preamble. This test renders the document the host serves and fails
//! when docs/api.md says anything else; `SOFTPOS_BLESS=1` writes the rendering instead:
//!
//! ```sh
//! SOFTPOS_BLESS=1 cargo test -p softpos-host --test api_doc
//! ```

mod common;

use common::*;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The line that ends the preamble; everything after it is generated.
const MARKER: &str = "<!-- Generated from GET /v1/openapi.json by host/tests/api_doc.rs; \
edit the preamble above, not what follows (SOFTPOS_BLESS=1 cargo test -p softpos-host --test api_doc). -->";

/// The calls in the order of a terminal's day; any other path follows, sorted.
const ORDER: [&str; 9] = [
    "/v1/activate",
    "/v1/sign-in",
    "/v1/transactions",
    "/v1/reversals",
    "/v1/batches/current",
    "/v1/settlements",
    "/v1/settlements/{batch_no}/upload",
    "/v1/sign-off",
    "/healthz",
];

#[test]
fn docs_api_md_is_the_openapi_document_the_host_serves() {
    let db = Db::new(Backend::Sqlite);
    let host = Host::start(&db, &[]);
    let (status, doc) = host.get("/v1/openapi.json", None);
    assert_eq!(status, 200, "{doc}");

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let preamble = match current.find(MARKER) {
        Some(at) => &current[..at],
        None => "# The HTTP API\n\n",
    };
    let wanted = format!("{preamble}{MARKER}\n\n{}", render(&doc));
    if std::env::var_os("SOFTPOS_BLESS").is_some() {
        std::fs::write(&path, &wanted).unwrap();
        return;
    }
    assert!(
        current.contains(MARKER),
        "docs/api.md lacks the line that ends its preamble; run \
         SOFTPOS_BLESS=1 cargo test -p softpos-host --test api_doc"
    );
    if current != wanted {
        let line = current
            .lines()
            .zip(wanted.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(wanted.lines().count()));
        panic!(
            "docs/api.md differs from the OpenAPI document the host serves, from line {}:\n\
             docs/api.md: {:?}\nrendered:    {:?}\n\
             Regenerate it with: SOFTPOS_BLESS=1 cargo test -p softpos-host --test api_doc",
            line + 1,
            current.lines().nth(line).unwrap_or("(end)"),
            wanted.lines().nth(line).unwrap_or("(end)"),
        );
    }
}

/// The whole generated part: the calls, then the types they use.
fn render(doc: &Value) -> String {
    let mut out = String::new();
    let info = &doc["info"];
    writeln!(
        out,
        "OpenAPI {}, \"{}\" version {}.\n",
        text(&doc["openapi"]),
        text(&info["title"]),
        text(&info["version"])
    )
    .unwrap();
    out.push_str("## Calls\n\n");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let mut names: Vec<&String> = paths.keys().collect();
    names.sort_by_key(|p| (ORDER.iter().position(|o| o == p).unwrap_or(ORDER.len()), *p));
    for path in names {
        let ops = paths[path].as_object().cloned().unwrap_or_default();
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = ops.get(method) {
                render_call(&mut out, &method.to_uppercase(), path, op);
            }
        }
    }
    out.push_str("## Types\n\n");
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, schema) in &schemas {
        render_schema(&mut out, name, schema);
    }
    out
}

fn render_call(out: &mut String, method: &str, path: &str, op: &Value) {
    writeln!(out, "### `{method} {path}`\n").unwrap();
    for key in ["summary", "description"] {
        if let Some(s) = op[key].as_str().filter(|s| !s.is_empty()) {
            writeln!(out, "{}\n", one_line(s)).unwrap();
        }
    }
    let credential = if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
        "`Authorization: Bearer …` (see Credentials)"
    } else {
        "none"
    };
    writeln!(out, "- Credential: {credential}").unwrap();
    for p in op["parameters"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "- {} parameter `{}`: {}. {}",
            upper_first(&text(&p["in"])),
            text(&p["name"]),
            ty(&p["schema"]),
            one_line(p["description"].as_str().unwrap_or(""))
        )
        .unwrap();
    }
    if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
        writeln!(out, "- Request body (`application/json`): {}", ty(body)).unwrap();
    }
    out.push_str("\n| status | answer |\n|---|---|\n");
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    for (status, answer) in &responses {
        let body = answer
            .pointer("/content/application~1json/schema")
            .map_or_else(|| "—".to_owned(), ty);
        writeln!(out, "| {status} | {} |", cell(&body)).unwrap();
    }
    out.push('\n');
}

fn render_schema(out: &mut String, name: &str, schema: &Value) {
    writeln!(out, "### `{name}`\n").unwrap();
    if let Some(d) = schema["description"].as_str() {
        writeln!(out, "{}\n", one_line(d)).unwrap();
    }
    if let Some(variants) = schema["oneOf"].as_array() {
        writeln!(out, "One of {}:\n", variants.len()).unwrap();
        for (n, v) in variants.iter().enumerate() {
            let kind = v
                .pointer("/properties/kind/enum/0")
                .and_then(Value::as_str)
                .map(|k| format!(" (`kind`: `{k}`)"))
                .unwrap_or_default();
            let what = v["description"]
                .as_str()
                .filter(|d| Some(*d) != schema["description"].as_str())
                .map(|d| format!(": {}", one_line(d)))
                .unwrap_or_default();
            if v.get("$ref").is_some() {
                // A variant that is a schema of its own: named, not repeated.
                let what = v["description"].as_str().map(one_line).unwrap_or_default();
                writeln!(out, "**Variant {}**: {}. {what}\n", n + 1, ty(v)).unwrap();
                continue;
            }
            writeln!(out, "**Variant {}**{kind}{what}\n", n + 1).unwrap();
            render_object(out, v);
        }
        return;
    }
    if schema.get("properties").is_some() {
        render_object(out, schema);
    } else {
        writeln!(out, "{}.\n", upper_first(&ty(schema))).unwrap();
    }
}

fn render_object(out: &mut String, schema: &Value) {
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    // Required fields in the order the type declares them, then the optional ones.
    let mut fields: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| props.contains_key(*r))
        .collect();
    fields.extend(
        props
            .keys()
            .map(String::as_str)
            .filter(|k| !required.contains(k)),
    );
    if schema["additionalProperties"] == Value::Bool(false) {
        out.push_str("Other fields are refused.\n\n");
    }
    out.push_str("| field | type | required | what |\n|---|---|---|---|\n");
    for f in fields {
        let p = &props[f];
        writeln!(
            out,
            "| `{f}` | {} | {} | {} |",
            cell(&ty(p)),
            if required.contains(&f) { "yes" } else { "no" },
            cell(&description(p))
        )
        .unwrap();
    }
    out.push('\n');
}

/// A schema's type in a few words, with its bounds, pattern and example.
fn ty(s: &Value) -> String {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[`{name}`](#{})", name.to_lowercase());
    }
    if let Some(variants) = s["oneOf"].as_array() {
        let (nulls, others): (Vec<&Value>, Vec<&Value>) =
            variants.iter().partition(|v| v["type"] == "null");
        let mut words: Vec<String> = others.into_iter().map(ty).collect();
        if !nulls.is_empty() {
            words.push("null".into());
        }
        return words.join(" or ");
    }
    let (base, nullable) = match &s["type"] {
        Value::String(t) => (t.clone(), false),
        Value::Array(ts) => {
            let ts: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            let base: Vec<&str> = ts.iter().copied().filter(|t| *t != "null").collect();
            (base.join(" or "), ts.contains(&"null"))
        }
        _ => ("any".to_owned(), false),
    };
    let mut words = match base.as_str() {
        "array" => format!("array of {}", ty(&s["items"])),
        "object" => object_words(s),
        _ => base,
    };
    if let Some(f) = s["format"].as_str() {
        write!(words, " ({f})").unwrap();
    }
    words.push_str(&bounds(s));
    if let Some(values) = s["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("`{}`", text(v))).collect();
        write!(words, ": {}", values.join(", ")).unwrap();
    }
    if let Some(p) = s["pattern"].as_str() {
        write!(words, ", pattern `{p}`").unwrap();
    }
    if let Some(e) = s.get("example") {
        write!(words, ", e.g. `{}`", text(e)).unwrap();
    }
    if nullable {
        words.push_str(", or null");
    }
    words
}

/// An inline object: its fields, or a map's values.
fn object_words(s: &Value) -> String {
    match s["properties"].as_object() {
        Some(props) => {
            let fields: Vec<String> = props
                .iter()
                .map(|(k, v)| format!("`{k}`: {}", ty(v)))
                .collect();
            format!("object {{{}}}", fields.join("; "))
        }
        None => "object".to_owned(),
    }
}

fn bounds(s: &Value) -> String {
    match (s.get("minimum"), s.get("maximum")) {
        (Some(lo), Some(hi)) => format!(", {lo}..={hi}"),
        (Some(lo), None) => format!(", at least {lo}"),
        (None, Some(hi)) => format!(", at most {hi}"),
        (None, None) => match (s.get("minLength"), s.get("maxLength")) {
            (Some(lo), Some(hi)) => format!(", {lo} to {hi} characters"),
            (Some(lo), None) if lo == 1 => ", not empty".to_owned(),
            (Some(lo), None) => format!(", at least {lo} characters"),
            (None, Some(hi)) => format!(", at most {hi} characters"),
            (None, None) => String::new(),
        },
    }
}

/// A field's description, found beside a `$ref` or inside the non-null variant of an option.
fn description(p: &Value) -> String {
    if let Some(d) = p["description"].as_str() {
        return one_line(d);
    }
    p["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|v| v["description"].as_str())
        .map(one_line)
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a table cell: a `|` would end the cell, even inside backticks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
