describe("require 'skynet'", function()
  it("returns the module table with its version", function()
    local skynet = require "skynet"
    assert.is_table(skynet)
    assert.is_string(skynet.version)
    assert.are.equal(skynet, require "skynet")
  end)
end)
