//! The two ways a YAML file of the rules folder (settings, suppressions) fails
//! before its content is looked at: it cannot be read, or it does not parse.

/// A YAML file could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum YamlFileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// YAML syntax, unknown key or wrong type.
    #[error("{path}: {source}")]
    Yaml {
        /// The file.
        path: String,
        /// serde_yaml's message (names unknown keys).
        source: serde_yaml::Error,
    },
}

/// Reads a file's text, naming the file in the error.
pub fn read_text(path: &std::path::Path) -> Result<String, YamlFileError> {
    std::fs::read_to_string(path).map_err(|source| YamlFileError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Parses YAML text; `path` names it in the error.
pub fn parse<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, YamlFileError> {
    serde_yaml::from_str(text).map_err(|source| YamlFileError::Yaml {
        path: path.to_string(),
        source,
    })
}
