# Grow a shell variable by doubling until the memory cgroup kills us (OOMKilled).
# (Writing to a tmpfs is not a reliable way: its pages are charged differently.)
x=0123456789abcdef
i=0
while true; do
  x="$x$x"
  i=$((i + 1))
  echo "size 2^$i x 16 bytes"
done
