-- A short-lived soak service: calls the workers a few times, then ends.
function main(rounds)
  for i = 1, rounds do pcall("soak.call", i) end
end
