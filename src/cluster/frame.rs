//! The messages nodes exchange over a link, and their bytes.
//!
//! Every frame is one WebSocket binary message holding one MessagePack map
//! with string keys, i.e. exactly what `wrap{what = ..., ...}` produces in
//! Lua, so a Lua peer (or a test) can read and write them with
//! `wrap`/`unwrap`. Blobs that already are `wrap`ped values (call
//! arguments, reply values) travel as MessagePack `bin` and are never
//! decoded by the link: they go to the receiving service as they are.
//!
//! Decoding trusts nothing: lengths are checked against the bytes left,
//! only the value types we expect are accepted, a map has at most
//! [`MAX_FIELDS`] entries and integers must fit their field. Any failure is
//! an error string; the caller closes the link (a peer that sends bad
//! frames is broken or hostile, and there is no way to resynchronise).
//! Unknown keys in a known message are ignored, an unknown `what` is not.

use crate::runtime::message::{Failure, ServiceId, Session};

/// A frame with more map entries than this is refused.
pub const MAX_FIELDS: usize = 16;

/// The longest address, nonce or proof accepted (they are far shorter).
const MAX_TEXT: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Service `caller` of the sender hosts public name `name`.
    Bind { name: String, caller: ServiceId },
    /// ... no longer.
    Unbind { name: String, caller: ServiceId },
    /// The sender has sent a `bind` for each of its public names (sent once
    /// per link, right after them; see `links.rs` for the order). `node`:
    /// the sender's member id (given by the master), `addr`: where it
    /// listens for links (`"ip:port"`); both are what `cluster.event` reports.
    Ready { node: u32, addr: String },
    /// The sender is leaving the cluster: a clean end of the link.
    Leave,
    /// Key handshake, accepting side: prove you hold the key for this nonce.
    Challenge { nonce: String },
    /// Key handshake: the connector's answer (with its own nonce), then the
    /// acceptor's (without one). See `handshake.rs`.
    Proof { nonce: Option<String>, proof: String },
    /// A call of `name` on the receiver's service `who`, from the sender's
    /// service `caller`; `rcf == 0`: one-way, else answer session `sn`.
    Deliver { name: String, argv: Vec<u8>, mask: i64, who: ServiceId, caller: ServiceId, rcf: u32, sn: Session },
    /// The answer to session `sn` of the receiver's service `caller`;
    /// `data = wrap(true|false, results...)`. `fail` (key present only then):
    /// the sender's runtime failed the call (`Failure::code`), e.g. no such
    /// name or the callee ended; an unknown code is read as none.
    Response { data: Vec<u8>, caller: ServiceId, rcf: u32, sn: Session, fail: Option<Failure> },
}

// ---- encoding -----------------------------------------------------------------

fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    // Infallible on a Vec for lengths < 4 GiB; frames are far smaller.
    let _ = rmp::encode::write_str_len(buf, s.len() as u32);
    buf.extend_from_slice(s);
}

fn put_bin(buf: &mut Vec<u8>, b: &[u8]) {
    let _ = rmp::encode::write_bin_len(buf, b.len() as u32);
    buf.extend_from_slice(b);
}

fn put_int(buf: &mut Vec<u8>, key: &str, v: i64) {
    put_str(buf, key.as_bytes());
    crate::codec::wrap::write_int(buf, v);
}

fn put_field_str(buf: &mut Vec<u8>, key: &str, v: &[u8]) {
    put_str(buf, key.as_bytes());
    put_str(buf, v);
}

fn put_field_bin(buf: &mut Vec<u8>, key: &str, v: &[u8]) {
    put_str(buf, key.as_bytes());
    put_bin(buf, v);
}

