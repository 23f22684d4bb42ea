//! config.example.toml stays a valid config that documents every key.

mod common;

#[test]
fn the_example_config_is_valid_and_names_every_key() {
    let text = std::fs::read_to_string(common::repo_file("config.example.toml")).unwrap();
    // Uncomment every commented `key = value` line: the result must still parse.
    let is_setting = |t: &str| {
        t.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
    };
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(t) if is_setting(t) => t.split("   #").next().unwrap().trim_end().to_string(),
            Some(t) if t.starts_with('[') && t.ends_with(']') => t.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let layer: paper_digest::config::Layer = toml::from_str(&uncommented).unwrap_or_else(|e| {
        panic!("config.example.toml with every key set does not parse: {e}\n{uncommented}")
    });
    assert!(
        layer.smtp.host.is_some()
            && layer.mail.to.is_some()
            && layer.db.is_some()
            && layer.templates_dir.is_some()
    );
    let readers = layer
        .recipient
        .as_ref()
        .expect("the [[recipient]] example parses");
    let profile = readers[0].profile.as_ref().unwrap();
    assert_eq!(profile.include, ["diffusion", "video generation"]);
    for key in [
        "db",
        "timezone",
        "templates_dir",
        "kind",
        "url",
        "api_sort",
        "api_limit",
        "timeout",
        "connect_timeout",
        "retries",
        "backoff",
        "max_retry_after",
        "max_body_bytes",
        "from",
        "to",
        "transport",
        "output_dir",
        "sendmail_command",
        "send_empty",
        "summary",
        "max_authors",
        "catch_up_days",
        "host",
        "security",
        "port",
        "username",
        "password_file",
        "ca_file",
        "allow_insecure",
        "accept_invalid_certs",
        "retries",
        "backoff",
        "lock_timeout",
        "shape_guard",
        "shape_guard_window",
        "climbing",
        "climb_places",
        "climb_upvotes",
        "address",
        "name",
        "include",
        "exclude",
        "authors",
        "organizations",
        "min_upvotes",
        "min_stars",
        "max_papers",
    ] {
        assert!(
            uncommented
                .lines()
                .any(|l| l.starts_with(&format!("{key} = "))),
            "{key} is not documented"
        );
    }
}
