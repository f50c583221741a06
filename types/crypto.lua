---@meta

-- `crypto`: digests, HMAC, MurmurHash2, AES-128-ECB and RSA (PKCS#1 v1.5).
-- Hex output is lower-case; a true `raw` gives the binary digest instead.
-- Strings are binary-safe; numbers are accepted where a string is expected.

---@class skynet.crypto
crypto = {}

---The MD5 digest of `str`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param raw? boolean Return the binary digest (default `false`).
---@return string digest
---@nodiscard
function crypto.md5(str, raw) end

---The SHA1 digest of `str`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param raw? boolean Return the binary digest (default `false`).
---@return string digest
---@nodiscard
function crypto.sha1(str, raw) end

---The SHA224 digest of `str`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param raw? boolean Return the binary digest (default `false`).
---@return string digest
---@nodiscard
function crypto.sha224(str, raw) end

---The SHA256 digest of `str`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param raw? boolean Return the binary digest (default `false`).
---@return string digest
---@nodiscard
function crypto.sha256(str, raw) end

---The SHA384 digest of `str`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param raw? boolean Return the binary digest (default `false`).
---@return string digest
---@nodiscard
function crypto.sha384(str, raw) end

---The SHA512 digest of `str`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param raw? boolean Return the binary digest (default `false`).
---@return string digest
---@nodiscard
function crypto.sha512(str, raw) end

---MurmurHash2 of `str` (m = 0x5bd1e995, r = 24, seed 97), bit for bit the
---original skynet's: safe for sharding keys across versions. Not a
---cryptographic hash.
---@param str string
---@return integer hash In 0 .. 2^32-1.
---@nodiscard
function crypto.hash32(str) end

---HMAC (RFC 2104) of a string under a key of any length.
---@class skynet.crypto.hmac
crypto.hmac = {}

---HMAC-MD5 of `str` under `key`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param key string
---@param raw? boolean Return the binary digest (default `false`).
---@return string mac
---@nodiscard
function crypto.hmac.md5(str, key, raw) end

---HMAC-SHA1 of `str` under `key`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param key string
---@param raw? boolean Return the binary digest (default `false`).
---@return string mac
---@nodiscard
function crypto.hmac.sha1(str, key, raw) end

---HMAC-SHA224 of `str` under `key`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param key string
---@param raw? boolean Return the binary digest (default `false`).
---@return string mac
---@nodiscard
function crypto.hmac.sha224(str, key, raw) end

---HMAC-SHA256 of `str` under `key`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param key string
---@param raw? boolean Return the binary digest (default `false`).
---@return string mac
---@nodiscard
function crypto.hmac.sha256(str, key, raw) end

---HMAC-SHA384 of `str` under `key`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param key string
---@param raw? boolean Return the binary digest (default `false`).
---@return string mac
---@nodiscard
function crypto.hmac.sha384(str, key, raw) end

---HMAC-SHA512 of `str` under `key`: lower-case hex, or binary when `raw` is true.
---@param str string
---@param key string
---@param raw? boolean Return the binary digest (default `false`).
---@return string mac
---@nodiscard
function crypto.hmac.sha512(str, key, raw) end

---AES-128-ECB with PKCS#7 padding; the key is the first 16 bytes of `key`.
---**ECB is weak** (equal blocks give equal ciphertext, no IV, no integrity):
---kept for data made by the original skynet; do not use it for new designs.
---@class skynet.crypto.aes
crypto.aes = {}

---Encrypts `str`; the ciphertext is a multiple of 16 bytes (at least one
---block). Raises if `key` is shorter than 16 bytes.
---@param str string
---@param key string At least 16 bytes; only the first 16 are used.
---@return string ciphertext
---@nodiscard
function crypto.aes.encrypt(str, key) end

---Decrypts `str`. Fails with `nil, msg` when `str` is not a non-empty
---multiple of 16 bytes or its padding is wrong (usually a wrong key). Raises
---if `key` is shorter than 16 bytes.
---@param str string
---@param key string At least 16 bytes; only the first 16 are used.
---@return string? plaintext
---@return string? err
---@nodiscard
function crypto.aes.decrypt(str, key) end

---RSA with PKCS#1 v1.5 padding. Keys are PEM text: `RSA PRIVATE KEY`,
---`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY` (needs the password argument),
---`RSA PUBLIC KEY` or `PUBLIC KEY`. An unreadable key, a key of the wrong
---kind, or plaintext longer than the key size - 11 bytes raise
---(`"RSA <op> error: <why>"`).
---@class skynet.crypto.rsa
crypto.rsa = {}

---Signs SHA-1(`str`) with RSASSA-PKCS1-v1_5; deterministic, as long as the
---key size in bytes.
---@param str string
---@param privkey_pem string Private key, PEM.
---@param password? string Password of an `ENCRYPTED PRIVATE KEY`.
---@return string signature
---@nodiscard
function crypto.rsa.sign(str, privkey_pem, password) end

---Whether `sig` is a valid SHA-1 PKCS#1 v1.5 signature of `str` (any bad
---signature is just `false`).
---@param str string
---@param sig string
---@param pubkey_pem string Public key, PEM.
---@return boolean valid
---@nodiscard
function crypto.rsa.verify(str, sig, pubkey_pem) end

---Encrypts one block (`str` at most key size - 11 bytes). With a public key:
---random (type 2) padding. With a private key: signature-style (type 1)
---padding, deterministic; anyone with the public key reads the data.
---@param str string
---@param key_pem string Public or private key, PEM.
---@param password? string Password of an `ENCRYPTED PRIVATE KEY`.
---@return string ciphertext
---@nodiscard
function crypto.rsa.encrypt(str, key_pem, password) end

---The inverse of `encrypt`: a private key removes type 2 padding, a public
---key type 1 padding. Fails with `nil, msg` when `str` is longer than the
---key, not below the modulus, or badly padded.
---@param str string
---@param key_pem string Public or private key, PEM.
---@param password? string Password of an `ENCRYPTED PRIVATE KEY`.
---@return string? plaintext
---@return string? err
---@nodiscard
function crypto.rsa.decrypt(str, key_pem, password) end
