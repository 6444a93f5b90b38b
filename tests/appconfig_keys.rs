//! Managed app configuration (the README's table of keys): every key in its spellings, the
//! defaults, and errors that name the key and say what is accepted.

use indset::{AppConfig, AppConfigError};

const DEFAULT: AppConfig = AppConfig {
    web_protection: true,
    supervised: false,
    exclude_url_in_report: false,
};

/// Configuration, and the settings it gives: (protection, supervised, exclude).
type Case = (&'static str, (bool, bool, bool));

fn settings(config: AppConfig) -> (bool, bool, bool) {
    (
        config.web_protection,
        config.supervised,
        config.exclude_url_in_report,
    )
}

fn check(cases: &[Case]) {
    for &(json, expected) in cases {
        let config = AppConfig::from_json(json).unwrap_or_else(|err| panic!("{json}: {err}"));
        assert_eq!(settings(config), expected, "{json}");
    }
}

const DEFAULTS: &[Case] = &[
    ("{}", (true, false, false)),
    (" { } ", (true, false, false)),
    ("\u{feff}{}", (true, false, false)),
];

const WEB_PROTECTION: &[Case] = &[
    (r#"{"WebProtection": false}"#, (false, false, false)),
    (r#"{"WebProtection": true}"#, (true, false, false)),
    (r#"{"WebProtection": "false"}"#, (false, false, false)),
    (r#"{"WebProtection": "true"}"#, (true, false, false)),
    (r#"{"WebProtection": "FALSE"}"#, (false, false, false)),
    (r#"{"WebProtection": "False"}"#, (false, false, false)),
    (r#"{"WebProtection": " false "}"#, (false, false, false)),
    (r#"{"webprotection": "false"}"#, (false, false, false)),
    (r#"{"WEBPROTECTION": false}"#, (false, false, false)),
];

const SUPERVISED: &[Case] = &[
    (r#"{"issupervised": true}"#, (true, true, false)),
    (r#"{"issupervised": false}"#, (true, false, false)),
    (r#"{"issupervised": "true"}"#, (true, true, false)),
    (r#"{"issupervised": "false"}"#, (true, false, false)),
    (r#"{"issupervised": "TRUE"}"#, (true, true, false)),
    (r#"{"IsSupervised": "True"}"#, (true, true, false)),
    (r#"{"ISSUPERVISED": true}"#, (true, true, false)),
];

const EXCLUDE_URL_IN_REPORT: &[Case] = &[
    (
        r#"{"DefenderExcludeURLInReport": true}"#,
        (true, false, true),
    ),
    (
        r#"{"DefenderExcludeURLInReport": false}"#,
        (true, false, false),
    ),
    (
        r#"{"DefenderExcludeURLInReport": "true"}"#,
        (true, false, true),
    ),
    (
        r#"{"DefenderExcludeURLInReport": "tRuE"}"#,
        (true, false, true),
    ),
    (
        r#"{"defenderexcludeurlinreport": "true"}"#,
        (true, false, true),
    ),
    (
        r#"{"DefenderExcludeUrlInReport": true}"#,
        (true, false, true),
    ),
];

const COMBINED: &[Case] = &[
    (
        r#"{"WebProtection": "false", "issupervised": "true", "DefenderExcludeURLInReport": "true"}"#,
        (false, true, true),
    ),
    (
        r#"{"WebProtection": true, "issupervised": false, "DefenderExcludeURLInReport": false}"#,
        (true, false, false),
    ),
    // Two spellings that agree are fine.
    (
        r#"{"issupervised": "true", "IsSupervised": true}"#,
        (true, true, false),
    ),
    // The exact same key twice: the JSON parser keeps the last.
    (
        r#"{"issupervised": "true", "issupervised": "false"}"#,
        (true, false, false),
    ),
];

const UNKNOWN_KEYS: &[Case] = &[
    (r#"{"Other": 1}"#, (true, false, false)),
    (
        r#"{"Other": {"nested": [1, 2]}, "issupervised": true}"#,
        (true, true, false),
    ),
    // Not the key: ignored, even with a value that would be an error.
    (r#"{"Web Protection": "maybe"}"#, (true, false, false)),
    (r#"{"supervised": "maybe"}"#, (true, false, false)),
    (
        r#"{"DefenderExcludeURLInReports": 7}"#,
        (true, false, false),
    ),
];

#[test]
fn defaults() {
    assert_eq!(AppConfig::default(), DEFAULT);
    check(DEFAULTS);
}

#[test]
fn web_protection() {
    check(WEB_PROTECTION);
}

#[test]
fn supervised() {
    check(SUPERVISED);
}

#[test]
fn exclude_url_in_report() {
    check(EXCLUDE_URL_IN_REPORT);
}

#[test]
fn combined() {
    check(COMBINED);
}

#[test]
fn unknown_keys_are_ignored() {
    check(UNKNOWN_KEYS);
}

#[test]
fn key_constants_are_the_documented_spellings() {
    assert_eq!(AppConfig::WEB_PROTECTION, "WebProtection");
    assert_eq!(AppConfig::SUPERVISED, "issupervised");
    assert_eq!(
        AppConfig::EXCLUDE_URL_IN_REPORT,
        "DefenderExcludeURLInReport"
    );
}

/// A configuration with a non-boolean value, the key and value the error
/// must name.
const BAD_VALUES: &[(&str, &str, &str)] = &[
    (r#"{"WebProtection": "off"}"#, "WebProtection", r#""off""#),
    (r#"{"WebProtection": "yes"}"#, "WebProtection", r#""yes""#),
    (r#"{"WebProtection": ""}"#, "WebProtection", r#""""#),
    (r#"{"webprotection": 0}"#, "webprotection", "0"),
    (r#"{"issupervised": 1}"#, "issupervised", "1"),
    (r#"{"issupervised": null}"#, "issupervised", "null"),
    (r#"{"issupervised": "truee"}"#, "issupervised", r#""truee""#),
    (r#"{"issupervised": [true]}"#, "issupervised", "[true]"),
    (
        r#"{"DefenderExcludeURLInReport": {"value": true}}"#,
        "DefenderExcludeURLInReport",
        r#"{"value":true}"#,
    ),
    // A bad known key is an error even next to good ones.
    (
        r#"{"WebProtection": true, "issupervised": "sometimes"}"#,
        "issupervised",
        r#""sometimes""#,
    ),
];

#[test]
fn bad_values_name_the_key_the_value_and_what_is_accepted() {
    for &(json, key, value) in BAD_VALUES {
        let err = AppConfig::from_json(json).unwrap_err();
        match &err {
            AppConfigError::NotABoolean { key: k, value: v } => {
                assert_eq!((k.as_str(), v.as_str()), (key, value), "{json}");
            }
            other => panic!("{json}: {other:?}"),
        }
        let message = err.to_string();
        assert!(message.starts_with(char::is_lowercase), "{message}");
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.contains(value), "{message}");
        assert!(message.contains("accepts true or false"), "{message}");
    }
}

#[test]
fn a_long_bad_value_is_abbreviated() {
    let long = "x".repeat(10_000);
    let err = AppConfig::from_json(&format!(r#"{{"issupervised": "{long}"}}"#)).unwrap_err();
    let message = err.to_string();
    assert!(message.len() < 300, "{message}");
    assert!(message.contains("..."), "{message}");
}

#[test]
fn conflicting_spellings_are_an_error() {
    let err =
        AppConfig::from_json(r#"{"issupervised": "true", "IsSupervised": false}"#).unwrap_err();
    assert!(
        matches!(&err, AppConfigError::Conflict { key: "issupervised", first, second }
            if first == "IsSupervised" && second == "issupervised"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("`issupervised`") && message.contains("`IsSupervised`"));
}

#[test]
fn not_an_object_is_an_error() {
    for (json, found) in [
        ("[]", "an array"),
        (r#""WebProtection""#, "a string"),
        ("true", "a boolean"),
        ("3", "a number"),
        ("null", "null"),
    ] {
        let err = AppConfig::from_json(json).unwrap_err();
        assert!(
            matches!(err, AppConfigError::NotAnObject { found: f } if f == found),
            "{json}: {err:?}"
        );
        assert!(err.to_string().contains("must be a JSON object"));
    }
}

#[test]
fn invalid_json_is_an_error_with_a_source() {
    for json in ["", "{", "{'WebProtection': true}", "WebProtection=false"] {
        let err = AppConfig::from_json(json).unwrap_err();
        assert!(matches!(err, AppConfigError::Json(_)), "{json}: {err:?}");
        assert!(
            err.to_string()
                .starts_with("the app configuration is not valid JSON")
        );
        assert!(std::error::Error::source(&err).is_some());
    }
}
