/// An e-mail address that passed a sanity check (one @, something on both sides, a dot in the
/// domain, no spaces); stored lower-case so that logins are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Option<EmailAddress> {
        let s = input.trim().to_lowercase();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (local, domain) = s.split_once('@')?;
        if local.is_empty() || domain.contains('@') || domain.starts_with('.') || domain.ends_with('.') {
            return None;
        }
        if !domain.contains('.') && domain != "localhost" {
            return None;
        }
        Some(EmailAddress(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_them() {
        assert_eq!(EmailAddress::parse(" An@Example.org ").unwrap().as_str(), "an@example.org");
    }

    #[test]
    fn rejects_addresses_without_domain_or_with_spaces() {
        for bad in ["", "an", "an@", "@example.org", "a n@example.org", "an@example", "a@b@c.nl"] {
            assert!(EmailAddress::parse(bad).is_none(), "{bad}");
        }
    }
}
