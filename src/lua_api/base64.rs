//! The `base64` table (docs/API.md §15) over the `base64` crate.
//!
//! `encode` writes the standard alphabet with `=` padding and no line
//! breaks. `decode` takes the standard alphabet with or without padding
//! (but a padded input must be padded correctly) and fails with
//! `nil, "invalid base64"` on anything else, including whitespace, the
//! URL-safe alphabet and non-zero trailing bits.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use mlua::{Lua, Result, Table};

use crate::lua_api::args::string_function;
use crate::lua_api::returns::bytes_or_failure;

/// Standard alphabet; writes padding, reads it as optional.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_encode_padding(true).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as padded standard base64.
pub fn encode(data: &[u8]) -> String {
    ENGINE.encode(data)
}

/// Decodes standard base64, padding optional.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    ENGINE.decode(text).ok()
}

pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("encode", string_function(lua, "encode", |lua, data| lua.create_string(encode(&data.as_bytes())))?)?;
    t.raw_set(
        "decode",
        string_function(lua, "decode", |lua, text| {
            bytes_or_failure(lua, decode(&text.as_bytes()).ok_or("invalid base64"))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        // RFC 4648 section 10.
        for (plain, coded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded.as_bytes()).unwrap(), plain.as_bytes());
            assert_eq!(decode(coded.trim_end_matches('=').as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn invalid_input_is_refused() {
        for bad in ["Z", "Zm9v!", "Zm 9v", "Zh==", "-_8=", "Zg==Zg=="] {
            assert!(decode(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn lua_decode_fails_softly() {
        let lua = Lua::new();
        lua.globals().set("base64", create(&lua).unwrap()).unwrap();
        let (v, msg): (mlua::Value, String) = lua.load("return base64.decode('%%%')").eval().unwrap();
        assert!(v.is_nil());
        assert_eq!(msg, "invalid base64");
        let same: bool = lua.load("return base64.decode(base64.encode('\\0\\255x')) == '\\0\\255x'").eval().unwrap();
        assert!(same);
        let n: i64 = lua.load("return select('#', base64.decode('Zm9v'))").eval().unwrap();
        assert_eq!(n, 1);
    }

    mod fuzz {
        //! Never-panic and canonical-form properties; `PROPTEST_CASES` sets the number of cases.
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn decode_never_panics_and_is_the_inverse_of_encode(text in proptest::collection::vec(any::<u8>(), 0..64)) {
                if let Some(bytes) = decode(&text) {
                    let again = encode(&bytes);
                    let text = String::from_utf8_lossy(&text);
                    prop_assert_eq!(again.trim_end_matches('='), text.trim_end_matches('='));
                }
            }

            #[test]
            fn alphabet_soup_never_panics(text in "[A-Za-z0-9+/=_ -]{0,40}") {
                if let Some(bytes) = decode(text.as_bytes()) {
                    let again = encode(&bytes);
                    prop_assert_eq!(again.trim_end_matches('='), text.trim_end_matches('='));
                }
            }

            #[test]
            fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..256)) {
                prop_assert_eq!(decode(encode(&data).as_bytes()), Some(data));
            }
        }
    }
}
