# Looks everywhere it can for data it should not see and reports what it found.
# The marker is built at run time so this script itself does not contain it.
marker="LAI_SECRET_""MARKER"
found=/tmp/found.txt
{
  echo "== files"
  find / \( -path /proc -o -path /sys -o -path /dev -o -path /output \) -prune -o -print 2> /dev/null
  echo "== /input/.."
  ls -la /input/.. 2>&1
  echo "== marker"
  grep -r -l "$marker" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev \
    --exclude-dir=output 2> /dev/null
  echo "== end"
  echo "== mounts"
  cat /proc/self/mountinfo
} > "$found"
cp "$found" /output/found.txt
exit 0
