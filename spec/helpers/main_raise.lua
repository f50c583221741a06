function main() error("main raised on purpose") end
