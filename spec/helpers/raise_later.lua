-- Becomes ready, then raises from main.
function main()
  os.wait(0)
  error("main raised later")
end
