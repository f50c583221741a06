-- echo service: "bench.echo"(i) returns i
function main()
	rpc.create("bench.echo", function(i) return i end)
	while not os.stopped() do os.wait() end
end
