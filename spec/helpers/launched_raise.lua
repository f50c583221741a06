-- Run by the launcher specs: main raises.
function main() error("launched main failed") end
