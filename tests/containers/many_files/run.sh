# Writes many files just under the per-file limit, one after another, as fast as it can:
# only a cap on the whole of /output stops that.
i=0
while [ $i -lt 40 ]; do
  head -c 1000000 /dev/zero > /output/part$i.bin 2> /dev/null
  i=$((i + 1))
done
du -sk /output
