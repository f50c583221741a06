-- Throughput of crypto digests: sha256, md5 and hmac-sha256 in MB/s over a
-- 1 MiB buffer, plus hash32 (MurmurHash2) and aes-128-ecb encrypt.
-- Run: LUA_CPATH="$PWD/build/lib/?.so;;" lua5.4 bench/crypto.lua
-- Prints `RESULT <name> <value> <unit>` lines (higher is better).
require "skynet"

-- Wall time: os.steady_clock once the core provides it; os.clock (CPU time)
-- is a fair stand-in here because the work is single-threaded and CPU-bound.
local clock = os.steady_clock or os.clock

local MiB = 1024 * 1024
local buffer = ("0123456789abcdef"):rep(MiB // 16)

-- Runs f(buffer) until at least `min_seconds` have passed; returns MB/s.
local function throughput(f, min_seconds)
  f(buffer) -- warm up
  local rounds, start = 0, clock()
  local elapsed
  repeat
    f(buffer)
    rounds = rounds + 1
    elapsed = clock() - start
  until elapsed >= min_seconds
  return rounds * #buffer / MiB / elapsed
end

local function report(name, value, unit)
  print(("RESULT %s %.1f %s"):format(name, value, unit))
end

local key = "0123456789abcdef"
report("crypto.sha256", throughput(crypto.sha256, 1), "MB/s")
report("crypto.md5", throughput(crypto.md5, 1), "MB/s")
report("crypto.hmac.sha256", throughput(function(s) return crypto.hmac.sha256(s, key) end, 1), "MB/s")
report("crypto.hash32", throughput(crypto.hash32, 1), "MB/s")
report("crypto.aes.encrypt", throughput(function(s) return crypto.aes.encrypt(s, key) end, 1), "MB/s")

-- Small inputs: call overhead dominates.
local small, n = "hello world", 200000
local start = clock()
for _ = 1, n do crypto.sha256(small) end
report("crypto.sha256_11_bytes", n / (clock() - start), "calls/s")
