//! Managed app configuration: the settings an MDM pushes to the app
//! (the README's "Managed app configuration").
//!
//! The MDM delivers a flat JSON object. Three keys matter; each takes a
//! boolean, written as a JSON boolean or as the string `"true"` or `"false"`:
//!
//! | key | field | default | effect |
//! |---|---|---|---|
//! | `WebProtection` | [`web_protection`](AppConfig::web_protection) | `true` | `false`: every lookup answers `none` |
//! | `issupervised` | [`supervised`](AppConfig::supervised) | `false` | `true`: full-URL mode, else domain mode |
//! | `DefenderExcludeURLInReport` | [`exclude_url_in_report`](AppConfig::exclude_url_in_report) | `false` | `true`: reports hide the URL, the host and the indicator value |
//!
//! Choices where the specification is silent:
//!
//! - Keys match in any ASCII case (`webprotection`, `IsSupervised`): MDM
//!   consoles differ in how they spell them, and a setting silently ignored
//!   for its case would be worse than an error. Two spellings of the same key
//!   with different values are an error, since neither can be trusted.
//! - String values match in any case and ignore surrounding white space
//!   (`"TRUE"`, `" false "`). Nothing else is a boolean: not `1`, `"yes"`, or
//!   `null`.
//! - Unknown keys are ignored (the MDM sends settings for other features).
//! - The same key twice with the exact same spelling is resolved by the JSON
//!   parser, as everywhere: the last one wins.

use std::fmt;

use serde_json::Value;

use crate::verdict::Mode;

/// The device settings (the README's "Managed app configuration"), as read from the managed app
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AppConfig {
    /// `WebProtection`, default `true`. When `false`, every lookup answers
    /// `none`.
    pub web_protection: bool,
    /// `issupervised`, default `false`. When `true`, lookups take full URLs
    /// (full mode); otherwise host names only (domain mode).
    pub supervised: bool,
    /// `DefenderExcludeURLInReport`, default `false`. When `true`, reports
    /// omit the URL, the host and the indicator value.
    pub exclude_url_in_report: bool,
}

impl Default for AppConfig {
    /// Web protection on, unsupervised, URLs in reports: what a device with
    /// no managed configuration gets.
    fn default() -> AppConfig {
        AppConfig {
            web_protection: true,
            supervised: false,
            exclude_url_in_report: false,
        }
    }
}

/// A setting this module knows, with the key the MDM sends for it.
#[derive(Clone, Copy)]
struct Setting {
    key: &'static str,
    field: fn(&mut AppConfig) -> &mut bool,
}

const SETTINGS: [Setting; 3] = [
    Setting {
        key: AppConfig::WEB_PROTECTION,
        field: |config| &mut config.web_protection,
    },
    Setting {
        key: AppConfig::SUPERVISED,
        field: |config| &mut config.supervised,
    },
    Setting {
        key: AppConfig::EXCLUDE_URL_IN_REPORT,
        field: |config| &mut config.exclude_url_in_report,
    },
];

impl AppConfig {
    /// The key of [`web_protection`](AppConfig::web_protection).
    pub const WEB_PROTECTION: &'static str = "WebProtection";
    /// The key of [`supervised`](AppConfig::supervised).
    pub const SUPERVISED: &'static str = "issupervised";
    /// The key of [`exclude_url_in_report`](AppConfig::exclude_url_in_report).
    pub const EXCLUDE_URL_IN_REPORT: &'static str = "DefenderExcludeURLInReport";