/// `{what="deliver", ...}` without building a [`Frame`] (the hot path:
/// the payload is copied once, into the frame).
pub fn deliver(name: &str, argv: &[u8], mask: i64, who: ServiceId, caller: ServiceId, rcf: u32, sn: Session) -> Vec<u8> {
    let mut buf = Vec::with_capacity(argv.len() + name.len() + 64);
    buf.push(0x88);
    put_field_str(&mut buf, "what", b"deliver");
    put_field_str(&mut buf, "name", name.as_bytes());
    put_field_bin(&mut buf, "argv", argv);
    put_int(&mut buf, "mask", mask);
    put_int(&mut buf, "who", who as i64);
    put_int(&mut buf, "caller", caller as i64);
    put_int(&mut buf, "rcf", rcf as i64);
    put_int(&mut buf, "sn", sn as i64);
    buf
}

/// `{what="response", ...}`.
pub fn response(data: &[u8], caller: ServiceId, rcf: u32, sn: Session, fail: Option<Failure>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(data.len() + 56);
    buf.push(if fail.is_some() { 0x86 } else { 0x85 });
    put_field_str(&mut buf, "what", b"response");
    put_field_bin(&mut buf, "data", data);
    put_int(&mut buf, "caller", caller as i64);
    put_int(&mut buf, "rcf", rcf as i64);
    put_int(&mut buf, "sn", sn as i64);
    if let Some(fail) = fail {
        put_int(&mut buf, "fail", i64::from(fail.code()));
    }
    buf
}

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Frame::Bind { name, caller } | Frame::Unbind { name, caller } => {
                let what: &[u8] = if matches!(self, Frame::Bind { .. }) { b"bind" } else { b"unbind" };
                let mut buf = Vec::with_capacity(name.len() + 32);
                buf.push(0x83);
                put_field_str(&mut buf, "what", what);
                put_field_str(&mut buf, "name", name.as_bytes());
                put_int(&mut buf, "caller", *caller as i64);
                buf
            }
            Frame::Ready { node, addr } => {
                let mut buf = vec![0x83];
                put_field_str(&mut buf, "what", b"ready");
                put_int(&mut buf, "node", i64::from(*node));
                put_field_str(&mut buf, "addr", addr.as_bytes());
                buf
            }
            Frame::Leave => {
                let mut buf = vec![0x81];
                put_field_str(&mut buf, "what", b"leave");
                buf
            }
            Frame::Challenge { nonce } => {
                let mut buf = vec![0x82];
                put_field_str(&mut buf, "what", b"challenge");
                put_field_str(&mut buf, "nonce", nonce.as_bytes());
                buf
            }
            Frame::Proof { nonce, proof } => {
                let mut buf = vec![if nonce.is_some() { 0x83 } else { 0x82 }];
                put_field_str(&mut buf, "what", b"proof");
                if let Some(nonce) = nonce {
                    put_field_str(&mut buf, "nonce", nonce.as_bytes());
                }
                put_field_str(&mut buf, "proof", proof.as_bytes());
                buf
            }
            Frame::Deliver { name, argv, mask, who, caller, rcf, sn } => {
                deliver(name, argv, *mask, *who, *caller, *rcf, *sn)
            }
            Frame::Response { data, caller, rcf, sn, fail } => response(data, *caller, *rcf, *sn, *fail),
        }
    }

    /// Decodes one frame; the error says what was wrong (for the log).
    pub fn decode(bytes: &[u8]) -> Result<Frame, String> {
        let mut r = Reader { data: bytes, pos: 0 };
        let n = r.map_len()?;
        if n > MAX_FIELDS {
            return Err(format!("frame with {n} fields"));
        }
        let mut f = Fields::default();
        for _ in 0..n {
            let key = r.string()?;
            match key {
                b"what" => f.what = Some(r.string()?),
                b"name" => f.name = Some(r.string()?),
                b"argv" => f.argv = Some(r.string()?),
                b"data" => f.data = Some(r.string()?),
                b"mask" => f.mask = Some(r.int()?),
                b"who" => f.who = Some(r.int()?),
                b"caller" => f.caller = Some(r.int()?),
                b"rcf" => f.rcf = Some(r.int()?),
                b"sn" => f.sn = Some(r.int()?),
                b"fail" => f.fail = Some(r.int()?),
                b"node" => f.node = Some(r.int()?),
                b"addr" => f.addr = Some(r.string()?),
                b"nonce" => f.nonce = Some(r.string()?),
                b"proof" => f.proof = Some(r.string()?),
                _ => r.skip_scalar()?,
            }
        }
        if r.pos != bytes.len() {
            return Err("trailing bytes after frame".into());
        }
        let what = f.what.ok_or("frame without 'what'")?;
        match what {
            b"bind" | b"unbind" => {
                let name = f.name()?;
                let caller = f.service("caller", f.caller)?;
                Ok(if what == b"bind" { Frame::Bind { name, caller } } else { Frame::Unbind { name, caller } })
            }
            b"ready" => Ok(Frame::Ready {
                node: match f.node {
                    Some(n @ 1..=0xFFFF_FFFF) => n as u32,
                    Some(n) => return Err(format!("'node' out of range: {n}")),
                    None => return Err("frame without 'node'".into()),
                },
                addr: f.text("addr", f.addr)?.ok_or("frame without 'addr'")?,
            }),
            b"leave" => Ok(Frame::Leave),
            b"challenge" => Ok(Frame::Challenge { nonce: f.text("nonce", f.nonce)?.ok_or("challenge without 'nonce'")? }),
            b"proof" => Ok(Frame::Proof {
                nonce: f.text("nonce", f.nonce)?,
                proof: f.text("proof", f.proof)?.ok_or("proof without 'proof'")?,
            }),
            b"deliver" => Ok(Frame::Deliver {
                name: f.name()?,
                argv: f.argv.ok_or("deliver without 'argv'")?.to_vec(),
                mask: f.mask.unwrap_or(0),
                who: f.service("who", f.who)?,
                caller: f.service("caller", f.caller)?,
                rcf: f.u32("rcf", f.rcf)?,
                sn: f.u32("sn", f.sn)?,
            }),
            b"response" => Ok(Frame::Response {
                data: f.data.ok_or("response without 'data'")?.to_vec(),
                caller: f.service("caller", f.caller)?,
                rcf: f.u32("rcf", f.rcf)?,
                sn: f.u32("sn", f.sn)?,
                fail: f.fail.and_then(|code| u8::try_from(code).ok()).and_then(Failure::from_code),
            }),
            other => Err(format!("unknown message '{}'", String::from_utf8_lossy(other))),
        }
    }
}

