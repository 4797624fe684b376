# Reports the sandbox it runs in.
{
  echo "id: $(id)"
  if touch /probe 2> /dev/null; then echo "rootfs: writable"; else echo "rootfs: read-only"; fi
  if touch /input/probe 2> /dev/null; then echo "input: writable"; else echo "input: read-only"; fi
  if touch /tmp/probe 2> /dev/null; then echo "tmp: writable"; else echo "tmp: read-only"; fi
  grep '^Cap' /proc/self/status
  grep '^NoNewPrivs' /proc/self/status
  echo "interfaces: $(ls /sys/class/net | tr '\n' ' ')"
  echo "fsize: $(ulimit -f)"
  echo "pid1: $(cat /proc/1/comm)"
} > /output/whoami.txt
exit 0
