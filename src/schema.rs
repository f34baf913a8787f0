//! JSON Schemas of the files plumb reads (`plumb schema`, docs/config.md, "Schemas"), generated
//! from the very types that parse them, so an editor's completion and checks cannot drift from
//! what plumb accepts.

use schemars::JsonSchema;

/// A file kind plumb reads and has a schema for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `plumb.yaml`.
    Config,
    /// A policy file (rules, waivers, checks).
    Policy,
    /// A policy unit-test file (`plumb policy test`).
    PolicyTest,
}

/// The file `plumb init` writes the configuration's schema into, beside plumb.yaml: its
/// `yaml-language-server` comment names it, so an editor finds the schema with no network.
pub const CONFIG_SCHEMA_FILE: &str = "plumb.schema.json";

impl FileKind {
    /// The schema's `title`: which file it describes.
    pub fn title(self) -> &'static str {
        match self {
            FileKind::Config => "plumb.yaml",
            FileKind::Policy => "plumb policy file",
            FileKind::PolicyTest => "plumb policy test file",
        }
    }

    /// The schema as pretty JSON, ending in a newline: the same text every time for the same
    /// plumb, so a committed schema file shows a diff only when plumb's files change.
    pub fn schema_text(self) -> String {
        let schema = match self {
            FileKind::Config => generate::<crate::config::Config>(self),
            FileKind::Policy => crate::policy::rules::json_schema(self),
            FileKind::PolicyTest => crate::policy::testing::json_schema(self),
        };
        format!("{schema:#}\n")
    }
}

/// The draft 2020-12 schema of `T`, titled with the file kind (no `$id`: plumb publishes no URL,
/// and editors find the schema by path).
pub(crate) fn generate<T: JsonSchema>(kind: FileKind) -> serde_json::Value {
    let generated = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    // `$schema` and `title` first, where a reader of the file looks.
    let mut schema = serde_json::Map::new();
    schema.insert("$schema".into(), generated["$schema"].clone());
    schema.insert("title".into(), kind.title().into());
    if let serde_json::Value::Object(fields) = generated {
        for (key, value) in fields {
            schema.entry(key).or_insert(value);
        }
    }
    schema.into()
}
