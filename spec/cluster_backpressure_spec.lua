-- Backpressure across a cluster link (docs/cluster.md, "Backpressure"): a
-- node floods a slow node's handler with one-way messages. The slow node's
-- link reader stops while the handler's queue is over its mark, TCP pushes
-- back, the sender's link queue fills to its 8 MiB mark and the sender
-- waits: every message arrives and neither process's memory grows with
-- the flood.
require "skynet"
package.path = "spec/?.lua;lua/?.lua;" .. package.path
local H = require "support.helpers"
local cluster_support = require "support.cluster"

local h = cluster_support.harness()
local MESSAGES, SIZE = 200000, 1024

describe("cluster backpressure", function()
	local master_port

	setup(function()
		master_port = cluster_support.free_port()
		h.start("master.log", ("cluster.master %d 127.0.0.1"):format(master_port))
		assert(h.wait_for("master.log", "cluster.master works on port (%d+)"), h.output("master.log"))
		-- a small mailbox mark, so that the sink's reader stops early
		h.start("sink.log", ("helpers.cluster_sink %d 20"):format(master_port), "SKYNET_MAILBOX_LIMIT=1000")
		assert(h.wait_for("sink.log", "ready"), h.output("sink.log"))
	end)

	teardown(function() h.stop_all() end)

	it(("%d one-way %d-byte messages to a slow remote handler: all arrive, the sender's RSS stays bounded")
		:format(MESSAGES, SIZE), function()
		local status, out, err = H.run_script(([[
			require "skynet"
			local H = require "support.helpers"
			local ok, job = os.pload("cluster.adapter", "127.0.0.1", %d)
			assert(ok, job)
			local payload = string.rep("x", %d)
			local sent = 0
			for _ = 1, %d do sent = sent + rpc.deliver("flood.sink", 0, 0, payload) end
			local t0, count, bytes, sink_peak = os.steady_clock("s"), 0, 0, 0
			repeat
				os.wait(50)
				count, bytes, sink_peak = select(2, pcall("flood.sink.count"))
			until count == %d or os.steady_clock("s") - t0 > 60
			print(sent, count, bytes, H.peak_mib(), sink_peak)
			job:close()
		]]):format(master_port, SIZE, MESSAGES, MESSAGES), "SKYNET_THREADS=2 ", 120)
		assert.are.equal(0, status, "exit status; stderr:\n" .. err)
		local sent, count, bytes, peak, sink_peak = out:match("(%d+)%s+(%d+)%s+(%d+)%s+(%d+)%s+(%d+)")
		assert.are.equal(tostring(MESSAGES), sent, out)
		assert.are.equal(tostring(MESSAGES), count, out)
		assert.are.equal(tostring(MESSAGES * SIZE), bytes, out)
		-- unbounded, the sender would hold the ~200 MB it queued, or the
		-- sink whatever it read ahead of its handler
		assert.is_true(tonumber(peak) < 80, "the sender's peak RSS: " .. peak .. " MiB")
		assert.is_true(tonumber(sink_peak) < 80, "the sink's peak RSS: " .. sink_peak .. " MiB")
	end)
end)