#[derive(Default)]
struct Fields<'a> {
    what: Option<&'a [u8]>,
    name: Option<&'a [u8]>,
    argv: Option<&'a [u8]>,
    data: Option<&'a [u8]>,
    mask: Option<i64>,
    who: Option<i64>,
    caller: Option<i64>,
    rcf: Option<i64>,
    sn: Option<i64>,
    fail: Option<i64>,
    node: Option<i64>,
    addr: Option<&'a [u8]>,
    nonce: Option<&'a [u8]>,
    proof: Option<&'a [u8]>,
}

impl Fields<'_> {
    fn name(&self) -> Result<String, String> {
        let name = self.name.ok_or("frame without 'name'")?;
        if name.is_empty() {
            return Err("empty name".into());
        }
        String::from_utf8(name.to_vec()).map_err(|_| "name is not UTF-8".to_string())
    }

    /// A short UTF-8 text field, if present.
    fn text(&self, key: &str, v: Option<&[u8]>) -> Result<Option<String>, String> {
        let Some(v) = v else { return Ok(None) };
        if v.len() > MAX_TEXT {
            return Err(format!("'{key}' too long"));
        }
        String::from_utf8(v.to_vec()).map(Some).map_err(|_| format!("'{key}' is not UTF-8"))
    }

    /// A service id of the peer's or ours: `1..=0xFFFF`.
    fn service(&self, key: &str, v: Option<i64>) -> Result<ServiceId, String> {
        match v {
            Some(id @ 1..=0xFFFF) => Ok(id as ServiceId),
            Some(id) => Err(format!("'{key}' out of range: {id}")),
            None => Err(format!("frame without '{key}'")),
        }
    }

    fn u32(&self, key: &str, v: Option<i64>) -> Result<u32, String> {
        let v = v.unwrap_or(0);
        u32::try_from(v).map_err(|_| format!("'{key}' out of range: {v}"))
    }
}

