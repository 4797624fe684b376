# Grow a shell variable by doubling, as a program loading too much would, until the
# memory cgroup kills it (State.OOMKilled). A 32 MB limit is reached in ~20 steps.
x=0123456789abcdef
i=0
while true; do
  x="$x$x"
  i=$((i + 1))
  echo "size 2^$i x 16 bytes"
done
