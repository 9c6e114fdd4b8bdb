// tailcar-gen: the load generator (issue 7). Being written.
print("tailcar-gen")
