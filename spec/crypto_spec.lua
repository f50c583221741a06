-- crypto (docs/API.md §16). Every expected value comes from an independent tool run
-- at test time: python3 hashlib/hmac, a Python MurmurHash2 written below, and
-- the openssl CLI (keys are generated fresh by `openssl genrsa`).
require "skynet"
local H = require "support.helpers"

local dir

local function path(name)
  return dir .. "/" .. name
end

local function write(name, data)
  local f = assert(io.open(path(name), "wb"))
  f:write(data)
  f:close()
  return path(name)
end

local function read(name)
  local f = assert(io.open(path(name), "rb"))
  local data = f:read("a")
  f:close()
  return data
end

-- Runs a shell command, returns its stdout; fails the test if it exits non-zero.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>" .. path("stderr"), "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  assert(ok, ("command failed (%s): %s\n%s"):format(tostring(code), cmd, read("stderr")))
  return out
end

local function tohex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- Inputs shared by the digest, hmac, hash32 and aes vectors: empty, every
-- hash32 tail length (len % 4 = 0..3), AES block-boundary sizes, every byte value.
local all_bytes = {}
for i = 0, 255 do all_bytes[#all_bytes + 1] = string.char(i) end
local inputs = {
  "",
  "a",
  "ab",
  "abc",
  "hello!",
  "hello world",
  ("x"):rep(15),
  ("y"):rep(16),
  ("z"):rep(17),
  "The quick brown fox jumps over the lazy dog",
  table.concat(all_bytes),
  table.concat(all_bytes):rep(40),
}
local algorithms = { "md5", "sha1", "sha224", "sha256", "sha384", "sha512" }
local hmac_keys = { "", "key", ("K"):rep(200), "\0\1\2\255" }

setup(function()
  dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  for i, data in ipairs(inputs) do write("in" .. i, data) end
  for i, key in ipairs(hmac_keys) do write("key" .. i, key) end
end)

teardown(function()
  if dir then os.execute("rm -rf " .. dir) end
end)

describe("crypto digests", function()
  -- One line per (algorithm, input): "<alg> <i> <hex>", from python3 hashlib.
  local function python_digests()
    local script = ([[
import hashlib, sys
d = sys.argv[1]
for alg in %q.split():
    for i in range(1, %d + 1):
        data = open(f"{d}/in{i}", "rb").read()
        print(alg, i, hashlib.new(alg, data).hexdigest())
]]):format(table.concat(algorithms, " "), #inputs)
    write("gen_digests.py", script)
    local want = {}
    for alg, i, hex in sh("python3 " .. path("gen_digests.py") .. " " .. dir):gmatch("(%w+) (%d+) (%x+)") do
      want[alg .. i] = hex
    end
    return want
  end

  it("match python3 hashlib in hex and raw form", function()
    local want = python_digests()
    for _, alg in ipairs(algorithms) do
      for i, data in ipairs(inputs) do
        local hex = want[alg .. i]
        assert.is_string(hex)
        assert.are.equal(hex, crypto[alg](data))
        assert.are.equal(hex, crypto[alg](data, false))
        local raw = crypto[alg](data, true)
        assert.are.equal(#hex / 2, #raw)
        assert.are.equal(hex, tohex(raw))
      end
    end
  end)

  it("accept numbers as strings and reject other types", function()
    assert.are.equal(crypto.md5("12"), crypto.md5(12))
    for _, alg in ipairs(algorithms) do
      assert.matches("bad argument #1 to '" .. alg .. "' %(string expected, got no value%)",
        H.error_of(crypto[alg]))
      assert.matches("bad argument #1 to '" .. alg .. "' %(string expected, got table%)",
        H.error_of(crypto[alg], {}))
    end
  end)
end)

describe("crypto.hmac", function()
  it("matches python3 hmac for every algorithm, key size and input", function()
    local script = ([[
import hmac, sys
d = sys.argv[1]
for alg in %q.split():
    for k in range(1, %d + 1):
        key = open(f"{d}/key{k}", "rb").read()
        for i in range(1, %d + 1):
            data = open(f"{d}/in{i}", "rb").read()
            print(alg, k, i, hmac.new(key, data, alg).hexdigest())
]]):format(table.concat(algorithms, " "), #hmac_keys, #inputs)
    write("gen_hmac.py", script)
    local count = 0
    for alg, k, i, hex in sh("python3 " .. path("gen_hmac.py") .. " " .. dir):gmatch("(%w+) (%d+) (%d+) (%x+)") do
      local key, data = hmac_keys[tonumber(k)], inputs[tonumber(i)]
      assert.are.equal(hex, crypto.hmac[alg](data, key))
      assert.are.equal(hex, tohex(crypto.hmac[alg](data, key, true)))
      count = count + 1
    end
    assert.are.equal(#algorithms * #hmac_keys * #inputs, count)
  end)

  it("raises on a missing key", function()
    assert.matches("bad argument #2 to 'sha256' %(string expected, got no value%)",
      H.error_of(crypto.hmac.sha256, "data"))
    assert.matches("bad argument #1 to 'md5' %(string expected, got nil%)",
      H.error_of(crypto.hmac.md5, nil, "key"))
  end)
end)

describe("crypto.hash32", function()
  -- An independent MurmurHash2 (Appleby, seed 97) in Python, written for this spec.
  local murmur_py = [[
import sys
def murmur2(data, seed=97):
    m, mask = 0x5bd1e995, 0xffffffff
    n = len(data)
    h = (seed ^ n) & mask
    i = 0
    while n - i >= 4:
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
        i += 4
    rest = n - i
    if rest == 3: h ^= data[i + 2] << 16
    if rest >= 2: h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h
d = sys.argv[1]
for i in range(1, int(sys.argv[2]) + 1):
    print(i, murmur2(open(f"{d}/in{i}", "rb").read()))
]]

  it("matches a Python MurmurHash2 on every input", function()
    write("gen_murmur.py", murmur_py)
    local out = sh("python3 " .. path("gen_murmur.py") .. " " .. dir .. " " .. #inputs)
    local count = 0
    for i, h in out:gmatch("(%d+) (%d+)") do
      assert.are.equal(math.tointeger(h), crypto.hash32(inputs[tonumber(i)]))
      count = count + 1
    end
    assert.are.equal(#inputs, count)
  end)

  it("matches the C reference (spec/tools/murmur2.c, gcc -O2) on pasted vectors", function()
    assert.are.equal(3397915750, crypto.hash32(""))
    assert.are.equal(3914231485, crypto.hash32("a"))
    assert.are.equal(1413426909, crypto.hash32("abcd"))
    assert.are.equal(2466488910, crypto.hash32("abcde"))
    assert.are.equal(1923318524, crypto.hash32("hello world"))
  end)

  it("returns an integer in 0..2^32-1 and raises on a wrong type", function()
    for _, data in ipairs(inputs) do
      local h = crypto.hash32(data)
      assert.is_true(math.type(h) == "integer" and h >= 0 and h <= 0xffffffff)
    end
    assert.matches("bad argument #1 to 'hash32' %(string expected, got boolean%)",
      H.error_of(crypto.hash32, true))
  end)
end)

describe("crypto.aes", function()
  local key = "0123456789abcdef"
  local key_hex = tohex(key)

  it("encrypts exactly as openssl enc -aes-128-ecb and decrypts its output", function()
    for i, data in ipairs(inputs) do
      local want = sh(("openssl enc -aes-128-ecb -K %s -nosalt -in %s"):format(key_hex, path("in" .. i)))
      assert.are.equal(tohex(want), tohex(crypto.aes.encrypt(data, key)))
      assert.are.equal(data, crypto.aes.decrypt(want, key))
    end
  end)

  it("uses the first 16 bytes of a longer key", function()
    assert.are.equal(crypto.aes.encrypt("data", key), crypto.aes.encrypt("data", key .. "ignored"))
    assert.are.equal("data", crypto.aes.decrypt(crypto.aes.encrypt("data", key .. "x"), key))
  end)

  it("returns nil, msg for data that does not decrypt", function()
    local v, msg = crypto.aes.decrypt("", key)
    assert.is_nil(v)
    assert.matches("length", msg)
    v, msg = crypto.aes.decrypt(("\0"):rep(17), key)
    assert.is_nil(v)
    assert.matches("length", msg)
    -- Wrong key: openssl itself reports "bad decrypt" for this ciphertext.
    local enc = crypto.aes.encrypt("attack at dawn", key)
    write("enc.bin", enc)
    local ok = os.execute(("openssl enc -d -aes-128-ecb -K %s -in %s >/dev/null 2>&1")
      :format(tohex("fedcba9876543210"), path("enc.bin")))
    assert.is_falsy(ok)
    v, msg = crypto.aes.decrypt(enc, "fedcba9876543210")
    assert.is_nil(v)
    assert.matches("padding", msg)
  end)

  it("raises on a short key or wrong types", function()
    assert.matches("16 bytes", H.error_of(crypto.aes.encrypt, "data", "short"))
    assert.matches("16 bytes", H.error_of(crypto.aes.decrypt, ("\0"):rep(16), "short"))
    assert.matches("bad argument #1 to 'encrypt' %(string expected, got nil%)",
      H.error_of(crypto.aes.encrypt, nil, key))
    assert.matches("bad argument #2 to 'decrypt' %(string expected, got no value%)",
      H.error_of(crypto.aes.decrypt, "x"))
  end)
end)

describe("crypto.rsa", function()
  local keys = {}

  setup(function()
    sh("openssl genrsa -traditional -out " .. path("rsa.pem") .. " 2048")
    sh(("openssl pkcs8 -topk8 -nocrypt -in %s -out %s"):format(path("rsa.pem"), path("p8.pem")))
    sh(("openssl pkcs8 -topk8 -in %s -passout pass:s3cret -out %s"):format(path("rsa.pem"), path("p8enc.pem")))
    sh(("openssl rsa -in %s -pubout -out %s"):format(path("rsa.pem"), path("spki.pem")))
    sh(("openssl rsa -in %s -RSAPublicKey_out -out %s"):format(path("rsa.pem"), path("pkcs1pub.pem")))
    keys.pkcs1 = read("rsa.pem")
    keys.pkcs8 = read("p8.pem")
    keys.pkcs8enc = read("p8enc.pem")
    keys.spki = read("spki.pem")
    keys.pkcs1pub = read("pkcs1pub.pem")
    assert.matches("BEGIN RSA PRIVATE KEY", keys.pkcs1)
    assert.matches("BEGIN PRIVATE KEY", keys.pkcs8)
    assert.matches("BEGIN ENCRYPTED PRIVATE KEY", keys.pkcs8enc)
    assert.matches("BEGIN PUBLIC KEY", keys.spki)
    assert.matches("BEGIN RSA PUBLIC KEY", keys.pkcs1pub)
  end)

  -- Each private key format with the password it needs (nil when plain).
  local function private_keys()
    return { { keys.pkcs1 }, { keys.pkcs8 }, { keys.pkcs8enc, "s3cret" } }
  end

  local message = "message to sign \0 with a zero byte"

  it("return exactly the documented values (select('#'))", function()
    local n = function(...) return select("#", ...) end
    local sig = crypto.rsa.sign("x", keys.pkcs1)
    assert.are.equal(1, n(sig))
    assert.are.equal(1, n(crypto.rsa.verify("x", sig, keys.spki)))
    local enc = crypto.rsa.encrypt("x", keys.spki)
    assert.are.equal(1, n(enc))
    assert.are.equal(1, n(crypto.rsa.decrypt(enc, keys.pkcs1)))
    assert.are.equal(2, n(crypto.rsa.decrypt(enc, keys.spki)))
    assert.are.equal(2, n(crypto.rsa.decrypt("short", keys.pkcs1)))
  end)

  describe("sign / verify", function()
    it("makes signatures that openssl dgst -sha1 -verify accepts, equal for every key format", function()
      write("msg", message)
      local first
      for _, k in ipairs(private_keys()) do
        local sig = crypto.rsa.sign(message, k[1], k[2])
        assert.are.equal(256, #sig)
        first = first or sig
        assert.are.equal(first, sig)
      end
      write("sig.bin", first)
      local out = sh(("openssl dgst -sha1 -verify %s -signature %s %s")
        :format(path("spki.pem"), path("sig.bin"), path("msg")))
      assert.matches("Verified OK", out)
      -- PKCS#1 v1.5 signatures are deterministic: equal to openssl's own.
      sh(("openssl dgst -sha1 -sign %s -out %s %s"):format(path("rsa.pem"), path("osig.bin"), path("msg")))
      assert.are.equal(tohex(read("osig.bin")), tohex(first))
    end)

    it("accepts openssl dgst -sha1 -sign signatures with both public key formats", function()
      write("msg", message)
      sh(("openssl dgst -sha1 -sign %s -out %s %s"):format(path("rsa.pem"), path("osig.bin"), path("msg")))
      local sig = read("osig.bin")
      for _, pub in ipairs({ keys.spki, keys.pkcs1pub }) do
        assert.is_true(crypto.rsa.verify(message, sig, pub))
        assert.is_false(crypto.rsa.verify(message .. "!", sig, pub))
        assert.is_false(crypto.rsa.verify(message, sig:sub(2), pub))
        assert.is_false(crypto.rsa.verify(message, sig:sub(1, -2) .. "\0", pub))
        assert.is_false(crypto.rsa.verify(message, "", pub))
      end
    end)

    it("raises on bad keys and wrong types", function()
      assert.matches("bad argument #1 to 'sign' %(string expected, got nil%)",
        H.error_of(crypto.rsa.sign, nil, keys.pkcs1))
      assert.matches("bad argument #2 to 'sign' %(string expected, got no value%)",
        H.error_of(crypto.rsa.sign, "x"))
      assert.matches("bad argument #3 to 'sign' %(string expected, got table%)",
        H.error_of(crypto.rsa.sign, "x", keys.pkcs8enc, {}))
      assert.matches("bad argument #3 to 'verify' %(string expected, got no value%)",
        H.error_of(crypto.rsa.verify, "x", "sig"))
      assert.matches("RSA sign error", H.error_of(crypto.rsa.sign, "x", keys.spki))
      assert.matches("RSA sign error", H.error_of(crypto.rsa.sign, "x", "garbage"))
      assert.matches("password", H.error_of(crypto.rsa.sign, "x", keys.pkcs8enc))
      assert.matches("RSA sign error", H.error_of(crypto.rsa.sign, "x", keys.pkcs8enc, "wrong"))
      assert.matches("RSA verify error", H.error_of(crypto.rsa.verify, "x", "sig", keys.pkcs1))
      local garbage = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n"
      assert.matches("RSA verify error", H.error_of(crypto.rsa.verify, "x", "sig", garbage))
    end)
  end)

  describe("public-key encrypt / private-key decrypt", function()
    it("encrypts so that openssl pkeyutl -decrypt recovers the data", function()
      for _, pub in ipairs({ keys.spki, keys.pkcs1pub }) do
        local enc = crypto.rsa.encrypt(message, pub)
        assert.are.equal(256, #enc)
        assert.are_not.equal(enc, crypto.rsa.encrypt(message, pub)) -- random type 2 padding
        write("enc.bin", enc)
        local out = sh(("openssl pkeyutl -decrypt -inkey %s -in %s"):format(path("rsa.pem"), path("enc.bin")))
        assert.are.equal(message, out)
      end
    end)

    it("decrypts openssl pkeyutl -encrypt output with every private key format", function()
      write("msg", message)
      sh(("openssl pkeyutl -encrypt -pubin -inkey %s -in %s -out %s")
        :format(path("spki.pem"), path("msg"), path("oenc.bin")))
      local enc = read("oenc.bin")
      for _, k in ipairs(private_keys()) do
        assert.are.equal(message, crypto.rsa.decrypt(enc, k[1], k[2]))
      end
    end)
  end)

  describe("private-key encrypt / public-key decrypt (signature-style padding)", function()
    it("equals openssl pkeyutl -sign with raw pkcs1 padding, byte for byte", function()
      write("msg", message)
      local want = sh(("openssl pkeyutl -sign -inkey %s -pkeyopt rsa_padding_mode:pkcs1 -in %s")
        :format(path("rsa.pem"), path("msg")))
      for _, k in ipairs(private_keys()) do
        assert.are.equal(tohex(want), tohex(crypto.rsa.encrypt(message, k[1], k[2])))
      end
    end)

    it("is recovered by openssl pkeyutl -verifyrecover, and we recover openssl's", function()
      local enc = crypto.rsa.encrypt(message, keys.pkcs8)
      write("penc.bin", enc)
      local out = sh(("openssl pkeyutl -verifyrecover -pubin -inkey %s -pkeyopt rsa_padding_mode:pkcs1 -in %s")
        :format(path("spki.pem"), path("penc.bin")))
      assert.are.equal(message, out)
      write("msg", message)
      sh(("openssl pkeyutl -sign -inkey %s -pkeyopt rsa_padding_mode:pkcs1 -in %s -out %s")
        :format(path("rsa.pem"), path("msg"), path("osign.bin")))
      for _, pub in ipairs({ keys.spki, keys.pkcs1pub }) do
        assert.are.equal(message, crypto.rsa.decrypt(read("osign.bin"), pub))
      end
    end)
  end)

  describe("bad input", function()
    it("returns nil, msg when the data does not decrypt", function()
      local by_public = crypto.rsa.encrypt("x", keys.spki)
      local by_private = crypto.rsa.encrypt("x", keys.pkcs1)
      local cases = {
        { by_public, keys.spki },        -- type 2 block read as type 1
        { by_private, keys.pkcs1 },      -- type 1 block read as type 2
        { ("\255"):rep(256), keys.pkcs1 }, -- larger than the modulus
        { ("\1"):rep(257), keys.spki },  -- longer than the key
        { "", keys.pkcs1 },
      }
      for _, case in ipairs(cases) do
        local v, msg = crypto.rsa.decrypt(case[1], case[2])
        assert.is_nil(v)
        assert.matches("RSA decrypt error", msg)
      end
    end)

    it("raises on a key of no known type, an unreadable key or too much data", function()
      assert.matches("key type invalid", H.error_of(crypto.rsa.encrypt, "x", "not a key"))
      assert.matches("key type invalid", H.error_of(crypto.rsa.decrypt, "x", "not a key"))
      local garbage = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
      assert.matches("RSA encrypt error", H.error_of(crypto.rsa.encrypt, "x", garbage))
      assert.matches("RSA decrypt error", H.error_of(crypto.rsa.decrypt, "x", garbage))
      assert.matches("RSA encrypt error", H.error_of(crypto.rsa.encrypt, "x", keys.spki:sub(1, 100)))
      assert.matches("password", H.error_of(crypto.rsa.decrypt, "x", keys.pkcs8enc))
      -- 2048-bit key: at most 256 - 11 bytes per block.
      assert.are.equal(256, #crypto.rsa.encrypt(("a"):rep(245), keys.spki))
      assert.matches("too long", H.error_of(crypto.rsa.encrypt, ("a"):rep(246), keys.spki))
      assert.matches("too long", H.error_of(crypto.rsa.encrypt, ("a"):rep(246), keys.pkcs1))
    end)

    it("raises on wrong argument types", function()
      assert.matches("bad argument #1 to 'encrypt' %(string expected, got table%)",
        H.error_of(crypto.rsa.encrypt, {}, keys.spki))
      assert.matches("bad argument #2 to 'encrypt' %(string expected, got no value%)",
        H.error_of(crypto.rsa.encrypt, "x"))
      assert.matches("bad argument #2 to 'decrypt' %(string expected, got boolean%)",
        H.error_of(crypto.rsa.decrypt, "x", true))
    end)
  end)
end)
