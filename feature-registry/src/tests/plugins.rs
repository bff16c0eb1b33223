use crate::{NameRole, Origin, Registry, RegistryError, Resolver, Source, Stage};

#[test]
fn plugin_features_carry_their_origin_and_resolve() {
    let mut registry = Registry::builtin();
    registry
        .register_plugin_feature(
            "acme",
            "acme_vault_cache",
            Stage::Beta,
            true,
            "Cache vault reads",
        )
        .unwrap();
    registry
        .register_plugin_feature(
            "ws",
            "ws_compression",
            Stage::Experimental,
            false,
            "Compress frames",
        )
        .unwrap();

    let feature = registry.get("acme_vault_cache").unwrap();
    assert_eq!(feature.origin(), &Origin::Plugin("acme".into()));
    assert_eq!(feature.origin().to_string(), "plugin `acme`");
    assert_eq!(feature.stage(), Stage::Beta);
    assert!(feature.default_enabled());
    assert_eq!(feature.description(), "Cache vault reads");
    assert_eq!(feature.declared_at(), None);
    assert!(registry.iter().any(|f| f.key() == "ws_compression"));

    let mut resolver = Resolver::new(&registry);
    resolver
        .apply(Source::CommandLine, "ws_compression", true)
        .unwrap();
    let resolved = resolver.resolve();
    assert_eq!(resolved.enabled("ws_compression"), Some(true));
    assert_eq!(resolved.enabled("acme_vault_cache"), Some(true));
    assert_eq!(
        resolved.get("acme_vault_cache").unwrap().source,
        Source::Default
    );
}

#[test]
fn a_plugin_cannot_take_a_codex_key_or_alias() {
    let mut registry = Registry::builtin();
    let error = registry
        .register_plugin_feature("acme", "unified_exec", Stage::Stable, false, "Mine")
        .unwrap_err();
    let RegistryError::AlreadyDeclared {
        name,
        new,
        existing,
        existing_role,
        ..
    } = &error
    else {
        panic!("unexpected {error}");
    };
    assert_eq!(name, "unified_exec");
    assert_eq!(new.origin, Origin::Plugin("acme".into()));
    assert_eq!(existing.origin, Origin::Codex);
    assert_eq!(*existing_role, NameRole::Key);
    let message = error.to_string();
    assert!(message.contains("plugin `acme`"), "{message}");
    assert!(
        message.contains("Codex's feature list (feature-registry/src/codex_catalog.rs)"),
        "{message}"
    );

    let error = registry
        .register_plugin_feature("acme", "collab", Stage::Stable, false, "Mine")
        .unwrap_err();
    assert!(
        matches!(
            &error,
            RegistryError::AlreadyDeclared {
                existing_role: NameRole::Alias,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("already declared as an alias by Codex's feature list"),
        "{error}"
    );
    // The refused declarations left the host's features untouched.
    assert_eq!(
        registry.get("unified_exec").unwrap().origin(),
        &Origin::Codex
    );
}

#[test]
fn two_plugins_cannot_declare_the_same_key() {
    let mut registry = Registry::empty();
    registry
        .register_plugin_feature("first", "shared_key", Stage::Stable, true, "One")
        .unwrap();
    let error = registry
        .register_plugin_feature("second", "shared_key", Stage::Stable, false, "Two")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "feature key `shared_key` declared by plugin `second` is already declared as a key by \
         plugin `first`; rename one of them"
    );
    let feature = registry.get("shared_key").unwrap();
    assert_eq!(feature.origin(), &Origin::Plugin("first".into()));
    assert_eq!(registry.len(), 1);
}

#[test]
fn plugin_declarations_follow_the_same_rules() {
    let mut registry = Registry::empty();
    let cases = [
        ("Bad-Key", Stage::Stable, false, "ok"),
        ("wip_on", Stage::UnderDevelopment, true, "ok"),
        ("experiment_on", Stage::Experimental, true, "ok"),
        ("two_lines", Stage::Stable, false, "one\ntwo"),
        ("empty_description", Stage::Stable, false, ""),
    ];
    for (key, stage, default, description) in cases {
        let error = registry
            .register_plugin_feature("acme", key, stage, default, description)
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.contains("plugin `acme`'s manifest"), "{message}");
    }
    assert!(registry.is_empty());
}
