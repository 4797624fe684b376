# Writes far more than the output limit, then lingers: the runner must stop it.
head -c 200000000 /dev/zero > /output/big.bin
echo "head exited with $?"
i=0
while [ $i -lt 200 ]; do
  head -c 65536 /dev/zero > /output/chunk.$i 2> /dev/null
  i=$((i + 1))
done
sleep 600
