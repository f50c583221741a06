-- A module without main.
local x = 1
