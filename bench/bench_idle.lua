-- trivial service for the spawn benchmark: does nothing, stays alive
function main()
	while not os.stopped() do os.wait() end
end
