//! The forest plot's layout choices as the command line and the manifest give them: evident's
//! own layout or RevMan 5's (Review Manager 5.4 User Guide, "Forest plots"), and the names of
//! the two arms.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// Which forest layout is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForestLayout {
    /// evident's own: estimates and weights right of the panel.
    #[default]
    Standard,
    /// RevMan 5's: events and totals per arm, weights and estimates left of the panel, the
    /// method in the headers, Total rows and RevMan's test lines.
    Revman,
}

/// `standard` or `revman` (`revman5` too), case-insensitively.
impl FromStr for ForestLayout {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Ok(ForestLayout::Standard),
            "revman" | "revman5" => Ok(ForestLayout::Revman),
            _ => Err(Error::invalid(format!(
                "unknown forest layout '{s}': expected standard or revman"
            ))),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ForestLayout {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The names of the two arms over the data columns (first the experimental arm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arms(pub String, pub String);

impl Default for Arms {
    fn default() -> Self {
        Arms("Experimental".into(), "Control".into())
    }
}

impl Arms {
    /// Two names, each trimmed and not empty.
    pub fn new(first: &str, second: &str, given: &dyn fmt::Display) -> Result<Arms> {
        let (a, b) = (first.trim(), second.trim());
        if a.is_empty() || b.is_empty() {
            return Err(Error::invalid(format!(
                "the arms need two names, \"FIRST,SECOND\" (e.g. \"Tacrolimus,Control\"), got {given}"
            )));
        }
        Ok(Arms(a.to_string(), b.to_string()))
    }

    /// The names as the plots take them.
    pub fn pair(&self) -> (&str, &str) {
        (&self.0, &self.1)
    }
}

/// "FIRST,SECOND", e.g. "Tacrolimus,Control".
impl FromStr for Arms {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once(',') {
            Some((a, b)) if !b.contains(',') => Arms::new(a, b, &format_args!("'{s}'")),
            _ => Err(Error::invalid(format!(
                "the arms need two names separated by a comma, \"FIRST,SECOND\" (e.g. \
                 \"Tacrolimus,Control\"), got '{s}'"
            ))),
        }
    }
}

/// A string "FIRST,SECOND" or a list of two strings.
impl<'de> serde::Deserialize<'de> for Arms {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Arms;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the two arms' names, \"FIRST,SECOND\" or [\"FIRST\", \"SECOND\"]")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<Arms, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Arms, A::Error> {
                let mut names: Vec<String> = Vec::new();
                while let Some(n) = seq.next_element::<String>()? {
                    names.push(n);
                }
                let given = format_args!("a list of {} names", names.len());
                match names.as_slice() {
                    [a, b] => Arms::new(a, b, &format_args!("[{a:?}, {b:?}]")),
                    _ => Arms::new("", "", &given),
                }
                .map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_arms_parse_as_the_command_line_gives_them() {
        assert_eq!(
            " RevMan5".parse::<ForestLayout>().unwrap(),
            ForestLayout::Revman
        );
        assert_eq!(
            "standard".parse::<ForestLayout>().unwrap(),
            ForestLayout::Standard
        );
        assert!("forest".parse::<ForestLayout>().is_err());
        let a: Arms = " Tacrolimus , Control".parse().unwrap();
        assert_eq!(a.pair(), ("Tacrolimus", "Control"));
        for bad in ["Tacrolimus", "A,", ",B", "A,B,C"] {
            let e = bad.parse::<Arms>().unwrap_err().to_string();
            assert!(e.contains("FIRST,SECOND") && e.contains(bad), "{e}");
        }
        assert_eq!(Arms::default().pair(), ("Experimental", "Control"));
    }
}