/// A read position in untrusted bytes.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

fn truncated() -> String {
    "truncated frame".into()
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(truncated)?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    fn map_len(&mut self) -> Result<usize, String> {
        match self.byte()? {
            m @ 0x80..=0x8f => Ok((m & 0x0f) as usize),
            0xde => Ok(self.be(2)? as usize),
            0xdf => Ok(self.be(4)? as usize),
            m => Err(format!("frame is not a map (0x{m:02x})")),
        }
    }

    /// A `str` or `bin` (Lua peers write strings as `str`, we write blobs as `bin`).
    fn string(&mut self) -> Result<&'a [u8], String> {
        let n = match self.byte()? {
            m @ 0xa0..=0xbf => (m & 0x1f) as usize,
            0xd9 | 0xc4 => self.be(1)? as usize,
            0xda | 0xc5 => self.be(2)? as usize,
            0xdb | 0xc6 => self.be(4)? as usize,
            m => return Err(format!("string expected (0x{m:02x})")),
        };
        self.take(n)
    }

    fn int(&mut self) -> Result<i64, String> {
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7f => m as i64,
            0xe0..=0xff => m as i8 as i64,
            0xcc => self.be(1)? as i64,
            0xcd => self.be(2)? as i64,
            0xce => self.be(4)? as i64,
            0xcf => i64::try_from(self.be(8)?).map_err(|_| "integer out of range".to_string())?,
            0xd0 => self.be(1)? as u8 as i8 as i64,
            0xd1 => self.be(2)? as u16 as i16 as i64,
            0xd2 => self.be(4)? as u32 as i32 as i64,
            0xd3 => self.be(8)? as i64,
            m => return Err(format!("integer expected (0x{m:02x})")),
        })
    }

    /// Skips the value of an unknown key: scalars and strings only (a
    /// nested table under an unknown key is refused rather than walked).
    fn skip_scalar(&mut self) -> Result<(), String> {
        let m = *self.data.get(self.pos).ok_or_else(truncated)?;
        match m {
            0xc0 | 0xc2 | 0xc3 => {
                self.pos += 1;
                Ok(())
            }
            0xca => self.take(5).map(|_| ()),
            0xcb => self.take(9).map(|_| ()),
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => self.string().map(|_| ()),
            _ => self.int().map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Frame> {
        vec![
            Frame::Bind { name: "echo".into(), caller: 7 },
            Frame::Unbind { name: "a.b".into(), caller: 0xFFFF },
            Frame::Ready { node: 3, addr: "127.0.0.1:4000".into() },
            Frame::Leave,
            Frame::Challenge { nonce: "ab".repeat(32) },
            Frame::Proof { nonce: Some("cd".repeat(32)), proof: "ef".repeat(32) },
            Frame::Proof { nonce: None, proof: "01".repeat(32) },
            Frame::Deliver {
                name: "x".into(),
                argv: vec![0xff, 0, 1, 2],
                mask: -3,
                who: 2,
                caller: 9,
                rcf: 1,
                sn: u32::MAX,
            },
            Frame::Deliver { name: "y".into(), argv: vec![0; 70_000], mask: 0, who: 1, caller: 1, rcf: 0, sn: 0 },
            Frame::Response { data: vec![0xc3, 0x01], caller: 3, rcf: 1, sn: 12345, fail: None },
            Frame::Response { data: vec![0xc2], caller: 3, rcf: 1, sn: 7, fail: Some(Failure::Cancel) },
        ]
    }

    #[test]
    fn frames_round_trip() {
        for f in all() {
            assert_eq!(Frame::decode(&f.encode()).unwrap(), f);
        }
    }

    #[test]
    fn encoding_is_a_plain_messagepack_map() {
        // {what="leave"} as any MessagePack writer would put it.
        assert_eq!(Frame::Leave.encode(), b"\x81\xa4what\xa5leave");
        let b = Frame::Bind { name: "n".into(), caller: 300 }.encode();
        assert_eq!(b, b"\x83\xa4what\xa4bind\xa4name\xa1n\xa6caller\xcd\x01\x2c");
    }

    #[test]
    fn a_lua_style_frame_is_read() {
        // Lua's wrap writes strings as str and may order keys anyhow; unknown keys are skipped.
        let mut b = vec![0x85];
        for (k, v) in [("caller", None), ("extra", None), ("name", Some("svc")), ("what", Some("bind"))] {
            put_str(&mut b, k.as_bytes());
            match v {
                Some(v) => put_str(&mut b, v.as_bytes()),
                None => b.push(0x05),
            }
        }
        put_str(&mut b, b"flag");
        b.push(0xc3);
        assert_eq!(Frame::decode(&b).unwrap(), Frame::Bind { name: "svc".into(), caller: 5 });
    }

    #[test]
    fn every_truncation_is_refused() {
        for f in all() {
            let bytes = f.encode();
            for cut in 0..bytes.len() {
                assert!(Frame::decode(&bytes[..cut]).is_err(), "{f:?} cut at {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0xc0);
            assert!(Frame::decode(&longer).is_err());
        }
    }

    #[test]
    fn bad_frames_are_refused() {
        let e = |b: &[u8]| Frame::decode(b).unwrap_err();
        assert!(e(b"").contains("truncated"));
        assert!(e(b"hello").contains("not a map"));
        assert!(e(b"\x81\xa4what\xa3foo").contains("unknown message 'foo'"));
        assert!(e(b"\x80").contains("without 'what'"));
        assert!(e(b"\x81\xa4what\x01").contains("string expected"));
        // a map that claims more entries than it has, or too many
        assert!(e(b"\xdf\xff\xff\xff\xff").contains("fields"));
        assert!(e(b"\x83\xa4what\xa4bind\xa4name\xa1n\xa6caller\x00").contains("out of range"));
        assert!(e(b"\x83\xa4what\xa4bind\xa4name\xa1n\xa6caller\xce\x00\x01\x00\x00").contains("out of range"));
        assert!(e(b"\x83\xa4what\xa4bind\xa4name\xa0\xa6caller\x01").contains("empty name"));
        assert!(e(b"\x82\xa4what\xa4bind\xa6caller\x01").contains("without 'name'"));
        // a nested table under an unknown key
        assert!(Frame::decode(b"\x82\xa4what\xa5leave\xa1x\x90").is_err());
        // a ready without the sender's identity, or with node 0
        assert!(e(b"\x81\xa4what\xa5ready").contains("without 'node'"));
        assert!(e(b"\x82\xa4what\xa5ready\xa4node\x00").contains("'node' out of range"));
        assert!(e(b"\x82\xa4what\xa5proof\xa5nonce\xa1x").contains("without 'proof'"));
        // sn must be a u32
        let mut b = deliver("n", b"", 0, 1, 1, 1, 0);
        b.truncate(b.len() - 1);
        b.extend_from_slice(b"\xd0\xff");
        assert!(e(&b).contains("'sn' out of range"));
    }

    proptest::proptest! {
        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = Frame::decode(&bytes);
        }

        #[test]
        fn deliver_round_trips(name in "[a-z.]{1,20}", argv in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
                               mask in proptest::num::i64::ANY, who in 1u32..=0xFFFF, caller in 1u32..=0xFFFF,
                               rcf in proptest::num::u32::ANY, sn in proptest::num::u32::ANY) {
            let f = Frame::Deliver { name, argv, mask, who, caller, rcf, sn };
            proptest::prop_assert_eq!(Frame::decode(&f.encode()).unwrap(), f);
        }
    }
}
