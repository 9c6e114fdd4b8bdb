// tailcar: the executable. Arguments and environment in, validated configuration out, then run.
import TailcarCore

print("tailcar")
