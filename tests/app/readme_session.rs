//! The README's example API session, run command by command against a fresh instance: each
//! `curl` line is read as curl reads it (method, headers, body, address), sent, and must succeed;
//! each `# NAME = path` takes NAME from the answer, as the README tells the reader to.
use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::Value;

use super::helpers::*;

const README: &str = include_str!("../../README.md");

/// The lines of the session's shell block, continuation lines joined.
fn session_lines() -> Vec<String> {
    let start = README.find("<!-- example-session -->").expect("the README has the example session");
    let block = &README[start..];
    let open = block.find("```sh\n").expect("a sh block follows the marker") + "```sh\n".len();
    let body = &block[open..open + block[open..].find("```").expect("the block ends")];
    body.replace("\\\n", " ").lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

/// Shell words, as sh splits them: quotes group, `$NAME` expands outside single quotes.
fn words(line: &str, vars: &HashMap<String, String>) -> Vec<String> {
    let mut out = vec![];
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    let expand = |chars: &mut std::iter::Peekable<std::str::Chars>, w: &mut String| {
        let mut name = String::new();
        while let Some(c) = chars.peek().filter(|c| c.is_ascii_uppercase() || **c == '_') {
            name.push(*c);
            chars.next();
        }
        w.push_str(vars.get(&name).unwrap_or_else(|| panic!("${name} is used before the session sets it")));
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => out.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        '$' => expand(&mut chars, w),
                        c => w.push(c),
                    }
                }
            }
            '$' => expand(&mut chars, word.get_or_insert_with(String::new)),
            '#' if word.is_none() => break, // a comment
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

/// A value at `data[0].id`-like paths.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, part| match part.split_once('[') {
        Some((key, index)) => &v[key][index.trim_end_matches(']').parse::<usize>().unwrap()],
        None => &v[part],
    })
}

#[tokio::test]
async fn the_readme_example_session_works_as_written() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Leesmij", "readme").await;
    let http = reqwest::Client::new();
    // What the reader brings: the address and a token made on the account page.
    let mut vars = HashMap::from([
        ("API".to_string(), format!("{}/api/v1", app.address)),
        ("TOKEN".to_string(), s.hr_api.token.clone()),
    ]);
    let mut last: Option<(reqwest::header::HeaderMap, Value)> = None;
    let mut commands = 0;
    for line in session_lines() {
        if let Some(take) = line.strip_prefix("# ").and_then(|l| l.split_once(" = ")) {
            let (name, path) = take;
            let (headers, body) = last.as_ref().expect("a command comes before what it gives");
            let value = match path.strip_prefix("header ") {
                Some(h) => headers[h].to_str().unwrap().to_string(),
                None => match at(body, path) {
                    Value::String(s) => s.clone(),
                    Value::Null => panic!("the answer has no {path}: {body}"),
                    v => v.to_string(),
                },
            };
            vars.insert(name.to_string(), value);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let w = words(&line, &vars);
        if w[0] != "curl" {
            // `NAME=value`: the reader's own values; the test brought its own for them.
            let name = w[0].split('=').next().unwrap();
            assert!(vars.contains_key(name), "the session sets {name} by hand: the test does not know it");
            continue;
        }
        let (mut method, mut url, mut body) = ("GET".to_string(), None, None);
        let mut req_headers = vec![];
        let mut args = w[1..].iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "-s" | "-i" => {}
                "-X" => method = args.next().unwrap().clone(),
                "-H" => req_headers.push(args.next().unwrap().clone()),
                "-d" => body = args.next().cloned(),
                other if other.starts_with('-') => panic!("the test does not know curl's {other}"),
                other => url = Some(other.to_string()),
            }
        }
        if body.is_some() && method == "GET" {
            method = "POST".into(); // as curl does with -d
        }
        let url = url.expect("every curl line has an address");
        let mut req = http.request(method.parse().unwrap(), &url);
        for h in &req_headers {
            let (k, v) = h.split_once(": ").unwrap();
            req = req.header(k, v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{method} {url}: {text}");
        last = Some((headers, serde_json::from_str(&text).unwrap_or(Value::Null)));
        commands += 1;
    }
    assert_eq!(commands, 6, "the session's commands all ran");
    // It did what it says: a new token, evidence on the item, the item submitted.
    assert_ne!(vars["TOKEN"], s.hr_api.token);
    assert_eq!(vars["STATUS"], "submitted");
    let item = s.hr_api.get_json(&format!("/items/{}", vars["ITEM"])).await;
    assert_eq!(item["evidence"][0]["title"], "MT-verslag");
    assert_eq!(s.advisor.get_json("/review-queue").await["data"][0]["item_id"].to_string(), vars["ITEM"]);
}
