# Points /output/metrics.json at a file outside /output (on the host, that is a host file).
ln -s /etc/passwd /output/metrics.json
exit 0
