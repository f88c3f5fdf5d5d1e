//! Two people editing the same thing: a resource's entity tag names the state it was read in,
//! and a write that says `If-Match` goes through only while the resource is still in that state
//! (otherwise 412, and nothing changes). Tags are compared strongly (RFC 9110, 13.1.1).
use sha2::{Digest, Sha256};

/// The entity tag of a state made of these parts (quoted, as the `ETag` header carries it).
pub fn etag(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    format!("\"{}\"", &hex::encode(h.finalize())[..24])
}

/// What an `If-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current state.
    Any,
    /// One of these strong tags (weak ones never match a write).
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn parse(header: &str) -> IfMatch {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        let mut tags = vec![];
        let mut rest = header;
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let weak = rest.starts_with("W/");
            let body = rest.strip_prefix("W/").unwrap_or(rest);
            let Some(inner) = body.strip_prefix('"') else { break };
            let Some(end) = inner.find('"') else { break };
            if !weak {
                tags.push(format!("\"{}\"", &inner[..end]));
            }
            rest = &inner[end + 1..];
        }
        IfMatch::Tags(tags)
    }

    /// Whether a resource now tagged `current` may be written.
    pub fn allows(&self, current: &str) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| t == current),
        }
    }
}

/// Whether a write expecting `expected` (none: the client did not ask) may go ahead.
pub fn holds(expected: Option<&IfMatch>, current: &str) -> bool {
    expected.is_none_or(|m| m.allows(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_the_state_and_changes_with_it() {
        assert_eq!(etag(&["1", "open"]), etag(&["1", "open"]));
        assert_ne!(etag(&["1", "open"]), etag(&["1", "submitted"]));
        // Parts are separated: "ab"+"c" is not "a"+"bc".
        assert_ne!(etag(&["ab", "c"]), etag(&["a", "bc"]));
        assert!(etag(&["x"]).starts_with('"') && etag(&["x"]).ends_with('"'));
    }

    #[test]
    fn if_match_takes_a_list_star_and_refuses_weak_tags() {
        let t = etag(&["1"]);
        assert!(IfMatch::parse(&t).allows(&t));
        assert!(IfMatch::parse(&format!("\"other\", {t}")).allows(&t));
        assert!(IfMatch::parse("*").allows(&t));
        assert!(!IfMatch::parse(&format!("W/{t}")).allows(&t));
        assert!(!IfMatch::parse("\"stale\"").allows(&t));
        assert!(!IfMatch::parse("garbage").allows(&t));
        assert!(!IfMatch::parse("").allows(&t));
        assert!(holds(None, &t));
        assert!(!holds(Some(&IfMatch::parse("\"stale\"")), &t));
    }
}
