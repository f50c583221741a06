error("chunk raised on purpose")
function main() end