    /// Reads the managed app configuration, a JSON object (a leading byte
    /// order mark is skipped).
    ///
    /// Keys missing from the object keep their [default](AppConfig::default).
    /// Errors name the problem: text that is not JSON, JSON that is not an
    /// object, a known key whose value is not a boolean, or two spellings of
    /// one key with different values.
    ///
    /// ```
    /// use indset::AppConfig;
    ///
    /// let config = AppConfig::from_json(r#"{"issupervised": "TRUE", "Other": 3}"#)?;
    /// assert!(config.supervised);
    /// assert!(config.web_protection);
    ///
    /// let err = AppConfig::from_json(r#"{"WebProtection": "off"}"#).unwrap_err();
    /// assert!(err.to_string().contains("`WebProtection`"));
    /// # Ok::<(), indset::AppConfigError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<AppConfig, AppConfigError> {
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let value: Value = serde_json::from_str(json)
            .map_err(|inner| AppConfigError::Json(JsonError { inner }))?;
        AppConfig::from_value(&value)
    }

    /// The lookup mode the device uses: [`Mode::Full`] when
    /// [`supervised`](AppConfig::supervised), else [`Mode::Domain`].
    ///
    /// ```
    /// use indset::{AppConfig, Mode};
    ///
    /// assert_eq!(AppConfig::default().mode(), Mode::Domain);
    /// let config = AppConfig::from_json(r#"{"issupervised": true}"#)?;
    /// assert_eq!(config.mode(), Mode::Full);
    /// # Ok::<(), indset::AppConfigError>(())
    /// ```
    pub fn mode(&self) -> Mode {
        if self.supervised {
            Mode::Full
        } else {
            Mode::Domain
        }
    }

    fn from_value(value: &Value) -> Result<AppConfig, AppConfigError> {
        let object = value.as_object().ok_or(AppConfigError::NotAnObject {
            found: kind_of(value),
        })?;
        let mut config = AppConfig::default();
        // The spelling and value each setting was first given with.
        let mut given: [Option<(&str, bool)>; SETTINGS.len()] = [None; SETTINGS.len()];
        for (key, value) in object {
            let Some(index) = SETTINGS
                .iter()
                .position(|setting| setting.key.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            let parsed = parse_bool(value).ok_or_else(|| AppConfigError::NotABoolean {
                key: key.clone(),
                value: abbreviate(value),
            })?;
            if let Some((first, earlier)) = given[index] {
                if earlier != parsed {
                    return Err(AppConfigError::Conflict {
                        key: SETTINGS[index].key,
                        first: first.to_owned(),
                        second: key.clone(),
                    });
                }
            }
            given[index] = Some((key, parsed));
            *(SETTINGS[index].field)(&mut config) = parsed;
        }
        Ok(config)
    }
}

/// `true`, `false`, or a string that says one of them in any case.
fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// What a JSON value is, for messages: `null`, `a boolean`, `an array`...
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value as JSON, cut short so a message stays one readable line.
fn abbreviate(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Why a managed app configuration cannot be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum AppConfigError {
    /// The text is not JSON.
    Json(JsonError),
    /// The JSON is not an object.
    NotAnObject {
        /// What it is instead (`"an array"`, `"a string"`, ...).
        found: &'static str,
    },
    /// A known key has a value that is not a boolean.
    NotABoolean {
        /// The key as written in the configuration.
        key: String,
        /// The value as JSON, abbreviated when long.
        value: String,
    },
    /// Two spellings of the same key have different values.
    Conflict {
        /// The key as documented.
        key: &'static str,
        /// The spelling met first (keys are read in sorted order).
        first: String,
        /// The second spelling.
        second: String,
    },
}

impl fmt::Display for AppConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppConfigError::Json(err) => {
                write!(f, "the app configuration is not valid JSON: {err}")
            }
            AppConfigError::NotAnObject { found } => write!(
                f,
                "the app configuration is {found}; it must be a JSON object of keys \
                 and values, such as {{\"issupervised\": \"true\"}}",
            ),
            AppConfigError::NotABoolean { key, value } => write!(
                f,
                "app configuration key `{key}` has the value {value}; it accepts \
                 true or false, as a JSON boolean or a string in any case",
            ),
            AppConfigError::Conflict { key, first, second } => write!(
                f,
                "app configuration key `{key}` is given twice with different values, \
                 as `{first}` and `{second}`; keep one",
            ),
        }
    }
}

impl std::error::Error for AppConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppConfigError::Json(err) => Some(&err.inner),
            _ => None,
        }
    }
}

/// Where and why a managed app configuration is not JSON. The parser's own
/// error is the [`source`](std::error::Error::source) of the
/// [`AppConfigError`] that holds this.
#[derive(Debug)]
pub struct JsonError {
    inner: serde_json::Error,
}

impl JsonError {
    /// The 1-based line of the first byte the parser could not accept.
    pub fn line(&self) -> usize {
        self.inner.line()
    }

    /// The 1-based column of the first byte the parser could not accept.
    pub fn column(&self) -> usize {
        self.inner.column()
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
