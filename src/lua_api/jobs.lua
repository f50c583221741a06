-- Job objects, loaded into a service when it starts its first child (see
-- `new_job` in prelude.lua): a table per child, its id and handle (what
-- `job_state` and `job_close` read) kept out of sight. Returns `new_job`.
local job_state, job_close, suspend = ...
local setmetatable, tostring = setmetatable, tostring
local job_ids = setmetatable({}, { __mode = "k" })
local job_handles = setmetatable({}, { __mode = "k" })
local job_meta = {
  __name = "job",
  __index = {
    id = function(job) return job_ids[job] end,
    state = function(job) return job_state(job_handles[job]) end,
    close = function(job) return suspend(job_close(job_handles[job])) end,
  },
  __tostring = function(job) return "job: " .. tostring(job_ids[job]) end,
}

return function(id, handle)
  local job = setmetatable({}, job_meta)
  job_ids[job] = id
  job_handles[job] = handle
  return job
end
